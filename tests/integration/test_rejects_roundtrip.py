"""A member reads its own rejects and sends them back fixed, with its own credentials only.

On the secured broker (``secure_kafka``): the topology of this module (members A and B) is
applied as admin; the hub's own routing (streams.route) turns two bad orders of A into dead
letters, written to A's DLQ as the worker writes them. Then, logged in as A through
``bluelight --env-file``: ``bluelight rejects`` lists them with kind, reason, field and origin
(also as CSV); a replay file still wrong is refused whole; the corrected file is sent and lands
on A's topic, where the hub's checks now accept it. A cannot read B's rejects.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from topology_support import BLUELIGHT, make_topology, purchase_order, uid

from bluelight.settings import HubSettings
from deploy.broker import BrokerInfo
from schemas.serde import decode_record, encode_record, event_from_bytes
from streams.canonical import SourceRef
from streams.categories import map_classification, normalise_code
from streams.route import route
from topologies.acl import member_user
from topologies.admin import connect
from topologies.apply import apply_topology
from topologies.model import Member
from topologies.naming import dlq_topic, member_topic

pytestmark = [pytest.mark.kafka, pytest.mark.secure]


@dataclass(frozen=True)
class World:
    settings: HubSettings
    a: str
    b: str
    env_a: Path  # A's own credentials, as `bluelight --env-file` reads them


def bad_orders(member: str) -> dict[str, bytes]:
    """Two orders the hub rejects: a euro order (unsupported) and one whose total is wrong."""
    euro = decode_record(purchase_order(member, "PO-EUR")).record | {"currency": "EUR"}
    total = decode_record(purchase_order(member, "PO-TOTAL")).record
    total["total_net"] = total["total_net"] + 1
    return {
        "PO-EUR": encode_record("purchase-order", euro),
        "PO-TOTAL": encode_record("purchase-order", total),
    }


async def write_dead_letters(settings: HubSettings, member: str) -> None:
    """What the worker does with A's bad orders: read from A's topic, dead-lettered by route()."""
    kafka = settings.kafka.to_aiokafka_kwargs()
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka)
    await producer.start()
    try:
        topic = member_topic(member, "purchase-order")
        for key, value in bad_orders(member).items():
            placed = await producer.send_and_wait(topic, value, key=key.encode())
            source = SourceRef(topic, placed.partition, placed.offset)
            routed = route(source, key.encode(), value, map_classification, normalise_code)
            assert routed.dead_letter is not None, f"{key} was not rejected"
            d = routed.dead_letter
            await producer.send_and_wait(d.topic, d.value, key=d.key, headers=d.headers)
    finally:
        await producer.stop()


@pytest.fixture(scope="module")
def world(secure_kafka: BrokerInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    u = uid()
    a, b = f"r-{u}-police", f"r-{u}-fire"
    workdir = tmp_path_factory.mktemp("rejects")
    directory = make_topology(
        workdir / "topology",
        [Member(id=a, name="Force A", sector="police"), Member(id=b, name="Fire B", sector="fire")],
    )
    settings = secure_kafka.hub_settings(topology_dir=directory)
    _, result = asyncio.run(apply_topology(settings))
    asyncio.run(write_dead_letters(settings, a))
    in_dlq = asyncio.run(end_offsets(settings, dlq_topic(a)))
    assert sum(in_dlq.values()) == 2, f"A's DLQ holds {in_dlq}, not the two dead letters"
    env = {
        **secure_kafka.env,
        "BLUELIGHT_SASL_USERNAME": member_user(a),
        "BLUELIGHT_SASL_PASSWORD": result.passwords[member_user(a)],
    }
    env_a = workdir / "a.env"
    env_a.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    yield World(settings, a, b, env_a)


def bluelight(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUELIGHT_")}
    return subprocess.run(
        [BLUELIGHT, "--env-file", str(world.env_a), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_member_lists_its_rejects_with_kind_reason_field_and_origin(world: World) -> None:
    out = bluelight(world, "rejects", "--member", world.a, "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["entity_id"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert set(rows) == {"PO-EUR", "PO-TOTAL"}, out.stdout + out.stderr
    euro, total = rows["PO-EUR"], rows["PO-TOTAL"]
    assert euro["kind"] == "unsupported" and euro["field"] == "currency" and "GBP" in euro["reason"]
    assert total["kind"] == "validation" and total["field"] == "total_net"
    for r in rows.values():
        assert r["original_topic"] == member_topic(world.a, "purchase-order")
        assert isinstance(r["original_offset"], int) and r["member"] == world.a
        assert r["event"]["entity_id"] == r["entity_id"]

    listed = bluelight(
        world, "rejects", "--member", world.a, "--csv", "--since", "1h", "--kind", "unsupported"
    )
    assert listed.returncode == 0, listed.stderr
    table = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["entity_id"], r["kind"], r["field"]) for r in table] == [("PO-EUR", "unsupported", "currency")]

    text = bluelight(world, "rejects", "--member", world.a)
    assert "PO-TOTAL" in text.stdout and "total_net" in text.stdout


def test_a_member_cannot_read_anothers_rejects(world: World) -> None:
    out = bluelight(world, "rejects", "--member", world.b)
    assert out.returncode == 3, out.stdout + out.stderr
    assert dlq_topic(world.b) in out.stderr


def test_replay_refuses_a_file_still_wrong_and_sends_the_fixed_one(world: World, tmp_path: Path) -> None:
    listed = bluelight(world, "rejects", "--member", world.a, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    unfixed = tmp_path / "unfixed.jsonl"
    unfixed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    refused = bluelight(world, "rejects", "replay", "--member", world.a, str(unfixed))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "unfixed.jsonl:line 1: still rejected" in refused.stderr and "nothing was sent" in refused.stderr

    for r in rows:  # the member's fixes
        if r["kind"] == "unsupported":
            r["event"]["currency"] = "GBP"
        else:
            r["event"]["total_net"] = r["event"]["lines"][0]["line_total"]
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = asyncio.run(end_offsets(world.settings, member_topic(world.a, "purchase-order")))
    sent = bluelight(world, "rejects", "replay", "--member", world.a, str(fixed))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "sent 2 corrected event(s)" in sent.stdout

    arrived = asyncio.run(read_from(world.settings, member_topic(world.a, "purchase-order"), before))
    assert sorted(k for k, _ in arrived) == [b"PO-EUR", b"PO-TOTAL"]
    for _, value in arrived:  # the hub's checks accept them now
        event = event_from_bytes(value, world.a, "purchase-order")
        assert event.member_id == world.a and event.currency == "GBP"


async def end_offsets(settings: HubSettings, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **settings.kafka.to_aiokafka_kwargs())
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(await topic_partitions(settings, topic))]
        return {tp.partition: o for tp, o in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def topic_partitions(settings: HubSettings, topic: str) -> set[int]:
    async with connect(settings.kafka) as admin:
        found = await admin.topics([topic], configs=False)
    return set(range(found[topic].partitions))


async def read_from(settings: HubSettings, topic: str, start: dict[int, int]) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **settings.kafka.to_aiokafka_kwargs())
    await consumer.start()
    out: list[tuple[bytes, bytes]] = []
    try:
        tps = [TopicPartition(topic, p) for p in sorted(start)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, start[tp.partition])
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                out += [(r.key or b"", r.value or b"") for r in records]
    finally:
        await consumer.stop()
    return out
