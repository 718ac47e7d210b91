"""The summary a partner sees before publishing: rows, money, and where each code lands.

Over the real GLA SAP export (tests/fixtures/csv). Expected figures are recomputed here with
the csv module from the file itself, never taken from the adapter's output.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from bluelight.cli import cli

ROOT = Path(__file__).parent.parent.parent
GLA = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
MEMBER = "surrey-police"  # no LOCAL map in the hub's reference data


def gla_rows() -> list[dict[str, str]]:
    with GLA.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def dry_run(tmp_path: Path, mapping: dict[str, object]) -> Result:
    config = tmp_path / "mapping.yaml"
    config.write_text(yaml.safe_dump(mapping))
    return CliRunner().invoke(
        cli,
        ["--state-dir", str(tmp_path / "state"), "adapter", "csv", "--member", MEMBER,
         "--config", str(config), "--dry-run", str(GLA)],
    )  # fmt: skip


def gla_mapping(**changes: object) -> dict[str, object]:
    mapping = yaml.safe_load(GLA_CONFIG.read_text())
    mapping.update(changes)
    return dict(mapping)


def pounds_m(amount: Decimal) -> str:
    return f"£{amount / 1_000_000:,.1f}m"


def test_unmapped_partner_is_told_all_its_spend_would_be_unclassified(tmp_path: Path) -> None:
    result = dry_run(tmp_path, gla_mapping())
    assert result.exit_code == 0, result.output
    rows = gla_rows()
    total = sum(Decimal(r["Amount"]) for r in rows)
    assert f"rows read: {len(rows)}; spend in events: £{total:,.2f}" in result.stderr
    assert f"warning: {pounds_m(total)} (100%) would be unclassified: no LOCAL map for {MEMBER}" in (
        result.stderr
    )
    biggest = max({r["Cost Element"] for r in rows}, key=lambda c: sum(
        Decimal(r["Amount"]) for r in rows if r["Cost Element"] == c))  # fmt: skip
    assert re.search(rf"LOCAL:{biggest} .* -> unclassified", result.stderr)


def test_partner_map_shipped_with_the_mapping_classifies_and_shows_the_rest(tmp_path: Path) -> None:
    own = {"version": 2, "codes": {"544076": "professional-services"}, "prefixes": {"5420": "estates-fm"}}
    result = dry_run(tmp_path, gla_mapping(categories=own))
    assert result.exit_code == 0, result.output
    by_code: dict[str, Decimal] = defaultdict(Decimal)
    for r in gla_rows():
        by_code[r["Cost Element"]] += Decimal(r["Amount"])
    total = sum(by_code.values(), Decimal(0))
    mapped = by_code["544076"] + sum(v for c, v in by_code.items() if c.startswith("5420"))
    share = (total - mapped) / total * 100
    assert re.search(r"LOCAL:544076 .* -> professional-services", result.stderr)
    assert re.search(r"LOCAL:542000 .* -> estates-fm", result.stderr)
    assert (
        f"warning: {pounds_m(total - mapped)} ({share:.0f}%) would be unclassified: "
        f"no rule in {MEMBER} map v2 for these codes"
    ) in result.stderr


def test_an_unknown_category_in_the_partners_map_is_a_config_error(tmp_path: Path) -> None:
    result = dry_run(tmp_path, gla_mapping(categories={"codes": {"544076": "housing-grants"}}))
    assert result.exit_code == 2
    assert "unknown national category 'housing-grants'" in result.output
    assert "professional-services" in result.output  # the known ones are listed


def test_one_supplier_id_with_several_names_is_warned(tmp_path: Path) -> None:
    names: dict[str, set[str]] = defaultdict(set)
    for r in gla_rows():
        names[r["Vendor ID"]].add(r["Vendor Name"])
    shared = {vid: n for vid, n in names.items() if len(n) > 1}
    assert "15050001" in shared  # the SAP one-time vendor of this export
    warned = dry_run(tmp_path, gla_mapping(one_off_supplier_ids=[])).stderr
    for vid, n in shared.items():
        assert f"warning: supplier id {vid} carries {len(n)} names" in warned
    # the shipped mapping lists the one-time vendor ids, so each payee is its own supplier
    assert "carries" not in dry_run(tmp_path, gla_mapping()).stderr


def test_a_missing_header_names_the_field_and_the_files_own_headers(tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(GLA.read_bytes().replace(b",Amount,", b",Value GBP,", 1))
    config = tmp_path / "mapping.yaml"
    config.write_text(GLA_CONFIG.read_text())
    result = CliRunner().invoke(
        cli,
        ["--state-dir", str(tmp_path / "state"), "adapter", "csv", "--member", MEMBER,
         "--config", str(config), "--dry-run", str(renamed)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output  # a configuration error, not rejected rows
    with renamed.open(encoding="utf-8", newline="") as fh:
        own = next(csv.reader(fh))
    assert "names the required column(s) amount (the mapping accepts amount: 'Amount'" in result.stderr
    assert "the file's own headers (line 1) are " + ", ".join(repr(h) for h in own) in result.stderr
    assert "Add the file's name for it to columns.amount in the mapping" in result.stderr


def test_a_config_error_names_the_unknown_key_the_known_ones_and_the_shape(tmp_path: Path) -> None:
    mapping = gla_mapping()
    mapping["columns"] = {**mapping["columns"], "amount": "Amount"}  # type: ignore[dict-item]
    mapping["colums"] = {}
    result = dry_run(tmp_path, mapping)
    assert result.exit_code == 2
    assert "unknown key 'colums' at colums; known keys: source_system, encoding," in result.output
    assert "columns.amount: Input should be a valid list (got 'Amount')" in result.output
    assert "the right shape:" in result.output and 'amount: [Amount, "Amount £"]' in result.output
    assert "Extra inputs are not permitted" not in result.output
