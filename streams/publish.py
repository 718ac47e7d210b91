"""The view topics: the latest item of every view key, Avro single-object encoded.

Keys touched since the last flush are re-rendered and written every ``FLUSH_EVERY_S``
(a key whose item disappeared gets a tombstone); contract-pipeline's buckets depend on
today, so the whole view is re-sent when the date changes. At start, the keys already on
each (compacted) topic are read back and re-sent once the views are rebuilt, which
tombstones any item that went away while the worker was down or crashed mid-flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bluelight.settings import HubSettings
from schemas.serde import encode_record
from streams.metrics import HubMetrics
from streams.views.index import ViewIndex
from streams.views.records import record_of, schema_name
from streams.web import today
from topologies.naming import VIEWS, view_topic

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5  # a key changed many times in this window is written once
YIELD_EVERY = 50  # keys rendered and sent between turns of the event loop


class ViewPublisher:
    """Writes dirty view keys to the view topics."""

    def __init__(
        self,
        settings: HubSettings,
        index: ViewIndex,
        metrics: HubMetrics,
        clock_date: Callable[[], date] = today,
    ) -> None:
        self.settings = settings
        self.index = index
        self.metrics = metrics
        self.clock_date = clock_date
        self._producer: AIOKafkaProducer | None = None
        self._day: date | None = None
        self._reconciled = False

    async def start(self) -> None:
        """Connect the producer."""
        self._producer = AIOKafkaProducer(
            enable_idempotence=True, acks="all", linger_ms=20, client_id="bluelight-views", **self._kafka()
        )
        await self._producer.start()

    async def close(self) -> None:
        """Disconnect (dirty keys not yet written are re-sent by the next worker's reconcile)."""
        if self._producer is not None:
            await self._producer.stop()

    async def flush(self) -> int:
        """Write every dirty key; returns how many records were written."""
        producer = self._require_producer()
        if not self._reconciled:
            for view, keys in (await self.existing_keys()).items():
                self.index.dirty[view] |= keys
            self._reconciled = True
        as_of = self.clock_date()
        if as_of != self._day:
            self.index.dirty["contract-pipeline"] |= set(self.index.keys("contract-pipeline"))
            self._day = as_of
        dirty = self.index.take_dirty()
        sends = []
        for view, keys in dirty.items():
            topic = view_topic(view)
            for key in sorted(keys):
                item = self.index.item(view, key, as_of)
                value = None
                if item is not None:
                    value = encode_record(schema_name(view), record_of(view, item, as_of))
                future = await producer.send(topic, key=key.encode(), value=value)
                sends.append((view, key, value is None, future))
                if len(sends) % YIELD_EVERY == 0:
                    # let the stages run: a key they change now is dirty again for the next flush
                    await asyncio.sleep(0)
        results = await asyncio.gather(*(f for *_, f in sends), return_exceptions=True)
        written = 0
        for (view, key, tombstone, _), result in zip(sends, results, strict=True):
            if isinstance(result, BaseException):
                self.index.dirty[view].add(key)  # try again next flush
                log.warning("views: writing %s key %r failed: %r; will retry", view, key, result)
                continue
            written += 1
            self.metrics.view_records.labels(view, "tombstone" if tombstone else "item").inc()
        return written

    async def existing_keys(self) -> dict[str, set[str]]:
        """The keys with a live (non-tombstone) record on each view topic, read to its end."""
        consumer = AIOKafkaConsumer(
            enable_auto_commit=False, client_id="bluelight-views-reconcile", **self._kafka()
        )
        await consumer.start()
        found: dict[str, set[str]] = {view: set() for view in VIEWS}
        try:
            topic_view = {view_topic(v): v for v in VIEWS}
            # the producer's metadata call is public (the consumer's caches only subscribed topics);
            # the view topics exist already (ensure_hub_topics), so nothing is auto-created here
            tps = [
                TopicPartition(topic, p)
                for topic in topic_view
                for p in sorted(await self._require_producer().partitions_for(topic))
            ]
            if not tps:
                return found
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if ends[tp] > 0}
            while pending:
                batches = await consumer.getmany(*pending, timeout_ms=1000)
                for tp, records in batches.items():
                    keys = found[topic_view[tp.topic]]
                    for rec in records:
                        if rec.key is None:
                            continue
                        key = rec.key.decode()
                        if rec.value is None:
                            keys.discard(key)
                        else:
                            keys.add(key)
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await consumer.stop()
        log.info("views: %d keys already on the view topics", sum(len(k) for k in found.values()))
        return found

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the view publisher is not started")
        return self._producer

    def _kafka(self) -> dict[str, object]:
        return self.settings.kafka.to_aiokafka_kwargs()
