"""The CSV adapter through the real broker: end to end, checkpoints, a kill -9 midway, a drop folder."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from adapter_kafka import create_member_topics, end_offsets, new_member, read_topic
from click.testing import CliRunner, Result

from adapters.sdk.checkpoint import CheckpointStore
from bluelight.cli import cli
from schemas.models import PurchaseOrder
from schemas.serde import event_from_bytes
from topologies.naming import Family, member_topic

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
CO_CONFIG = ROOT / "adapters" / "csv" / "examples" / "cabinet-office-25k.yaml"
BLUELIGHT = Path(sys.executable).parent / "bluelight"
FAMILY: Family = "purchase-order"


@pytest.fixture
def member(kafka_bootstrap: str) -> str:
    m = new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, m))
    return m


def run_csv(bootstrap: str, state: Path, member: str, config: Path, *paths: Path) -> Result:
    args = ["--bootstrap", bootstrap, "--state-dir", str(state), "adapter", "csv", "--member", member]
    return CliRunner().invoke(cli, [*args, "--config", str(config), *map(str, paths)])


def topic_events(bootstrap: str, member: str) -> list[PurchaseOrder]:
    records = asyncio.run(read_topic(bootstrap, member_topic(member, FAMILY)))
    events = [event_from_bytes(r.value, member, FAMILY) for r in records]
    orders = [e for e in events if isinstance(e, PurchaseOrder)]
    assert len(orders) == len(events)
    return orders


def test_gla_file_end_to_end_and_not_twice(kafka_bootstrap: str, member: str, tmp_path: Path) -> None:
    spend = FIXTURES / "odileeds_gla_london_2013-P07.csv"

    first = run_csv(kafka_bootstrap, tmp_path / "state", member, GLA_CONFIG, spend)

    assert first.exit_code == 0, first.output
    assert "317 events, 0 rejected, 0 skipped" in first.stdout
    events = topic_events(kafka_bootstrap, member)
    assert len(events) == 317 and len({e.entity_id for e in events}) == 317
    [climate] = [e for e in events if e.entity_id == "5107971648"]
    assert (climate.supplier.member_supplier_id, climate.supplier.name) == (
        "10022324",
        "CLIMATE ENERGY SERVICES LTD",
    )
    assert climate.total_net == Decimal("149787.76") and len(climate.lines) == 4
    assert {
        (line.unit, line.classification.scheme.value, line.classification.code) for line in climate.lines
    } == {("LS", "LOCAL", "550010")}
    assert climate.order_date.isoformat() == "2013-10-01" and climate.source_system == "gla-sap"
    with spend.open(newline="") as fh:
        assert sum(e.total_net for e in events) == sum(Decimal(r["Amount"]) for r in csv.DictReader(fh))
    cp = CheckpointStore(tmp_path / "state", member, "csv").load(spend)
    assert cp is not None and cp.complete and cp.position == 317

    again = run_csv(kafka_bootstrap, tmp_path / "state", member, GLA_CONFIG, spend)

    assert again.exit_code == 0 and "unchanged since its last complete run" in again.stdout
    assert sum(asyncio.run(end_offsets(kafka_bootstrap, member_topic(member, FAMILY))).values()) == 317


def test_rejected_rows_go_to_the_rejects_file_and_the_rest_is_published(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    spend = FIXTURES / "cabinetoffice_25k_2019-07_rawstyle.csv"
    rejects = tmp_path / "rejects.jsonl"
    args = ["--bootstrap", kafka_bootstrap, "--state-dir", str(tmp_path / "state"), "adapter", "csv"]
    result = CliRunner().invoke(
        cli, [*args, "--member", member, "--config", str(CO_CONFIG), "--rejects", str(rejects), str(spend)]
    )

    assert result.exit_code == 1, result.output
    assert "12 events, 3 rejected, 5 skipped" in result.stdout and f"rejects in {rejects}" in result.stdout
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["column"], r["kind"]) for r in lines] == [
        (15, None, "row"),
        (19, "Date", "row"),
        (20, "AMOUNT()", "row"),
    ]
    assert "ZENDESK" in lines[0]["raw"] and lines[1]["raw"].startswith("CAB,CABINET OFFICE,32/07/2019")
    on_topic = topic_events(kafka_bootstrap, member)
    assert len(on_topic) == 12
    events = {e.supplier.name: e for e in on_topic}
    assert Counter(e.supplier.name for e in on_topic)["PA CONSULTING GROUP"] == 3  # cancelled + 2 unnumbered
    assert events["BLUESKY INTERNATIONAL LTD"].status.value == "AMENDED"
    assert events["REDACTED"].supplier.member_supplier_id == "REDACTED"


def big_spend_file(path: Path, rows: int) -> None:
    """A GLA-layout file with one payment per row, each its own document number."""
    header = "Vendor ID,Vendor Name,Cost Element,Expenditure Account Code Description,Document No,Amount"
    lines = [header + ",Clearing Date"]
    for i in range(rows):
        vendor, amount = f"1000{i % 97},SUPPLIER {i % 97} LTD", f"{100 + i}.{i % 100:02d}"
        lines.append(f"{vendor},5420{i % 10}0,Consultancy,DOC{i:06d},{amount},2013-10-01")
    path.write_text("\n".join(lines) + "\n")


def test_killed_midway_then_resumed_loses_nothing_and_resends_nothing_checkpointed(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    rows = 20000
    spend = tmp_path / "big.csv"
    big_spend_file(spend, rows)
    state = tmp_path / "state"
    store = CheckpointStore(state, member, "csv")
    command = [
        str(BLUELIGHT), "--bootstrap", kafka_bootstrap, "--state-dir", str(state),
        "adapter", "csv", "--member", member, "--config", str(GLA_CONFIG), "--batch", "100", str(spend),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            cp = store.load(spend) if store.path_for(spend).exists() else None
            if cp is not None and cp.position >= 300:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    killed_at = store.load(spend)
    assert killed_at is not None and not killed_at.complete and 300 <= killed_at.position < rows
    checkpointed = {f"DOC{i:06d}" for i in range(killed_at.position)}  # outcome i = data row i
    after_kill = Counter(e.entity_id for e in topic_events(kafka_bootstrap, member))
    assert checkpointed <= set(after_kill)  # what the checkpoint claims is on the topic

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed after {killed_at.position} rows already acknowledged" in resumed.stdout
    final = Counter(e.entity_id for e in topic_events(kafka_bootstrap, member))
    assert set(final) == {f"DOC{i:06d}" for i in range(rows)}  # nothing lost
    assert all(final[doc] == 1 for doc in checkpointed)  # nothing checkpointed was sent again
    resent = [doc for doc, n in final.items() if n > 1]
    assert all(doc not in checkpointed for doc in resent)  # only the unconfirmed tail may repeat
    done = store.load(spend)
    assert done is not None and done.complete and done.position == rows


def test_drop_folder_publishes_each_new_or_changed_file_once(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    command = [
        str(BLUELIGHT), "--bootstrap", kafka_bootstrap, "--state-dir", str(tmp_path / "state"),
        "adapter", "csv", "--member", member, "--config", str(GLA_CONFIG),
        "--watch", str(drop), "--interval", "0.2",
    ]  # fmt: skip
    topic = member_topic(member, FAMILY)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(asyncio.run(end_offsets(kafka_bootstrap, topic)).values()) >= count:
                return
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        raise AssertionError(f"fewer than {count} events on {topic}")

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shutil.copy(FIXTURES / "gla_london_2013-P07_rawstyle.csv", drop / "a.csv")
        (drop / "notes.txt").write_text("not a csv: ignored")
        wait_for(9)
        shutil.copy(FIXTURES / "odileeds_gla_london_2013-P07.csv", drop / "b.csv")
        wait_for(9 + 317)
        os.utime(drop / "a.csv")  # touched, same content: the checkpoint says done
        time.sleep(1.5)
        assert sum(asyncio.run(end_offsets(kafka_bootstrap, topic)).values()) == 326
    finally:
        proc.send_signal(signal.SIGTERM)  # as a service manager stops it
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err  # stopped cleanly; 1 because a.csv had rejects
    assert "total: 326 events published, 2 rejected, 2 skipped" in out
    assert "a.csv: 9 events, 2 rejected" in out and "b.csv: 317 events" in out, out + err
    assert "a.csv: unchanged since its last complete run" in out


def test_a_changed_file_is_read_again_and_its_resends_are_exact_duplicates(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    spend = tmp_path / "spend.csv"
    shutil.copy(FIXTURES / "gla_london_2013-P07_rawstyle.csv", spend)
    assert run_csv(kafka_bootstrap, tmp_path / "state", member, GLA_CONFIG, spend).exit_code == 1  # 2 rejects
    with spend.open("a") as fh:
        fh.write(
            "10099999,NEW SUPPLIER LTD,542000,Management & Support Consultancy,5107999999,10.00,01/10/2013\n"
        )

    again = run_csv(kafka_bootstrap, tmp_path / "state", member, GLA_CONFIG, spend)

    assert "changed since the last run: read again from the top" in again.stdout
    events = topic_events(kafka_bootstrap, member)
    assert len(events) == 9 + 10
    by_entity: dict[tuple[str, int], set[str]] = {}
    for e in events:
        by_entity.setdefault((e.entity_id, e.entity_version), set()).add(e.event_id)
    assert len(by_entity) == 10  # 9 resent with the same (entity, version) and event id, 1 new
    assert all(len(ids) == 1 for ids in by_entity.values())
    assert Counter(e.entity_id for e in events)["5107999999"] == 1
