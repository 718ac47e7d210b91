"""The worker's membership gate: only members of the topology feed the views."""

from __future__ import annotations

import shutil
from pathlib import Path

from streams.members import Members, topology_members

SHIPPED = Path(__file__).parent.parent.parent / "topologies"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_members_of_the_shipped_topology() -> None:
    members = topology_members(None)
    assert "kent-police" in members and "sussex-police" not in members


def test_an_outsider_is_refused_until_plugged_in_then_admitted_without_restart(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "hub.yaml", tmp_path / "hub.yaml")
    shutil.copy(SHIPPED / "members.yaml", tmp_path / "members.yaml")
    clock = Clock()
    gate = Members(lambda: topology_members(tmp_path), clock=clock, refresh_s=5.0)
    assert gate.admits("kent-police")
    assert not gate.admits("sussex-police")
    with (tmp_path / "members.yaml").open("a") as fh:  # what `members add` appends
        fh.write("- id: sussex-police\n  name: Sussex Police\n  sector: police\n")
    clock.now = 1.0
    assert not gate.admits("sussex-police")  # not re-read yet: at most every 5 s
    clock.now = 6.0
    assert gate.admits("sussex-police")


def test_a_broken_members_file_keeps_the_last_good_set(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "hub.yaml", tmp_path / "hub.yaml")
    shutil.copy(SHIPPED / "members.yaml", tmp_path / "members.yaml")
    clock = Clock()
    gate = Members(lambda: topology_members(tmp_path), clock=clock, refresh_s=5.0)
    (tmp_path / "members.yaml").write_text("members: [{id: 'Not An Id'}]\n")
    clock.now = 10.0
    assert not gate.admits("sussex-police") and gate.admits("kent-police")


def test_an_outsider_is_logged_once_a_minute() -> None:
    clock = Clock()
    gate = Members(lambda: frozenset({"kent-police"}), clock=clock)
    assert gate.should_log("x-police") and not gate.should_log("x-police")
    clock.now = 61.0
    assert gate.should_log("x-police")
