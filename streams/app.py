"""The worker's faust application: two stages, their tables, the read model, HTTP, and the services beside it.

Data flow (docs/streams.md): member topics -> ``Ingest`` (plain aiokafka, pattern subscribed)
-> ``bluelight.hub.canonical.v1`` (keyed by entity) -> stage one, the ``apply-canonical``
agent: the ``entity-state`` and ``rejections`` tables -> ``bluelight.hub.contributions.v1``
(keyed by view key) -> stage two, the ``fold-contributions`` agent: the ``view-parts`` table
and the view index of the keys this worker owns -> the view topics -> every worker's read
model -> HTTP ``/views``.

Tables live in RocksDB under the state dir (a restart recovers only what its store lacks),
each with one standby replica on another worker. ``create_app(settings)`` builds everything
and does no work at import. Faust is told to declare nothing (the topology creates every
topic, ``topologies.apply.ensure_hub_topics``), to serve no ``/table``, ``/router``, stats or
graph pages, and to create no reply topic.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import faust
from faust.types import TP
from faust.web import Request, Response, View
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bluelight.settings import HubSettings
from streams import health, heap
from streams.alerts import Alert
from streams.contributions import Outbox
from streams.dead_letters import DeadLetterFeed, DeadLetters
from streams.derive import Categorise, Normalise
from streams.faust_fixes import HubApp, bound_web_reads
from streams.fold import FoldStage
from streams.html import add_html_pages
from streams.ingest import Ingest
from streams.metrics import HubMetrics
from streams.pages import Pulse, access_for, add_view_pages
from streams.publish import FLUSH_EVERY_S, ViewPublisher
from streams.readmodel import ReadModel, ReadModelFeed
from streams.stage import EntityStage
from streams.views.index import ViewIndex
from streams.web import Answer
from topologies.naming import HUB_APP_ID, VIEWS, hub_changelog_topic, hub_topic

log = logging.getLogger(__name__)

ENTITY_TABLE = "entity-state"
REJECTION_TABLE = "rejections"
PARTS_TABLE = "view-parts"
DEFAULT_PARTITIONS = 3  # the topology's hub-stream plan; the worker passes the real count
RESEEK_EVERY_S = 2.0
CATEGORY_CACHE_SIZE = 50_000
PRODUCER_LINGER_S = 0.02
ACKS_ALL = -1  # faust's spelling of acks=all
OUTBOX_MAX = 2_000  # contributions stage one holds back at most, to coalesce and pack them
YIELD_EVERY = 100  # records stage one applies between two turns of the event loop
JOINS_EVERY_S = 2.0  # how often the join keys send what changed (supplier facts, contracts, standings)
CANONICAL = hub_topic("canonical")
CONTRIBUTIONS = hub_topic("contributions")
# A worker that dies is noticed by the group after this long; its partitions then move to the
# others. faust's default (60 s) left the views stage without an owner for a minute after a
# SIGKILL; heartbeats every 2 s keep a live worker well inside 10 s (docs/streams.md).
SESSION_TIMEOUT_S = 10.0
HEARTBEAT_S = 2.0
STANDBY_REPLICAS = 1
HTTP_READ_TIMEOUT_S = 10.0  # a request head not sent whole by then is dropped


@dataclass
class Hub:
    """Everything one worker process runs, built by :func:`build_hub`."""

    settings: HubSettings
    app: HubApp
    metrics: HubMetrics
    index: ViewIndex
    stage: EntityStage
    fold: FoldStage
    ingest: Ingest
    model: ReadModel
    feed: ReadModelFeed
    publisher: ViewPublisher
    letters: DeadLetters
    partitions: int
    services: list[Service] = field(default_factory=list)
    folded: bool = False  # stage two's index has been rebuilt after the first recovery
    rebuilds: int = 0  # how often: the publisher reconciles after each

    @property
    def ready(self) -> bool:
        """The read model has caught up with the view topics: every view answers in full."""
        return self.model.ready

    def owned(self) -> tuple[set[int], int]:
        """The contribution partitions this worker folds now, and how many there are."""
        actives = self.app.assignor.assigned_actives()
        return {tp.partition for tp in actives if tp.topic == CONTRIBUTIONS}, self.partitions


def create_app(settings: HubSettings) -> faust.App:
    """The faust app of the worker (see :func:`build_hub` for the rest of the process)."""
    return build_hub(settings).app


def build_hub(
    settings: HubSettings,
    *,
    partitions: int = DEFAULT_PARTITIONS,
    registry: CollectorRegistry | None = None,
    categorise: Categorise | None = None,
    normalise: Normalise | None = None,
) -> Hub:
    """Wire the worker: faust app, tables, both agents, pages, ingest, read model and publisher."""
    if categorise is None or normalise is None:
        from streams.categories import map_classification, normalise_code

        categorise = categorise or map_classification
        normalise = normalise or normalise_code
    # the reference data is loaded once per process, so a code's category never changes while
    # the worker runs; orders repeat the same few thousand codes
    categorise = cast(Categorise, lru_cache(maxsize=CATEGORY_CACHE_SIZE)(categorise))
    metrics = HubMetrics.create(registry if registry is not None else CollectorRegistry())
    app = HubApp(
        HUB_APP_ID,
        source_topics=frozenset({CANONICAL, CONTRIBUTIONS}),
        fetch=(settings.fetch_wait_ms, settings.fetch_min_bytes),
        **faust_settings(settings, partitions),
    )
    check_producer_acks(app)

    canonical_topic = _raw_topic(app, CANONICAL, partitions)
    contributions_topic = _raw_topic(app, CONTRIBUTIONS, partitions)
    entities = _table(app, ENTITY_TABLE, partitions)
    rejections = _table(app, REJECTION_TABLE, partitions)
    parts = _table(app, PARTS_TABLE, partitions)

    index = ViewIndex()
    stage = EntityStage(entities, rejections, metrics)
    fold = FoldStage(parts, index)
    model = ReadModel()
    ingest = Ingest(settings, metrics, categorise, normalise)
    hub = Hub(
        settings,
        app,
        metrics,
        index,
        stage,
        fold,
        ingest,
        model,
        ReadModelFeed(settings, model, wait_ms=settings.fetch_wait_ms),
        cast(ViewPublisher, None),
        DeadLetters(),
        partitions,
    )
    hub.publisher = ViewPublisher(settings, index, model, metrics, hub.owned)
    letters = DeadLetterFeed(settings, hub.letters)
    hub.services = [
        IngestService(ingest),
        ReadModelService(hub),
        PublisherService(hub),
        FeedService(letters.start, letters.run, letters.close, "dead letters"),
    ]
    health.watch(metrics, ingest.contact, lambda: hub.ready)

    async def rebuild() -> None:
        await fold.rebuild_async()
        heap.sweep()  # the restored state is old from here on: no collection scans it again
        hub.rebuilds += 1
        hub.folded = True

    # faust runs each table's recovery-completed step in table order; the last table's callback
    # sees every table recovered and pruned of partitions this worker no longer holds
    parts.on_recover(rebuild)

    def admitted(event: Any) -> bool:
        """The gate's word on a record; a refused one is acknowledged all the same (faust_fixes 2)."""
        m = event.message
        verdict = app.gate.admit((m.topic, m.partition), m.offset, time.monotonic())
        if verdict != "apply":
            metrics.refused.labels(verdict).inc()
            event.ack()
            return False
        return True

    outbox = Outbox(partitions)
    alerts: list[Alert] = []
    alert_topics: dict[str, Any] = {}

    def send_outbox() -> None:
        """Hand the waiting contribution packs (and alerts) to the producer buffer."""
        for partition, pack in outbox.drain():
            contributions_topic.send_soon(value=pack, partition=partition)
        for alert in alerts:
            topic = alert_topics.get(alert.topic) or alert_topics.setdefault(
                alert.topic, _raw_topic(app, alert.topic, 1)
            )
            topic.send_soon(key=alert.alert_id.encode(), value=alert.value)
            metrics.alerts.labels(alert.body["member_id"] or "national").inc()
        alerts.clear()

    # every commit flushes the producer first, and the flush empties the outbox first: no
    # committed offset passes a record whose contributions have not left (faust_fixes 1)
    app.before_flush.append(send_outbox)

    @app.agent(canonical_topic, name="apply-canonical", concurrency=1)
    async def apply_canonical(stream: faust.StreamT) -> None:
        # Acknowledged by hand; a record the gate refuses is not applied, faust's commits never
        # pass it, and it is read again, in order (streams/faust_fixes.py).
        events = cast(faust.Stream, stream).noack()
        queued = cast(faust.ChannelT, events.channel)  # what the agent has not taken yet
        async for event in events.events():
            if admitted(event):
                # Nothing may escape this loop: an exception unwinding it acks the event (faust #527).
                try:
                    outcome, sends = stage.apply(event.value)
                    outbox.add(sends)
                    if outcome == "order":
                        # an operator's order: its contributions reach Kafka before the states
                        # change (stage.py, EntityStage.apply)
                        send_outbox()
                        await app.producer.flush()
                        stage.finish_order()
                except Exception:
                    m = event.message
                    log.exception(
                        "views: %s[%d] offset=%d could not be applied", m.topic, m.partition, m.offset
                    )
                    metrics.faults.labels("views").inc()
                event.ack()
            # contributions wait while more records are queued: a burst leaves as a few packs
            if len(outbox) >= OUTBOX_MAX or queued.empty():
                send_outbox()
            if stage.records_applied % YIELD_EVERY == 0:
                # a queued backlog is taken without a pause: let pages, heartbeats and I/O run
                await asyncio.sleep(0)

    @app.agent(contributions_topic, name="fold-contributions", concurrency=1)
    async def fold_contributions(stream: faust.StreamT) -> None:
        events = cast(faust.Stream, stream).noack()
        queued = cast(faust.ChannelT, events.channel)
        async for event in events.events():
            if admitted(event):
                try:
                    fold.apply(event.value)
                except Exception:
                    m = event.message
                    log.exception(
                        "views: %s[%d] offset=%d could not be folded", m.topic, m.partition, m.offset
                    )
                    metrics.faults.labels("fold").inc()
                # the joins' output leaves like stage one's contributions: through the outbox,
                # so no commit passes a record whose output has not left
                outbox.add(fold.take_sends())
                alerts.extend(fold.take_alerts())
                event.ack()
            if len(outbox) >= OUTBOX_MAX or alerts or queued.empty():
                send_outbox()

    @app.timer(JOINS_EVERY_S)
    async def send_joins() -> None:
        # what the join keys changed, at most once per view key per tick (fold.flush_joins)
        if fold.flush_joins():
            outbox.add(fold.take_sends())
            send_outbox()

    @app.timer(heap.SWEEP_EVERY_S)
    async def sweep_heap() -> None:
        heap.sweep()
        metrics.gc_frozen.set(gc.get_freeze_count())

    @app.timer(RESEEK_EVERY_S)
    async def reread_refused() -> None:
        # partitions whose refused records were not followed by progress: read them again
        for (topic, partition), offset in app.gate.stuck(time.monotonic(), RESEEK_EVERY_S).items():
            log.warning("views: %s[%d] is behind refused records; seeking to %d", topic, partition, offset)
            try:
                await app.consumer.seek(TP(topic, partition), offset)
            except Exception:  # e.g. revoked meanwhile; the next report retries
                log.exception("views: seeking %s[%d] back failed", topic, partition)

    _add_pages(hub)
    bound_web_reads(app, HTTP_READ_TIMEOUT_S)
    return hub


