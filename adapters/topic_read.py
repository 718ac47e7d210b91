"""Read one topic from its start (or an instant) to its end now, with partitions assigned by hand.

No consumer group, so a member's own credentials are enough on a secured cluster: the topology
grants a member Read and Describe on its own dead-letter and alert topics, nothing else.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from bluelight.settings import KafkaConnection

READ_TIMEOUT_S = 30.0


async def read_to_end(
    kafka: KafkaConnection, topic: str, client_id: str, since: datetime | None = None
) -> list[Any]:
    """Every record of ``topic`` (from ``since``) up to its end now, per partition in offset order."""
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=client_id,
        **kafka.to_aiokafka_kwargs(),
    )
    out: list[Any] = []
    try:
        await consumer.start()
        partitions = await asyncio.wait_for(topic_partitions(kafka, topic), READ_TIMEOUT_S)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        # explicit offsets: seek_to_beginning() is lazy, and position() read right after it
        # was seen to answer the end on this broker, which reads nothing
        starts = await consumer.beginning_offsets(tps)
        if since is not None:
            found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
            starts = {tp: (at.offset if at is not None else ends[tp]) for tp, at in found.items()}
        for tp in tps:
            consumer.seek(tp, starts[tp])
        began = time.monotonic()
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() - began > READ_TIMEOUT_S:
                raise TimeoutError(f"reading {topic} took over {READ_TIMEOUT_S:.0f}s")
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                out += [r for r in records if r.offset < ends[tp]]
    finally:
        await consumer.stop()
    return out


async def topic_partitions(kafka: KafkaConnection, topic: str) -> set[int]:
    """The topic's partitions, from a metadata request (Describe is all it needs)."""
    from topologies.admin import connect

    async with connect(kafka) as admin:
        found = await admin.topics([topic], configs=False)
    if topic not in found:
        raise KafkaError(f"topic {topic} does not exist or these credentials may not describe it")
    return set(range(found[topic].partitions))
