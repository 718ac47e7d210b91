"""OCDS files through `bluelight adapter ocds` (the SDK publisher) onto member topics, real broker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from click.testing import CliRunner

from adapters.base import Mapped
from adapters.ocds import read
from bluelight.cli import cli
from schemas.serde import event_from_bytes
from schemas.validate import validate_event
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ocds"
LANCASHIRE = FIXTURES / "bluetail_contracts_finder_ocds-b5fd17raw-18064b23-7b04-4530-8519-587a69fc2282.json"
WILTSHIRE = FIXTURES / "cf2025_wiltshire_fire_award_Release30.json"
SAMPLE = FIXTURES / "sample-data_1.1_ocds-213czf-000-00001.json"  # its supplier's CH number is "11111111.0"


async def create_topics(bootstrap: str, member: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(member_topic(member, f), num_partitions=3, replication_factor=1)
                for f in ("contract", "supplier")
            ]
        )
    finally:
        await admin.close()


async def consume(bootstrap: str, member: str, expected: int) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(topic, key, event as JSON) of every record on the member's contract and supplier topics."""
    topics = [member_topic(member, "contract"), member_topic(member, "supplier")]
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[str, bytes, dict[str, Any]]] = []
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for r in records:
                    assert r.key is not None and r.value is not None
                    event = event_from_bytes(r.value, member)  # decodes and validates as the hub does
                    found.append((tp.topic, r.key, event.model_dump(mode="json")))
            if len(found) >= expected:
                break
        await asyncio.sleep(1)  # anything beyond what was expected would show up now
        for records in (await consumer.getmany(timeout_ms=500)).values():
            found.extend((r.topic, r.key or b"", {}) for r in records)
    finally:
        await consumer.stop()
    return found


def publish(bootstrap: str, state_dir: Path, member: str) -> Any:
    args = ["--bootstrap", bootstrap, "--state-dir", str(state_dir), "adapter", "ocds", "--member", member]
    return CliRunner().invoke(cli, [*args, str(LANCASHIRE), str(WILTSHIRE), str(SAMPLE)])


def without_publish_time(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "published_at"}


def test_ocds_events_reach_the_member_topics_and_a_resend_repeats_their_ids(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    member = f"t-{uuid4().hex[:8]}"
    asyncio.run(create_topics(kafka_bootstrap, member))

    first = publish(kafka_bootstrap, tmp_path / "state-1", member)
    assert first.exit_code == 1, first.output  # 1: some rejects (the sample's Companies House number)
    assert "total: 6 events published, 2 rejected" in first.output

    received = asyncio.run(consume(kafka_bootstrap, member, expected=6))
    assert len(received) == 6
    # What arrived is exactly what the adapter mapped (published_at aside), keyed by entity_id.
    mapped = {
        o.event["event_id"]: o
        for o in read([LANCASHIRE, WILTSHIRE, SAMPLE], member, None)
        if isinstance(o, Mapped)
    }
    for topic, key, event in received:
        expected = mapped[event["event_id"]]
        assert topic == member_topic(member, expected.family)
        assert key == event["entity_id"].encode()
        canonical = validate_event(expected.family, expected.event).model_dump(mode="json")
        assert without_publish_time(event) == without_publish_time(canonical)
    contracts = {e["entity_id"]: e for t, _, e in received if t == member_topic(member, "contract")}
    wiltshire = contracts["ocds-b5fd17-75fdf74e-7aa6-42fe-8132-9793ae1553a7-1"]
    assert (wiltshire["framework_ref"], wiltshire["value"], wiltshire["start_date"]) == (
        "RM6194",
        "173920.00",
        "2024-08-12",
    )
    assert sorted(e["value"] for e in contracts.values()) == ["173920.00", "488000.00", "488000.00"]

    rejects = list((tmp_path / "state-1" / "adapters" / member / "rejects").glob("ocds-*.jsonl"))
    [reject_file] = rejects
    reasons = [json.loads(line)["reason"] for line in reject_file.read_text().splitlines()]
    assert len(reasons) == 2
    assert all("Companies House number '11111111.0' rejected" in r for r in reasons)

    # A fresh machine (no checkpoints, no process memory) sends the same events again: same ids,
    # so the hub counts them as duplicates rather than new versions.
    again = publish(kafka_bootstrap, tmp_path / "state-2", member)
    assert again.exit_code == 1, again.output
    both = asyncio.run(consume(kafka_bootstrap, member, expected=12))
    assert len(both) == 12
    by_id: dict[str, list[dict[str, Any]]] = {}
    for _, _, event in both:
        by_id.setdefault(event["event_id"], []).append(without_publish_time(event))
    assert len(by_id) == 6
    assert all(len(copies) == 2 and copies[0] == copies[1] for copies in by_id.values())
