"""The worker's faust application: the views stage, its tables, HTTP, and the services beside it.

Data flow (docs/streams.md): member topics -> ``Ingest`` (plain aiokafka, pattern subscribed)
-> ``bluelight.hub.canonical.v1`` -> the ``apply-canonical`` agent -> the ``entity-state``
and ``rejections`` tables (changelog-backed, ``memory://`` store, recovered from the
changelogs at start) -> the view index -> HTTP ``/views`` and the view topics.

``create_app(settings)`` builds everything and does no work at import. Faust is told to
declare nothing (the topology creates every topic, ``topologies.apply.ensure_hub_topics``),
to serve no ``/table``, ``/router``, stats or graph pages, and to create no reply topic.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

import faust
from faust.types import TP
from faust.web import Request, Response, View
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bluelight.settings import HubSettings
from streams import heap
from streams.derive import Categorise, Normalise
from streams.durable import HubApp
from streams.ingest import Ingest
from streams.metrics import HubMetrics
from streams.pages import access_for, add_view_pages
from streams.publish import FLUSH_EVERY_S, ViewPublisher
from streams.stage import ViewsStage
from streams.views.index import ViewIndex
from streams.web import Answer
from topologies.naming import HUB_APP_ID, hub_changelog_topic, hub_topic

log = logging.getLogger(__name__)

ENTITY_TABLE = "entity-state"
REJECTION_TABLE = "rejections"
DEFAULT_PARTITIONS = 3  # the topology's hub-stream plan; the worker passes the real count
RESEEK_EVERY_S = 2.0
CATEGORY_CACHE_SIZE = 50_000
PRODUCER_LINGER_S = 0.02
CANONICAL = hub_topic("canonical")


@dataclass
class Hub:
    """Everything one worker process runs, built by :func:`build_hub`."""

    settings: HubSettings
    app: HubApp
    metrics: HubMetrics
    index: ViewIndex
    stage: ViewsStage
    ingest: Ingest
    publisher: ViewPublisher
    services: list[Service] = field(default_factory=list)
    ready: bool = False  # the index has been rebuilt from the recovered tables


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
    """Wire the worker: faust app, tables, agent, pages, ingest and the view publisher."""
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
        source_topics=frozenset({CANONICAL}),
        fetch=(settings.fetch_wait_ms, settings.fetch_min_bytes),
        **faust_settings(settings, partitions),
    )

    canonical_topic = app.topic(
        CANONICAL,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
    entities = _table(app, ENTITY_TABLE, partitions)
    rejections = _table(app, REJECTION_TABLE, partitions)

    index = ViewIndex()
    stage = ViewsStage(entities, rejections, index, metrics)
    ingest = Ingest(settings, metrics, categorise, normalise)
    publisher = ViewPublisher(settings, index, metrics)
    hub = Hub(settings, app, metrics, index, stage, ingest, publisher)
    hub.services = [IngestService(ingest), PublisherService(hub)]

    async def rebuild() -> None:
        stage.rebuild()
        heap.sweep()  # the restored state is old from here on: no collection scans it again
        hub.ready = True

    # faust runs each table's recovery-completed step in table order; the last table's callback
    # sees both tables recovered and pruned of partitions this worker no longer holds
    rejections.on_recover(rebuild)

    @app.agent(canonical_topic, name="apply-canonical", concurrency=1)
    async def apply_canonical(stream: faust.StreamT) -> None:
        # Acknowledged by hand: a record the gate refuses is neither applied nor acknowledged,
        # so faust cannot commit past it and it is read again, in order (streams/gate.py).
        async for event in cast(faust.Stream, stream).noack().events():
            m = event.message
            verdict = app.gate.admit(m.partition, m.offset, time.monotonic())
            if verdict != "apply":
                metrics.refused.labels(verdict).inc()
                continue
            # Nothing may escape this loop: an exception unwinding it acks the event (faust #527).
            try:
                stage.apply(event.value)
            except Exception:
                log.exception("views: %s[%d] offset=%d could not be applied", m.topic, m.partition, m.offset)
                metrics.faults.labels("views").inc()
            event.ack()

    @app.timer(heap.SWEEP_EVERY_S)
    async def sweep_heap() -> None:
        heap.sweep()
        metrics.gc_frozen.set(gc.get_freeze_count())

    @app.timer(RESEEK_EVERY_S)
    async def reread_refused() -> None:
        # partitions whose refused records were not followed by progress: read them again
        for partition, offset in app.gate.stuck(time.monotonic(), RESEEK_EVERY_S).items():
            log.warning(
                "views: %s[%d] is behind refused records; seeking back to %d", CANONICAL, partition, offset
            )
            try:
                await app.consumer.seek(TP(CANONICAL, partition), offset)
            except Exception:  # e.g. revoked meanwhile; the next report retries
                log.exception("views: seeking %s[%d] back failed", CANONICAL, partition)

    _add_pages(hub)
    return hub


def faust_settings(settings: HubSettings, partitions: int) -> dict[str, Any]:
    """The faust configuration of the worker."""
    conf: dict[str, Any] = {
        "broker": [f"kafka://{server.strip()}" for server in settings.bootstrap.split(",")],
        "store": "memory://",
        "datadir": str(settings.state_dir / "worker"),
        "topic_partitions": partitions,
        "topic_allow_declare": False,
        "reply_create_topic": False,
        "consumer_auto_offset_reset": "earliest",
        # changelog writes wait up to this long to share a produce request: on loopback each
        # request costs the sender a full trip through the TCP stack (docs/benchmarks.md)
        "producer_linger": PRODUCER_LINGER_S,
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
    )


# -- HTTP ---------------------------------------------------------------------------------------


def _add_pages(hub: Hub) -> None:
    app = hub.app

    def respond(view: View, answer: Answer) -> Response:
        return view.text(answer.text(), content_type="application/json", status=answer.status)

    # /views, /views/<view>[.csv], /views/<view>/<key>, /openapi.json, behind readers.yaml's tokens
    add_view_pages(app, lambda: hub.index, lambda: hub.ready, access_for(hub.settings))

    @app.page("/health")
    class HealthPage(View):
        async def get(self, request: Request) -> Response:
            buffer = hub.app.producer.buffer
            body = {
                "status": "ok" if hub.ready else "recovering",
                "views_ready": hub.ready,
                "ingested_records": hub.ingest.records_done,
                "applied_records": hub.stage.records_applied,
                "table_writes_unsent": getattr(buffer, "unsent", buffer.size),
                # the next canonical offset the views stage will apply, per partition
                "canonical_next": hub.app.gate.expected,
            }
            return respond(self, Answer(200 if hub.ready else 503, body))

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            hub.stage.report()
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
        while not self.should_stop:
            await self.sleep(FLUSH_EVERY_S)
            if not self.hub.ready:
                continue
            try:
                await self.hub.publisher.flush()
                self.hub.stage.report()
            except Exception:
                log.exception("views: publishing to the view topics failed; retrying")
                await self.sleep(2.0)

    async def on_stop(self) -> None:
        """Disconnect the view publisher."""
        await self.hub.publisher.close()
