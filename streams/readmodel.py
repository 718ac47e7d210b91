"""The read model: every view in full, on every worker, from the compacted view topics.

Stage two is partitioned, so each worker renders only the view keys its partitions own and
writes them to ``bluelight.view.<view>.v1``. Every worker also reads all partitions of every
view topic (no consumer group: plain assignment from the beginning) into this read model, and
answers HTTP from it: any worker answers any view in full, and a worker that is killed leaves
the others answering. Answers are kept as rendered JSON text per view, made once per change
of the view rather than per request, so readers cannot starve the stream.

Ready once it has read every view topic to the end offsets it saw when it started.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from datetime import date
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bluelight.settings import HubSettings
from schemas.serde import decode_record
from streams.views.contract_pipeline import PipelineRow, contract_pipeline_item
from streams.views.records import item_of
from topologies.naming import NATIONAL_ALERTS, VIEWS, view_topic

log = logging.getLogger(__name__)

Item = dict[str, Any]
PIPELINE = "contract-pipeline"
ALERTS = "alerts"  # the national alerts topic, read beside the views
CACHED_DAYS = 8  # contract-pipeline answers kept per as_of date (each is the whole view)


class ReadModel:
    """Latest item per key of every view, with answers rendered once per change."""

    def __init__(self) -> None:
        self.views: dict[str, dict[str, Item]] = {view: {} for view in VIEWS}
        self.changes: dict[str, int] = dict.fromkeys(VIEWS, 0)
        self.records_read = 0
        self.ready = False
        self._pipeline: OrderedDict[date, tuple[int, dict[str, Item]]] = OrderedDict()
        self._sorted: dict[str, tuple[int, list[str]]] = {}
        self.alerts: dict[str, Item] = {}  # national alerts by alert_id (a replay's repeat: kept once)

    # -- updates ---------------------------------------------------------------------------

    def put(self, view: str, key: str, item: Item | None) -> None:
        """The latest record of ``key`` (``None``: a tombstone)."""
        if item is None:
            if self.views[view].pop(key, None) is None:
                return
        else:
            self.views[view][key] = item
        self.changes[view] += 1

    def put_alert(self, value: bytes | None) -> None:
        """A national alert as read from Kafka (JSON); the first of an id is kept."""
        self.records_read += 1
        if value is None:
            return
        body = json.loads(value)
        self.alerts.setdefault(body["alert_id"], body)

    def newest_alerts(self, limit: int = 1000) -> list[Item]:
        """The national alerts, newest status change first."""
        newest_first = sorted(
            self.alerts.values(), key=lambda a: (a["status_at"], a["supplier_key"]), reverse=True
        )
        return newest_first[:limit]

    def put_record(self, view: str, key: bytes | None, value: bytes | None) -> None:
        """A view-topic record as read from Kafka."""
        self.records_read += 1
        if key is None:
            return
        item = item_of(view, decode_record(value).record) if value is not None else None
        self.put(view, key.decode(), item)

    # -- reads (the interface streams/web.py answers from) -----------------------------------

    def keys(self, view: str) -> list[str]:
        """The keys of a view, sorted (once per change of the view)."""
        version = self.changes[view]
        kept = self._sorted.get(view)
        if kept is None or kept[0] != version:
            kept = self._sorted[view] = (version, sorted(self.views[view]))
        return kept[1]

    def item(self, view: str, key: str, as_of: date) -> Item | None:
        """One item (contract-pipeline's buckets for ``as_of``)."""
        if view != PIPELINE:
            return self.views[view].get(key)
        return self._pipeline_on(as_of).get(key)

    def items(self, view: str, as_of: date) -> list[Item]:
        """Every item of a view, sorted by key."""
        if view != PIPELINE:
            return [self.views[view][k] for k in self.keys(view)]
        on = self._pipeline_on(as_of)
        return [on[k] for k in self.keys(view)]

    def _pipeline_on(self, as_of: date) -> dict[str, Item]:
        """contract-pipeline for ``as_of``, computed once per change of the view and date."""
        version = self.changes[PIPELINE]
        cached = self._pipeline.get(as_of)
        if cached is None or cached[0] != version:
            on = {k: pipeline_on(item, as_of) for k, item in self.views[PIPELINE].items()}
            cached = self._pipeline[as_of] = (version, on)
        self._pipeline.move_to_end(as_of)
        while len(self._pipeline) > CACHED_DAYS:
            self._pipeline.popitem(last=False)
        return cached[1]

    def size(self, view: str) -> int:
        """How many items a view has."""
        return len(self.views[view])


def pipeline_on(item: Item, as_of: date) -> Item:
    """A contract-pipeline item with its buckets and collaboration computed for ``as_of``."""
    rows = [
        PipelineRow(
            name=item["name"],
            member_id=c["member_id"],
            entity_id=c["entity_id"],
            supplier_key=c["supplier_key"],
            end_date=date.fromisoformat(c["end_date"]),
            max_extent_date=date.fromisoformat(c["max_extent_date"]) if c["max_extent_date"] else None,
            value=Decimal(c["value"]),
        )
        for c in item["contracts"]
    ]
    out = contract_pipeline_item(item["category"], rows, as_of)
    return out if out is not None else item


class ReadModelFeed:
    """Keeps a :class:`ReadModel` current from the view topics (runs for the worker's life)."""

    def __init__(self, settings: HubSettings, model: ReadModel, wait_ms: int = 50) -> None:
        self.settings = settings
        self.model = model
        self.wait_ms = wait_ms
        self.consumer: AIOKafkaConsumer | None = None
        self.stopping = False

    async def start(self) -> None:
        """Connect and assign every partition of every view topic, from the beginning."""
        self.consumer = AIOKafkaConsumer(
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="bluelight-readmodel",
            fetch_max_wait_ms=self.wait_ms,
            **self.settings.kafka.to_aiokafka_kwargs(),
        )
        await self.consumer.start()

    async def run(self) -> None:
        """Read forever; the model is ready once the ends seen at start are reached."""
        consumer = self._consumer()
        topic_view = {view_topic(v): v for v in VIEWS}
        topic_view[NATIONAL_ALERTS] = ALERTS
        tps: list[TopicPartition] = []
        for topic in topic_view:
            # the worker made the view topics before starting (ensure_hub_topics)
            parts = await consumer._client._wait_on_metadata(topic)  # noqa: SLF001 - assign needs partitions
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        self.model.ready = not pending
        while not self.stopping:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                view = topic_view[tp.topic]
                for rec in records:
                    try:
                        if view == ALERTS:
                            self.model.put_alert(rec.value)
                        else:
                            self.model.put_record(view, rec.key, rec.value)
                    except Exception:  # a record this release cannot read: skip it, say where
                        log.exception("read model: %s[%d]@%d unreadable", tp.topic, tp.partition, rec.offset)
            if pending:
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
                if not pending:
                    self.model.ready = True
                    log.info("read model: caught up with the view topics (%d read)", self.model.records_read)
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Disconnect."""
        self.stopping = True
        if self.consumer is not None:
            await self.consumer.stop()

    def _consumer(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            raise RuntimeError("the read model feed is not started")
        return self.consumer
