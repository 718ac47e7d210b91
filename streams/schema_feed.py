"""The schema registry topic in Kafka: written by ``topology apply``, read by ingest on demand.

What the topic is for is in schemas/registry.py. Ingest calls :meth:`SchemaFeed.catch_up` before
it routes a batch holding a fingerprint its catalogue does not know: the feed reads the topic
(compacted, one partition, a few records per release) from where it stopped to its current end
and learns what is new, so a version registered before the message was produced is always
known by the time the message is routed.
"""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bluelight.settings import KafkaConnection
from schemas.registry import learned_version, registry_records
from schemas.serde import HEADER_SIZE, MAGIC, CatalogueError, catalogue
from topologies.naming import ref_topic

log = logging.getLogger(__name__)

SCHEMAS_TOPIC = ref_topic("schemas")
CATCH_UP_TIMEOUT_S = 10.0


def unknown_fingerprint(value: bytes | None) -> bool:
    """Whether ``value`` has a single-object header naming a writer schema not known here."""
    if value is None or len(value) < HEADER_SIZE or value[:2] != MAGIC:
        return False
    return not catalogue().knows(bytes(value[2:HEADER_SIZE]))


class SchemaFeed:
    """A group-less reader of the registry topic that learns every version it finds."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self._consumer: AIOKafkaConsumer | None = None

    async def catch_up(self) -> int:
        """Read the topic to its current end; how many versions were learned.

        Raises aiokafka's KafkaError (or TimeoutError) when the topic cannot be read: the caller
        retries rather than dead-letter events it might have read. A topic that does not exist (a
        cluster whose topology was never applied by a release that writes it) has nothing to teach.
        """
        consumer = await self._assigned()
        if consumer is None:
            return 0
        tps = list(consumer.assignment())
        ends = await consumer.end_offsets(tps)
        began, learned = time.monotonic(), 0
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() - began > CATCH_UP_TIMEOUT_S:
                raise TimeoutError(f"{SCHEMAS_TOPIC} was not read to its end in {CATCH_UP_TIMEOUT_S:.0f}s")
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for rec in records:
                    learned += self._learn(rec.key, rec.value, rec.offset)
        return learned

    def _learn(self, key: bytes | None, value: bytes | None, offset: int) -> int:
        try:
            version = learned_version(key, value)
        except CatalogueError as exc:
            log.warning("schemas: %s offset=%d ignored: %s", SCHEMAS_TOPIC, offset, exc)
            return 0
        if not catalogue().learn(version):
            return 0
        log.info("schemas: learned %s (%s) from %s", version, version.fingerprint.hex(), SCHEMAS_TOPIC)
        return 1

    async def _assigned(self) -> AIOKafkaConsumer | None:
        if self._consumer is None:
            self._consumer = AIOKafkaConsumer(
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id="bluelight-ingest-schemas",
                **self.kafka.to_aiokafka_kwargs(),
            )
            await self._consumer.start()
        consumer = self._consumer
        if not consumer.assignment():
            await consumer._client.force_metadata_update()  # noqa: SLF001 - every topic's metadata, no auto-create
            parts = consumer.partitions_for_topic(SCHEMAS_TOPIC)
            if not parts:
                return None
            tps = [TopicPartition(SCHEMAS_TOPIC, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
        return consumer

    async def close(self) -> None:
        """Disconnect."""
        if self._consumer is not None:
            await self._consumer.stop()


async def publish_schemas(kafka: KafkaConnection) -> int | None:
    """Write this release's event schema versions to the registry topic; how many.

    Compacted and keyed by fingerprint, so writing them again changes nothing a reader sees.
    None when the cluster has no such topic (a topology that does not declare it).
    """
    from topologies.admin import connect

    async with connect(kafka) as admin:  # metadata without auto-creating the topic
        if SCHEMAS_TOPIC not in await admin.topics([SCHEMAS_TOPIC], configs=False):
            return None
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka.to_aiokafka_kwargs())
    await producer.start()
    try:
        records = registry_records()
        sent = [await producer.send(SCHEMAS_TOPIC, key=key, value=value) for key, value in records]
        for future in sent:
            await future
    finally:
        await producer.stop()
    return len(records)