def _raw_topic(app: faust.App, name: str, partitions: int) -> Any:
    """A hub stream read and written as raw bytes (decoded in the agents, never by faust)."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def faust_settings(settings: HubSettings, partitions: int) -> dict[str, Any]:
    """The faust configuration of the worker."""
    conf: dict[str, Any] = {
        "broker": [f"kafka://{server.strip()}" for server in settings.bootstrap.split(",")],
        # RocksDB (the rocksdict driver) under the state dir: a restart recovers only what the
        # changelogs hold beyond the store's own offsets; a standby replica of every table
        # partition on another worker makes a takeover short
        "store": "rocksdb://",
        "datadir": str(settings.state_dir / "worker"),
        "table_standby_replicas": STANDBY_REPLICAS,
        "broker_session_timeout": SESSION_TIMEOUT_S,
        "broker_heartbeat_interval": HEARTBEAT_S,
        "topic_partitions": partitions,
        "topic_allow_declare": False,
        "reply_create_topic": False,
        "consumer_auto_offset_reset": "earliest",
        # changelog writes wait up to this long to share a produce request: on loopback each
        # request costs the sender a full trip through the TCP stack (docs/benchmarks.md)
        "producer_linger": PRODUCER_LINGER_S,
        # changelog and contribution writes wait for min.insync.replicas (faust's default, stated)
        "producer_acks": ACKS_ALL,
        "web_enabled": True,
        "web_bind": settings.http_host,
        "web_host": settings.http_host,
        "web_port": settings.http_port,
        "web_tables_enabled": False,
        "web_router_enabled": False,
        "web_stats_enabled": False,
        "web_graph_enabled": False,
        "web_metrics_enabled": False,
        "autodiscover": False,
    }
    if settings.security_protocol != "PLAINTEXT":
        ssl_context = None
        if settings.security_protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            ssl_context = create_ssl_context()
        conf["broker_credentials"] = faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return conf


def check_producer_acks(app: faust.App) -> None:
    """Refuse to run with faust's producer acknowledging less than every in-sync replica.

    faust lets the environment beat the settings it is given: a ``PRODUCER_ACKS=1`` exported for
    some other program would make table changelog and contribution writes acknowledged by the
    leader alone, lost if it dies before a follower copies them (docs/reliability.md, row 1).
    """
    acks = app.conf.producer_acks
    if acks != ACKS_ALL:
        msg = (
            f"faust's producer_acks is {acks} (from the PRODUCER_ACKS environment variable?); "
            "the worker needs -1 (all in-sync replicas): unset PRODUCER_ACKS"
        )
        raise ValueError(msg)


# faust opens one RocksDB per table partition (active and standby) with 3 x 64 MiB memtables and
# a 2 GiB block cache each: nine stores could take gigabytes before their first flush, and the
# soak saw the worker's RSS climb 22 MB/min while its Python heap stayed flat. Small memtables
# flush sooner; the OS page cache holds what the small block cache does not (docs/streams.md).
ROCKSDB_OPTIONS: dict[str, Any] = {
    "driver": "rocksdict",
    "write_buffer_size": 4 << 20,
    "max_write_buffer_number": 2,
    "block_cache_size": 8 << 20,
}


def _table(app: faust.App, name: str, partitions: int) -> Any:
    """A changelog-backed table of raw bytes whose changelog has the topology's name."""
    changelog = app.topic(
        hub_changelog_topic(name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
        compacting=True,
        deleting=False,
        acks=False,  # as faust's own changelog topics: reading a changelog commits nothing
        internal=True,
        maxsize=131_072,
        allow_empty=True,
    )
    return app.Table(
        name,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        changelog_topic=changelog,
        options=dict(ROCKSDB_OPTIONS),  # a copy: faust pops "driver" from the dict it is given
    )


# -- HTTP ---------------------------------------------------------------------------------------


def _add_pages(hub: Hub) -> None:
    app = hub.app

    def respond(view: View, answer: Answer) -> Response:
        return view.text(answer.text(), content_type="application/json", status=answer.status)

    # /views, /views/<view>[.csv], /views/<view>/<key>, /openapi.json, behind readers.yaml's
    # tokens, answered from the read model (every view in full on every worker)
    # the stream is busy while records wait at ingest or any stage applied some lately
    moved = Pulse(lambda: hub.ingest.records_done + hub.stage.records_applied + hub.fold.records_applied)
    access = access_for(hub.settings)
    add_view_pages(
        app,
        lambda: hub.model,
        lambda: hub.ready,
        access,
        lambda: hub.model.records_read,
        lambda: hub.ingest.backlog > 0 or moved(),
    )
    # the pages for people (streams/html.py), over the same read model
    # pages say how long ago each feed was heard from: a render stays good for a minute at most
    version = lambda: (hub.model.records_read, int(time.time() // 60))  # noqa: E731
    add_html_pages(app, lambda: hub.model, lambda: hub.ready, access, version, hub.letters.latest)

    @app.page("/health")
    class HealthPage(View):
        async def get(self, request: Request) -> Response:
            buffer = hub.app.producer.buffer
            expected = hub.app.gate.expected or {}
            now, contact = time.monotonic(), hub.ingest.contact
            verdict = health.verdict(hub.ready, contact, now)
            body = {
                "views_ready": hub.ready,
                "folded": hub.folded,
                "owned_partitions": sorted(hub.owned()[0]),
                "ingested_records": hub.ingest.records_done,
                "applied_records": hub.stage.records_applied,
                "folded_records": hub.fold.records_applied,
                "view_records_read": hub.model.records_read,
                "table_writes_unsent": getattr(buffer, "unsent", buffer.size),
                # the next offset each stage will apply, per source partition
                "next_offsets": {f"{t}[{p}]": o for (t, p), o in sorted(expected.items())},
            }
            return respond(self, Answer(verdict.status, health.health_body(verdict, contact, now, body)))

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            report(hub)
            # aiohttp refuses a charset inside content_type; the header carries it whole
            text = generate_latest(hub.metrics.registry)
            return self.bytes(text, headers={"Content-Type": CONTENT_TYPE_LATEST})


# -- services run beside the app by the worker ------------------------------------------------------


class IngestService(Service):
    """Runs the ingest loop for the life of the worker; a failure stops the worker."""

    def __init__(self, ingest: Ingest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ingest = ingest

    async def on_start(self) -> None:
        """Connect ingest's consumer and producer."""
        await self.ingest.start()

    @Service.task
    async def _run(self) -> None:
        try:
            await self.ingest.run()
        except Exception as exc:
            log.exception("ingest stopped")
            await self.crash(exc)

    async def on_stop(self) -> None:
        """Let the batch in flight finish, then disconnect."""
        self.ingest.stop()
        await self.ingest.close()


class ReadModelService(Service):
    """Keeps the read model current from the view topics for the life of the worker."""

    def __init__(self, hub: Hub, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hub = hub

    async def on_start(self) -> None:
        """Connect the read model's consumer."""
        await self.hub.feed.start()

    @Service.task
    async def _run(self) -> None:
        try:
            await self.hub.feed.run()
        except Exception as exc:
            log.exception("read model stopped")
            await self.crash(exc)

    async def on_stop(self) -> None:
        """Disconnect."""
        await self.hub.feed.close()


class FeedService(Service):
    """Runs a reader beside the stages for the life of the worker (its failure is logged, not fatal)."""

    def __init__(
        self,
        start: Callable[[], Awaitable[None]],
        run: Callable[[], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._start, self._run_feed, self._close, self.feed_name = start, run, close, name

    async def on_start(self) -> None:
        """Connect."""
        await self._start()

    @Service.task
    async def _run(self) -> None:
        try:
            await self._run_feed()
        except Exception:
            log.exception("%s: stopped", self.feed_name)

    async def on_stop(self) -> None:
        """Disconnect."""
        await self._close()


def report(hub: Hub) -> None:
    """Refresh the gauges derived from the views (item counts, newest event age)."""
    now = datetime.now(UTC)
    for view in VIEWS:
        hub.metrics.view_items.labels(view).set(hub.model.size(view))
    for member, item in hub.model.views["member-activity"].items():
        last = item.get("last_event_at")
        if last:
            age = (now - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()
            hub.metrics.newest_event_age.labels(member).set(age)


class PublisherService(Service):
    """Flushes dirty view keys to the view topics every FLUSH_EVERY_S once the views are ready."""

    def __init__(self, hub: Hub, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hub = hub

    async def on_start(self) -> None:
        """Connect the view publisher."""
        await self.hub.publisher.start()

    @Service.task
    async def _flush(self) -> None:
        reconciled = 0  # the rebuild last reconciled after
        while not self.should_stop:
            await self.sleep(FLUSH_EVERY_S)
            hub = self.hub
            if not (hub.folded and hub.ready):
                continue
            try:
                if reconciled != hub.rebuilds:
                    reconciled = hub.rebuilds
                    marked = hub.publisher.reconcile()
                    log.info("views: %d keys of this worker's partitions to tombstone", marked)
                await hub.publisher.flush()
                report(hub)
            except Exception:
                log.exception("views: publishing to the view topics failed; retrying")
                await self.sleep(2.0)

    async def on_stop(self) -> None:
        """Disconnect the view publisher."""
        await self.hub.publisher.close()
