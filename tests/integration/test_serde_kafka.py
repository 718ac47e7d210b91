"""Events survive the real broker byte for byte, and a plain Avro reader can read what we wrote."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastavro import parse_schema, schemaless_reader

from schemas.models import Event, family_of, to_avro
from schemas.serde import HEADER_SIZE, catalogue, decode_event, encode_event, encode_record, event_from_bytes
from schemas.validate import validate_event
from topologies.naming import FAMILIES, member_topic, parse_member_topic

pytestmark = pytest.mark.kafka

AVRO_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avro"


def sample_events(member: str) -> list[Event]:
    envelope = {
        "member_id": member,
        "source_system": "sap-s4",
        "entity_version": 2,
        "occurred_at": "2026-03-01T09:30:00.125Z",
        "published_at": "2026-03-01T09:31:00Z",
    }
    supplier = {"member_supplier_id": "V-1", "name": "Acme Protective Ltd", "companies_house_number": "sc12"}
    order = envelope | {
        "event_id": str(uuid4()),
        "entity_id": "PO-1",
        "status": "AMENDED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": supplier,
        "contract_ref": "C-7",
        "lines": [
            {
                "line_id": "1",
                "description": "Goggles",
                "quantity": "3",
                "unit": "EA",
                "unit_price": "12.3457",
                "line_total": "37.04",
                "classification": {"scheme": "CPV", "code": "33735100"},
            },
            {
                "line_id": "2",
                "description": "Granules",
                "quantity": "2.5",
                "unit": "KGM",
                "unit_price": "0.0050",
                "line_total": "0.01",
                "item_id": "G-9",
                "classification": {"scheme": "LOCAL", "code": "SPILL"},
            },
        ],
        "total_net": "37.05",
        "buyer_reference": "REQ-778",
    }
    contract = envelope | {
        "event_id": str(uuid4()),
        "entity_id": "C-7",
        "status": "ACTIVE",
        "title": "Protective equipment",
        "supplier": supplier,
        "classification": {"scheme": "CPV", "code": "18143000"},
        "start_date": "2025-04-01",
        "end_date": "2027-03-31",
        "max_extent_date": "2029-03-31",
        "value": "1250000.5",
        "currency": "GBP",
        "framework_ref": "RM6000",
    }
    supplier_event = envelope | {
        "event_id": str(uuid4()),
        "entity_id": "V-1",
        "status": "ACTIVE",
        "legal_name": "Acme Protective Ltd",
        "vat_number": "GB 123 4567 89",
        "postcode": "ME14 1XX",
        "sme": True,
    }
    return [
        validate_event("purchase-order", order),
        validate_event("contract", contract),
        validate_event("supplier", supplier_event),
    ]


@pytest.fixture
async def member(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A fresh member with its three input topics, removed afterwards."""
    name = f"t-{uuid4().hex[:8]}"
    topics = [member_topic(name, f) for f in FAMILIES]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics])
        yield name
        await admin.delete_topics(topics)
    finally:
        await admin.close()


async def consume(bootstrap: str, topics: list[str], count: int) -> list[tuple[str, bytes]]:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got: list[tuple[str, bytes]] = []
    try:
        async with asyncio.timeout(60):
            while len(got) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                for records in batches.values():
                    got.extend((r.topic, r.value) for r in records)
    finally:
        await consumer.stop()
    return got


def plain_read(data: bytes, family: str) -> Any:
    """An independent reader: the .avsc as a file, plain fastavro, the header simply skipped."""
    latest = max(AVRO_DIR.joinpath(family).glob("v*.avsc"), key=lambda p: int(p.stem[1:]))
    schema = parse_schema(json.loads(latest.read_text()))
    return schemaless_reader(io.BytesIO(data[HEADER_SIZE:]), schema, None)


async def test_events_round_trip_through_kafka(kafka_bootstrap: str, member: str) -> None:
    events = sample_events(member)
    old_order = {k: v for k, v in to_avro(events[0]).items() if k != "buyer_reference"}
    messages = [(member_topic(member, family_of(e)), encode_event(e)) for e in events]
    old_bytes = encode_record("purchase-order", old_order, version=1)
    messages.append((member_topic(member, "purchase-order"), old_bytes))

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic, value in messages:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()

    received = await consume(kafka_bootstrap, [t for t, _ in messages[:3]], len(messages))
    assert sorted(received) == sorted(messages), "the broker hands back exactly the bytes written"

    by_family: dict[str, list[bytes]] = {}
    for topic, value in received:
        parsed = parse_member_topic(topic)
        assert parsed is not None and parsed.member == member
        by_family.setdefault(parsed.family, []).append(value)
        event = event_from_bytes(value, parsed.member, family=parsed.family)
        expected = next(e for e in events if family_of(e) == parsed.family)
        if value[2:HEADER_SIZE] == catalogue().get("purchase-order", 1).fingerprint:
            expected = expected.model_copy(update={"buyer_reference": None})
        assert event == expected

    for event in events:
        family = family_of(event)
        latest = catalogue().latest(family).fingerprint
        value = next(v for v in by_family[family] if v[2:HEADER_SIZE] == latest)
        assert value[:2] == b"\xc3\x01"
        assert plain_read(value, family) == to_avro(event)
        assert decode_event(value) == (family, to_avro(event))
