"""`bluelight adapter ... --dry-run` and the commands' usage errors (no broker needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bluelight.cli import cli

ROOT = Path(__file__).parent.parent.parent
CSV = ROOT / "tests" / "fixtures" / "csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
CO_CONFIG = ROOT / "adapters" / "csv" / "examples" / "cabinet-office-25k.yaml"


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), *args])


def test_csv_dry_run_prints_canonical_json_lines(tmp_path: Path) -> None:
    result = run(
        tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG), "--dry-run",
        str(CSV / "odileeds_gla_london_2013-P07.csv"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 317
    first = events[0]
    assert (first["entity_id"], first["member_id"], first["total_net"]) == (
        "5107960135",
        "kent-police",
        "4516218.19",
    )
    assert first["lines"][0]["unit_price"] == "4516218.1900"  # the model's JSON form: 4 places
    assert "total: 317 events printed, 0 rejected, 0 skipped" in result.stderr
    assert not (tmp_path / "state").exists()  # a dry run writes no checkpoint and no rejects file


def test_csv_dry_run_with_rejects_exits_1_and_lists_them_on_stderr(tmp_path: Path) -> None:
    result = run(
        tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(CO_CONFIG), "--dry-run",
        str(CSV / "cabinetoffice_25k_2019-07_rawstyle.csv"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 12
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected ")]
    assert [line.split(":")[1].split()[0] for line in rejected] == ["15", "19", "20"]


def test_policy_applies_in_a_dry_run(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("withhold:\n  purchase-order:\n    - lines[].description\n")
    result = run(
        tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG), "--dry-run",
        "--policy", str(policy), str(CSV / "gla_london_2013-P07_rawstyle.csv"),
    )  # fmt: skip
    descriptions = {
        line["description"] for e in map(json.loads, result.stdout.splitlines()) for line in e["lines"]
    }
    assert descriptions == {"[withheld]"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adapter", "csv", "--member", "kent-police", "x.csv"], "does not exist"),
        (
            ["adapter", "csv", "--member", "kent-police", str(CSV / "gla_london_2013-P07_rawstyle.csv")],
            "needs --config",
        ),
        (
            ["adapter", "csv", "--member", "Kent Police", "--config", str(GLA_CONFIG), str(CSV)],
            "is not a slug",
        ),
        (["adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG)], "at least one PATH"),
        (["publish", "--member", "kent-police", "--family", "invoice", str(CSV / "README.md")], "invoice"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_bad_mapping_and_policy_files_are_usage_errors(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("source_system: x\ncolumns:\n  date: [Date]\n  supplier: [Supplier]\n")
    result = run(tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(mapping), str(CSV))
    assert result.exit_code == 2 and "required field(s) amount" in result.output
    policy = tmp_path / "policy.yaml"
    policy.write_text("withhold:\n  purchase-order:\n    - total_net\n")
    result = run(
        tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG),
        "--policy", str(policy), "--dry-run", str(CSV),
    )  # fmt: skip
    assert result.exit_code == 2 and "'total_net' cannot be withheld" in result.output


def test_a_directory_contributes_its_files_of_the_adapters_kind(tmp_path: Path) -> None:
    result = run(
        tmp_path, "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG),
        "--dry-run", str(CSV),
    )  # fmt: skip
    listed = [s for s in result.stderr.splitlines() if s.startswith("  ") and ".csv:" in s]
    sources = [s.strip().split(":")[0] for s in listed]
    assert [Path(s).name for s in sources] == sorted(p.name for p in CSV.glob("*.csv"))


def test_peppol_and_ocds_are_wired(tmp_path: Path) -> None:
    peppol = run(
        tmp_path, "adapter", "peppol", "--member", "kent-police", "--dry-run",
        str(ROOT / "tests" / "fixtures" / "peppol" / "Order_Example.xml"),
    )  # fmt: skip
    assert peppol.exit_code == 1 and "currency: NOK is not supported" in peppol.stderr  # mapped, then refused
    ocds = run(
        tmp_path, "adapter", "ocds", "--member", "wiltshire-fire", "--dry-run",
        str(ROOT / "tests" / "fixtures" / "ocds" / "cf2025_wiltshire_fire_award_Release30.json"),
    )  # fmt: skip
    assert ocds.exit_code == 0, ocds.output
    families = {e["member_id"] for e in map(json.loads, ocds.stdout.splitlines())}
    assert families == {"wiltshire-fire"}


def test_an_unreachable_broker_is_exit_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--bootstrap", "127.0.0.1:1", "--state-dir", str(tmp_path / "state"),
            "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG),
            str(CSV / "gla_london_2013-P07_rawstyle.csv"),
        ],
    )  # fmt: skip
    assert result.exit_code == 3 and "cannot reach the Kafka cluster" in result.stderr
    assert not list((tmp_path / "state").glob("adapters/*/csv-*.json"))  # no checkpoint claims anything
