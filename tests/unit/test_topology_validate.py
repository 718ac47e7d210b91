"""Loading and validating topologies: each rule fails on the case it exists for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from topologies import naming, validate
from topologies.desired import desired_state
from topologies.model import Member, TopologyError, dump_members, load_topology, write_members

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "topologies"


def test_shipped_topology_is_valid_and_declares_the_hubs_topics() -> None:
    t = load_topology()
    assert validate.validate(t) == []
    topics = desired_state(t).topics
    for name in (
        naming.hub_topic("canonical"),
        naming.hub_changelog_topic("entity-state"),
        naming.hub_changelog_topic("rejections"),
        naming.faust_leader_topic(),
        *(naming.view_topic(v) for v in naming.VIEWS),
    ):
        assert name in topics, name
    assert {m.sector for m in t.members} == {"police", "fire", "national"}
    for v in naming.VIEWS:
        assert topics[naming.view_topic(v)].config["cleanup.policy"] == "compact"


def test_members_file_round_trips_exactly() -> None:
    text = (Path(naming.__file__).parent / "members.yaml").read_text(encoding="utf-8")
    assert dump_members(load_topology().members) == text


def test_invalid_fixture_lists_every_problem() -> None:
    problems = validate.validate(load_topology(FIXTURES / "invalid"))
    assert "member id 'kent-police' is declared more than once" in problems
    assert any(p.startswith("member member id 'Bad_Id' is not a slug") for p in problems)


def _with(tmp_path: Path, edit: dict[str, object], members: str | None = None) -> Path:
    shutil.copytree(FIXTURES / "before", tmp_path, dirs_exist_ok=True)
    hub = yaml.safe_load((tmp_path / "hub.yaml").read_text())
    for dotted, value in edit.items():
        node = hub
        *path, last = dotted.split("/")
        for key in path:
            node = node[key]
        node[last] = value
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(hub))
    if members is not None:
        (tmp_path / "members.yaml").write_text(members)
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "rule", "expected"),
    [
        ({"plans/input/partitions": 0}, validate.partitions_positive, "partitions must be > 0"),
        (
            {"plans/input/replication_factor": 0},
            validate.replication_positive,
            "replication_factor must be > 0",
        ),
        ({"plans/view/config": {"cleanup.policy": "delete"}}, validate.compacted_where_required, "compact"),
        ({"plans/changelog/config": {}}, validate.compacted_where_required, "hub.tables.entity-state"),
        (
            {"plans/dlq/config": {"retention.ms": 86400000}},
            validate.dead_letters_kept_long,
            "shorter than 30 days",
        ),
        ({"plans/dlq/config": {}}, validate.dead_letters_kept_long, "must set retention.ms"),
        ({"plans/changelog/partitions": 6}, validate.changelogs_match_source, "changelog has 6 partitions"),
        (
            {"plans/input/config": {"retention.msec": 1}},
            validate.known_configs,
            "unknown topic config 'retention.msec'",
        ),
        (
            {"plans/input/config": {"min.insync.replicas": 4}},
            validate.min_isr_within_replication,
            "min.insync",
        ),
        ({"view_plan": "nope"}, validate.plans_exist, "view_plan: plan 'nope' is not defined"),
        ({"hub/app_id": "bluelight-hub"}, validate.hub_app_id_is_named, "differs from naming.HUB_APP_ID"),
        ({"hub/principal": "member-hub"}, validate.hub_principal_distinct, "must be non-empty"),
        ({"subscribers": [{"id": "d", "name": "D", "reads": ["nope"]}]}, validate.slug_ids, "not a slug"),
        (
            {"subscribers": [{"id": "dd", "name": "D", "reads": ["nope"]}]},
            validate.subscribers_read_known_views,
            "reads unknown view 'nope'",
        ),
    ],  # fmt: skip
)
def test_each_rule_catches_its_case(
    tmp_path: Path, edit: dict[str, object], rule: validate.Rule, expected: str
) -> None:
    t = load_topology(_with(tmp_path, edit))
    problems = rule(t)
    assert any(expected in p for p in problems), problems
    assert any(expected in p for p in validate.validate(t))


def test_every_rule_holds_on_the_fixture() -> None:
    t = load_topology(FIXTURES / "before")
    for rule in validate.RULES:
        assert rule(t) == [], rule.__name__


def test_empty_member_name(tmp_path: Path) -> None:
    t = load_topology(_with(tmp_path, {}, "members:\n- {id: aa, name: ' ', sector: police}\n"))
    assert validate.names_given(t) == ["member 'aa' has an empty name"]


def test_load_errors_name_the_file_and_field(tmp_path: Path) -> None:
    path = _with(tmp_path, {}, "members:\n- {id: aa, name: A, sector: ambulance}\n")
    with pytest.raises(TopologyError) as err:
        load_topology(path)
    assert (
        f"{path / 'members.yaml'}: members[0].sector: Input should be 'police', 'fire' or 'national'"
        in str(err.value)
    )
    (path / "hub.yaml").write_text("plans: [unclosed\n")
    with pytest.raises(TopologyError, match="hub.yaml: not valid YAML"):
        load_topology(path)
    with pytest.raises(TopologyError, match="file not found"):
        load_topology(tmp_path / "nowhere")


def test_write_members_replaces_the_file(tmp_path: Path) -> None:
    path = _with(tmp_path, {})
    t = load_topology(path)
    added = t.with_member(Member(id="dorset-fire", name="Dorset Fire", sector="fire", contact="x@y.example"))
    write_members(path, added.members)
    again = load_topology(path)
    assert [m.id for m in again.members] == ["kent-police", "essex-police", "dorset-fire"]
    assert again.member("dorset-fire") == Member(id="dorset-fire", name="Dorset Fire", sector="fire",
                                                 contact="x@y.example")  # fmt: skip
    assert not list(path.glob("*.tmp"))
