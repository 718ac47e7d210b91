"""Helpers for the adapter integration tests: member topics, reading a topic whole."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from topologies.naming import member_topics

PARTITIONS = 3


def new_member() -> str:
    """A member id no other test uses."""
    return f"t-{uuid4().hex[:8]}"


async def create_member_topics(bootstrap: str, member: str) -> None:
    """The member's three input topics, as `members add` would make them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, num_partitions=PARTITIONS, replication_factor=1) for t in member_topics(member)]
        )
    finally:
        await admin.close()


@dataclass(frozen=True)
class Record:
    """One message as it sits on the topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The end offset of every partition of ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        for _ in range(50):  # a topic just created reaches the metadata a moment later (longer under load)
            if parts:
                break
            await consumer._client.force_metadata_update()  # noqa: SLF001 - a topic first seen here
            parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            await asyncio.sleep(0 if parts else 0.2)
        assert parts, f"topic {topic} has no partitions: its end offsets would say nothing either way"
        ends = await consumer.end_offsets(parts)
        return {tp.partition: off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[Record]:
    """Everything on ``topic`` up to its end offsets now, in partition then offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert parts, f"topic {topic} has no partitions"
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: list[Record] = []
        for _ in range(200):
            positions = [await consumer.position(tp) for tp in parts]
            if all(pos >= ends[tp] for pos, tp in zip(positions, parts, strict=True)):
                break
            batches = await consumer.getmany(*parts, timeout_ms=500)
            for tp, records in batches.items():
                out.extend(
                    Record(tp.partition, r.offset, r.key, r.value) for r in records if r.offset < ends[tp]
                )
        else:
            raise AssertionError(f"could not read {topic} to its end offsets {ends}")
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()
