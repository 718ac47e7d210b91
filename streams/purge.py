"""``bluelight views purge``: take one member's data out of the views.

For data that should never have been there (a member that was never plugged in and published
before the gate existed, or one that was removed). The command writes a purge order to every
partition of the canonical topic; stage one, wherever that partition is applied, withdraws the
member's entities and rejection counts from every view key they touched and then deletes
their states (``streams/stage.py``). The member's input and dead-letter topics are left alone:
remove the member (``bluelight members remove``) so nothing of it is read again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bluelight.settings import HubSettings
from streams.canonical import PurgeRecord, encode_purge, purge_key
from topologies.naming import hub_topic


async def request_purge(settings: HubSettings, member: str) -> int:
    """Write a purge order for ``member`` to every canonical partition; how many were written."""
    topic = hub_topic("canonical")
    kafka = settings.kafka.to_aiokafka_kwargs()
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", client_id="bluelight-purge", **kafka)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        now = datetime.now(UTC)
        for p in partitions:
            order = PurgeRecord(member, p, len(partitions), now)
            await producer.send_and_wait(topic, encode_purge(order), key=purge_key(member, p), partition=p)
    finally:
        await producer.stop()
    return len(partitions)
