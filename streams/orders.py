"""Operators' orders to stage one, one per canonical partition: purge and reclassify.

``bluelight views purge`` takes one member's data out of the views: data that should never
have been there (a member never plugged in that published before the gate existed, or one
that was removed). Stage one, wherever each partition is applied, withdraws the member's
entities and rejection counts from every view key they touched and then deletes their states
(``streams/stage.py``). The member's input and dead-letter topics are left alone: remove the
member (``bluelight members remove``) so nothing of it is read again. ``bluelight categories
publish`` sends reclassify orders the same way (``streams/reclassify.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bluelight.settings import HubSettings
from streams.canonical import Order, PurgeRecord, encode_order, order_key
from topologies.naming import hub_topic


async def request_purge(settings: HubSettings, member: str) -> int:
    """Write a purge order for ``member`` to every canonical partition; how many were written."""
    return await send_orders(settings, lambda p, n, now: PurgeRecord(member, p, n, now))


async def send_orders(settings: HubSettings, order: Callable[[int, int, datetime], Order]) -> int:
    """Write ``order(partition, partitions, now)`` to every canonical partition; how many."""
    topic = hub_topic("canonical")
    kafka = settings.kafka.to_aiokafka_kwargs()
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", client_id="bluelight-purge", **kafka)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        now = datetime.now(UTC)
        for p in partitions:
            one = order(p, len(partitions), now)
            await producer.send_and_wait(topic, encode_order(one), key=order_key(one), partition=p)
    finally:
        await producer.stop()
    return len(partitions)
