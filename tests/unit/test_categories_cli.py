"""`bluelight categories`: map, list, check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from bluelight.cli import cli
from streams.categories import REFERENCE_DIR


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["categories", *args])
    return result.exit_code, result.output


def test_map_prints_category_name_and_rule() -> None:
    code, out = run("map", "CPV", "35815100-1")
    assert code == 0, out
    assert "category: body-armour" in out
    assert "name:     Body armour" in out
    rule = "CPV prefix 35815 (Garments for anti-ballistic protection) → body-armour (reference v1)"
    assert f"rule:     {rule}" in out


def test_map_json() -> None:
    code, out = run("map", "local", "mg-dogs", "--member", "kent-police", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["scheme"] == "LOCAL"
    assert data["category"] == "animals"
    assert data["member"] == "kent-police"
    assert data["rule"].startswith("LOCAL kent-police:MG-DOGS")
    assert data["reference_version"] == 1


def test_map_unmatched_code_says_why() -> None:
    code, out = run("map", "CPV", "3373510", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["category"] == "unclassified"
    assert "7 digits" in data["rule"]


def test_unknown_scheme_is_a_usage_error() -> None:
    code, out = run("map", "NAICS", "339113")
    assert code == 2
    assert "unknown scheme 'NAICS': expected one of CPV, UNSPSC, ECLASS, LOCAL" in out


def test_local_needs_a_member() -> None:
    code, out = run("map", "LOCAL", "MG-FLEET")
    assert code == 2
    assert "pass --member" in out


def test_list_text_and_json() -> None:
    code, out = run("list")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME"]
    assert any(line.startswith("fleet-vehicles ") and "Fleet and vehicles" in line for line in lines)
    code, out = run("list", "--json")
    data = json.loads(out)
    ids = [c["id"] for c in data["categories"]]
    assert ids[-1] == "unclassified"
    assert f"{len(ids)} categories (reference v1)" in run("list")[1]
    assert all(c["description"] for c in data["categories"])


def test_check_summarises_and_refuses_bad_data(tmp_path: Path) -> None:
    code, out = run("check")
    assert code == 0, out
    assert "reference v1" in out and "LOCAL kent-police v1" in out
    broken = tmp_path / "ref"
    shutil.copytree(REFERENCE_DIR, broken, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    cpv = broken / "cpv.yaml"
    cpv.write_text(cpv.read_text().replace('"35815": [body-armour,', '"35815": [kevlar,'))
    code, out = run("check", "--reference", str(broken))
    assert code == 1
    assert "reference data is not valid" in out and "unknown category 'kevlar'" in out
    code, out = run("map", "CPV", "35815100", "--reference", str(broken))
    assert code == 1


def test_help_explains() -> None:
    code, out = run("--help")
    assert code == 0
    assert "longest matching prefix" in out
    assert "bluelight categories map CPV 35815100-1" in out
    assert "\\b" not in out  # click's no-rewrap marker is not printed literally
    assert "\n  Examples:\n    bluelight categories map CPV 35815100-1\n" in out  # one example a line
