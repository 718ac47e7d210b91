"""The view topics: the latest item of every view key this worker owns, Avro single-object encoded.

Stage two is partitioned by view key, so each worker renders, and writes, only the keys of the
contribution partitions it holds; together the workers cover every key, and each item on a
topic is whole (all the parts of a key meet in one partition). Keys touched since the last
flush are re-rendered and written every ``FLUSH_EVERY_S`` (a key whose item disappeared gets a
tombstone), unless the topic already holds the same item (the read model says what it holds).
contract-pipeline's buckets depend on today, so the whole owned view is re-sent when the date
changes. After every rebuild of stage two (a start, a rebalance) :meth:`reconcile` marks for a
tombstone every key the topics hold in the worker's partitions that the rebuilt index lacks,
which clears what went away while no worker wrote that partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from aiokafka import AIOKafkaProducer

from bluelight.settings import HubSettings
from schemas.serde import encode_record
from streams import producers
from streams.canonical import partition_of
from streams.contributions import record_key
from streams.metrics import HubMetrics
from streams.readmodel import ReadModel
from streams.views.index import ViewIndex
from streams.views.records import record_of, schema_name
from streams.web import today
from topologies.naming import VIEWS, view_topic

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.2  # a key changed many times in this window is written once
YIELD_EVERY = 50  # keys rendered and sent between turns of the event loop


class ViewPublisher:
    """Writes the dirty view keys of the partitions this worker owns to the view topics."""

    def __init__(
        self,
        settings: HubSettings,
        index: ViewIndex,
        model: ReadModel,
        metrics: HubMetrics,
        owned: Callable[[], tuple[set[int], int]],
        clock_date: Callable[[], date] = today,
    ) -> None:
        self.settings = settings
        self.index = index
        self.model = model
        self.metrics = metrics
        self.owned = owned  # (contribution partitions held, partition count)
        self.clock_date = clock_date
        self._producer: AIOKafkaProducer | None = None
        self._day: date | None = None
        # what this worker last wrote per key (a hash of the record; None: a tombstone), so a
        # key set back to what the topic holds is still written when the read model lags
        self.sent: dict[str, dict[str, int | None]] = {view: {} for view in VIEWS}

    async def start(self) -> None:
        """Connect the producer (again, after it broke: streams/producers.py)."""
        if self._producer is not None:
            await self._producer.stop()
        self._producer = AIOKafkaProducer(
            enable_idempotence=True, acks="all", linger_ms=20, client_id="bluelight-views", **self._kafka()
        )
        await self._producer.start()

    async def close(self) -> None:
        """Disconnect (dirty keys not yet written are re-sent by the next worker's reconcile)."""
        if self._producer is not None:
            await self._producer.stop()

    def reconcile(self) -> int:
        """Mark for a tombstone what the topics hold in owned partitions but the index lacks."""
        mine, count = self.owned()
        self.sent = {view: {} for view in VIEWS}  # another worker may have written since
        marked = 0
        for view in VIEWS:
            present = set(self.index.keys(view))
            for key in self.model.keys(view):
                if key not in present and partition_of(record_key(view, key), range(count)) in mine:
                    self.index.dirty[view].add(key)
                    marked += 1
        return marked

    async def flush(self) -> int:
        """Write every dirty key this worker owns; returns how many records were written."""
        producer = self._require_producer()
        mine, count = self.owned()
        as_of = self.clock_date()
        if as_of != self._day:
            self.index.dirty["contract-pipeline"] |= set(self.index.keys("contract-pipeline"))
            self._day = as_of
        dirty = self.index.take_dirty()
        sends = []
        for view, keys in dirty.items():
            topic = view_topic(view)
            held, sent = self.model.views[view], self.sent[view]
            for key in sorted(keys):
                if partition_of(record_key(view, key), range(count)) not in mine:
                    continue  # another worker's key now (a rebalance moved it)
                item = self.index.item(view, key, as_of)
                value = None
                if item is not None:
                    value = encode_record(schema_name(view), record_of(view, item, as_of))
                digest = hash(value) if value is not None else None
                if key in sent:
                    if sent[key] == digest:
                        continue  # written already
                elif item == held.get(key):
                    continue  # the topic holds this already
                sent[key] = digest
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
                self.sent[view].pop(key, None)
                log.warning("views: writing %s key %r failed: %r; will retry", view, key, result)
                continue
            written += 1
            self.metrics.view_records.labels(view, "tombstone" if tombstone else "item").inc()
        if producers.broken(r for r in results if isinstance(r, BaseException)):
            log.warning("views: the view-topic producer's sequence is broken; reconnecting it")
            await self.start()
        return written

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the view publisher is not started")
        return self._producer

    def _kafka(self) -> dict[str, object]:
        return self.settings.kafka.to_aiokafka_kwargs()
