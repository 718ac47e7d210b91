"""`bluelight members list` reads the topology named by --dir wherever --dir is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from bluelight.cli import cli
from topologies.model import Member, default_dir, dump_members, write_members


def topology(tmp_path: Path) -> Path:
    shutil.copy(default_dir() / "hub.yaml", tmp_path / "hub.yaml")
    write_members(tmp_path, [Member(id="surrey-police", name="Surrey Police", sector="police")])
    return tmp_path


def test_list_takes_dir_before_or_after_the_subcommand(tmp_path: Path) -> None:
    directory = str(topology(tmp_path))
    before = ["members", "--dir", directory, "list", "--json"]
    after = ["members", "list", "--dir", directory, "--json"]
    for args in (before, after):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert [m["id"] for m in json.loads(result.output)] == ["surrey-police"]


def test_an_empty_contact_is_not_written() -> None:
    text = dump_members([Member(id="surrey-police", name="Surrey Police", sector="police")])
    assert "contact" not in text
    with_contact = dump_members([Member(id="x-police", name="X", sector="police", contact="ops@x.example")])
    assert "contact: ops@x.example" in with_contact
