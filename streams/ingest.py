"""Ingest: every member's input topics in, canonical records (and dead letters) out.

One aiokafka consumer subscribes to all member input topics, and the national supplier-status
feed, by pattern (``naming.INGEST_PATTERN``; faust's pattern subscription does not work on its
aiokafka driver), so a member added while the hub runs is picked up on the next metadata refresh
(``metadata_max_age_ms``, a few seconds) without a restart.

For each record, in order: decode, validate, take the tenant from the topic, derive the
national supplier key and categories (``streams.route``); then forward a canonical record to
``naming.hub_topic("canonical")``, and for a rejected record also write the original bytes
to the member's DLQ. Offsets are committed only after the broker has acknowledged every
write of the batch (idempotent producer, ``acks=all``), so a crash replays, never loses;
the views stage recognises replays by their source offset. Commits go at most every
``COMMIT_EVERY_S`` (and when idle, at a rebalance and at a stop): a commit per small batch
would cost a round trip per few records at a steady rate, and a longer replay costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, ConsumerStoppedError, KafkaError

from bluelight.settings import HubSettings
from schemas.validate import Rejection
from streams import canonical, producers
from streams.canonical import RejectedRecord, SourceRef
from streams.categories import PartnerMaps, decode_partner_map
from streams.derive import Categorise, Normalise
from streams.dlq import dead_letter
from streams.health import PROBE_EVERY_S, PROBE_TIMEOUT_S, BrokerContact
from streams.members import Members, topology_members
from streams.metrics import HubMetrics
from streams.route import NotAMemberTopic, Routed, route
from streams.schema_feed import SchemaFeed, unknown_fingerprint
from topologies.naming import (
    INGEST_GROUP,
    INGEST_PATTERN,
    dlq_topic,
    hub_topic,
    parse_member_topic,
    ref_topic,
)

log = logging.getLogger(__name__)

METADATA_MAX_AGE_MS = 5_000  # a new member's topics are read within seconds
BATCH_RECORDS = 1_000
POLL_TIMEOUT_MS = 500
RETRY_BACKOFF_S = 2.0
LAG_EVERY_S = 2.0
COMMIT_EVERY_S = 0.5
CANONICAL_BATCH_BYTES = 256 * 1024  # well under the broker's 1 MiB message.max.bytes
MAPS_TOPIC = ref_topic("categories")
MAPS_CHECK_S = 5.0  # how often to look for the reference topic until it exists


class Ingest:
    """The ingest loop; ``run()`` until ``stop()``."""

    def __init__(
        self,
        settings: HubSettings,
        metrics: HubMetrics,
        categorise: Categorise,
        normalise: Normalise,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.partner_maps = PartnerMaps(categorise)  # partners' own maps, read from the ref topic
        self.categorise: Categorise = self.partner_maps
        self.normalise = normalise
        self.canonical_topic = hub_topic("canonical")
        self._lock = asyncio.Lock()  # held while a batch is in flight; rebalances wait for it
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._maps: AIOKafkaConsumer | None = None  # the reference topic of category maps, no group
        self._maps_checked = 0.0
        self._producer: AIOKafkaProducer | None = None
        self.schemas = SchemaFeed(settings.kafka)  # writer schemas newer than this release's
        self._last_lag = 0.0
        self._uncommitted: dict[TopicPartition, int] = {}  # next offsets whose writes are acknowledged
        self._last_commit = 0.0
        self.records_done = 0
        self.backlog = 0  # records waiting on the input topics, as of the last lag report
        self.contact = BrokerContact()  # read by /health and the broker gauges (streams/health.py)
        self._prober: asyncio.Task[None] | None = None
        topology = settings.topology_dir
        self.members = Members(lambda: topology_members(topology)) if settings.members_only else None

    async def start(self) -> None:
        """Connect the producer and the pattern-subscribed consumer."""
        kafka = self.settings.kafka.to_aiokafka_kwargs()
        await self._new_producer()
        self._consumer = AIOKafkaConsumer(
            group_id=INGEST_GROUP,
            client_id="bluelight-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            fetch_max_wait_ms=self.settings.fetch_wait_ms,
            fetch_min_bytes=self.settings.fetch_min_bytes,
            isolation_level="read_committed",
            **kafka,
        )
        self._consumer.subscribe(pattern=INGEST_PATTERN, listener=_WaitForBatch(self))
        await self._consumer.start()
        self.contact.ok(time.monotonic())  # both clients reached the broker
        # its own task: the probe must go on while the loop waits on a broker that is gone
        self._prober = asyncio.create_task(self._probe_every(PROBE_EVERY_S))
        self._maps = AIOKafkaConsumer(
            enable_auto_commit=False, auto_offset_reset="earliest", client_id="bluelight-ingest-maps", **kafka
        )
        await self._maps.start()
        log.info("ingest: reading every topic matching %s as group %s", INGEST_PATTERN, INGEST_GROUP)

    async def run(self) -> None:
        """Read, route, write, commit, until :meth:`stop` is called."""
        consumer = self._require_consumer()
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=BATCH_RECORDS)
            async with self._lock:
                if batches and not self._stopping.is_set():
                    await self._handle(batches)
                if not batches or time.monotonic() - self._last_commit >= COMMIT_EVERY_S:
                    await self._commit()
            await self._read_maps()
            await self._report_lag()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the batch in flight (at most a poll timeout later)."""
        self._stopping.set()

    async def close(self) -> None:
        """Commit what was written, then disconnect (after :meth:`run` returned)."""
        if self._prober is not None:
            self._prober.cancel()
        if self._maps is not None:
            await self._maps.stop()
        if self._consumer is not None:
            await self.settle()
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self.schemas.close()

    async def settle(self) -> None:
        """Wait for the batch in flight, then commit everything written so far.

        A rebalance must not hand partitions over mid-batch, and the next owner should not
        replay what is done (it would be harmless, only slower).
        """
        async with self._lock:
            await self._commit()

    async def _read_maps(self) -> None:
        """Put in force any partner map published to the reference topic since the last look.

        The topic is compacted and keyed by member, and read from its start on every worker
        start, so the maps in force survive restarts. Nothing is committed: no group.
        """
        maps = self._maps
        if maps is None or self._stopping.is_set():  # close() may stop it while run() winds down
            return
        if not maps.assignment():
            if time.monotonic() - self._maps_checked < MAPS_CHECK_S:
                return
            self._maps_checked = time.monotonic()
            try:
                await maps._client.force_metadata_update()  # noqa: SLF001 - metadata of every topic, no auto-create
            except KafkaError:
                return
            parts = maps.partitions_for_topic(MAPS_TOPIC)
            if not parts:
                return
            maps.assign([TopicPartition(MAPS_TOPIC, p) for p in sorted(parts)])
        try:
            batches = await maps.getmany(timeout_ms=0)
        except ConsumerStoppedError:
            return
        for records in batches.values():
            for rec in records:
                self._apply_map(rec)

    def _apply_map(self, rec: ConsumerRecord[Any, Any]) -> None:
        try:
            local = decode_partner_map(rec.value or b"", self.partner_maps.reference)
        except ValueError as exc:
            log.warning("categories: %s[%d] offset=%d ignored: %s", *_where(rec), exc)
            self.metrics.faults.labels("categories").inc()
            return
        if self.partner_maps.update(local):
            rules = len(local.codes) + len(local.prefixes)
            log.info("categories: %s's own map v%d in force (%d rules)", local.member, local.version, rules)

    # -- one batch -----------------------------------------------------------------------

    async def _handle(self, batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        consumer = self._require_consumer()
        first = {tp: records[0].offset for tp, records in batches.items()}
        last = {tp: records[-1].offset for tp, records in batches.items()}
        if any(unknown_fingerprint(r.value) for records in batches.values() for r in records):
            # a partner may write with a version newer than this release: registered, it is read
            try:
                await self.schemas.catch_up()
            except (KafkaError, TimeoutError) as exc:
                log.error("ingest: the schema registry topic could not be read (%r); retrying the batch", exc)
                for tp, offset in first.items():
                    consumer.seek(tp, offset)
                await asyncio.sleep(RETRY_BACKOFF_S)
                return
        routed = [r for records in batches.values() for r in map(self._route, records) if r is not None]
        try:
            results = await asyncio.gather(*await self._write(routed), return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
        except KafkaError as exc:  # e.g. no metadata for a DLQ topic within the request timeout
            failed = [exc]
        if failed:
            # Nothing of this batch is committed: read it again (what did get written is
            # recognised downstream as a replay by its source offset).
            log.error("ingest: %d writes failed (first: %r); retrying the batch", len(failed), failed[0])
            if producers.broken(failed):  # every later send would fail the same way
                log.warning("ingest: the producer's sequence is broken; reconnecting it")
                await self._new_producer()
            for tp, offset in first.items():
                consumer.seek(tp, offset)
            await asyncio.sleep(RETRY_BACKOFF_S)
            return
        for r in routed:
            self._count(r)
        for tp, offset in last.items():
            self._uncommitted[tp] = offset + 1
        self.records_done += sum(len(r) for r in batches.values())

    async def _new_producer(self) -> None:
        """(Re)connect the idempotent producer: a new producer id, sequences from zero."""
        if self._producer is not None:
            await self._producer.stop()
        self._producer = AIOKafkaProducer(
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_batch_size=CANONICAL_BATCH_BYTES,
            client_id="bluelight-ingest",
            **self.settings.kafka.to_aiokafka_kwargs(),
        )
        await self._producer.start()

    async def _commit(self) -> None:
        """Commit the offsets of every record whose writes the broker has acknowledged."""
        if not self._uncommitted:
            return
        offsets, self._uncommitted = self._uncommitted, {}
        self._last_commit = time.monotonic()
        try:
            await self._require_consumer().commit(offsets)
        except (CommitFailedError, KafkaError) as exc:  # a rebalance: the next owner replays, harmlessly
            log.warning("ingest: offset commit failed (%s); those records will be read again", exc)

    async def _write(self, routed: list[Routed]) -> list[asyncio.Future[Any]]:
        """Queue every write of a batch; the futures resolve on the broker's acknowledgement.

        Canonical records go out as record batches built per partition (the partition their
        key hashes to, as the client's default partitioner would choose): one future per
        batch instead of one per record, and each partition's records stay in input order.
        """
        producer = self._require_producer()
        sends: list[asyncio.Future[Any]] = []
        for r in routed:
            if r.dead_letter is not None:
                d = r.dead_letter
                sends.append(await producer.send(d.topic, value=d.value, key=d.key, headers=d.headers))
        partitions = sorted(await producer.partitions_for(self.canonical_topic))
        by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
        for r in routed:
            key = canonical.key_of(r.canonical)
            by_partition.setdefault(canonical.partition_of(key, partitions), []).append(
                (key, canonical.encode(r.canonical))
            )
        for partition, records in by_partition.items():
            batch = producer.create_batch()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it
                    sends.append(await producer.send_batch(batch, self.canonical_topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)  # a first record always fits
            sends.append(await producer.send_batch(batch, self.canonical_topic, partition=partition))
        return sends

    def _route(self, rec: ConsumerRecord[Any, Any]) -> Routed | None:
        source = SourceRef(rec.topic, rec.partition, rec.offset)
        owner = parse_member_topic(rec.topic)
        if self.members is not None and owner is not None and not self.members.admits(owner.member):
            self.metrics.outsiders.labels(owner.member).inc()
            if self.members.should_log(owner.member):
                log.warning(
                    "ingest: %s is not a member of the topology; ignoring its records on %s "
                    "(plug it in with `bluelight members add`; see docs/topology.md)",
                    owner.member,
                    rec.topic,
                )
            return None
        try:
            return route(source, rec.key, rec.value, self.categorise, self.normalise)
        except NotAMemberTopic:
            log.error("ingest: %s[%d] offset=%d: not a member topic; skipped", *_where(rec))
            self.metrics.faults.labels("ingest").inc()
            return None
        except Exception as exc:  # a hub bug on this record: dead-letter it rather than stop the member
            log.exception("ingest: %s[%d] offset=%d could not be processed", *_where(rec))
            self.metrics.faults.labels("ingest").inc()
            return _failed(source, rec.key, rec.value, exc)

    def _count(self, routed: Routed) -> None:
        m = self.metrics
        m.received.labels(routed.member, routed.family).inc()
        if routed.rejection is not None:
            m.rejected.labels(routed.member, routed.family, routed.rejection.kind).inc()
        if routed.unclassified:
            m.unclassified.labels(routed.member, routed.family).inc(routed.unclassified)

    async def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag < LAG_EVERY_S:
            return
        self._last_lag = now
        consumer = self._require_consumer()
        self.metrics.ingest_partitions.set(len(consumer.assignment()))
        backlog = 0
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await consumer.position(tp)
            except KafkaError:
                continue
            self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(highwater - position, 0))
            backlog += max(highwater - position, 0)
        self.backlog = backlog

    async def _probe_every(self, seconds: float) -> None:
        """A metadata round trip to the broker every ``seconds``, noted in :attr:`contact`."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.wait_for(self._require_producer().client.fetch_all_metadata(), PROBE_TIMEOUT_S)
            except (KafkaError, OSError, TimeoutError) as exc:
                self.contact.failed(exc)
            else:
                self.contact.ok(time.monotonic())

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("ingest is not started")
        return self._consumer

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("ingest is not started")
        return self._producer


class _WaitForBatch(ConsumerRebalanceListener):
    """Hold a rebalance until the batch in flight is written, and commit what was written."""

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.ingest.settle()
        for tp in revoked:
            try:
                self.ingest.metrics.consumer_lag.remove(tp.topic, str(tp.partition))
            except KeyError:
                pass

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        topics = sorted({tp.topic for tp in assigned})
        log.info("ingest: reading %d partitions of %d member topics", len(assigned), len(topics))


def _failed(source: SourceRef, key: bytes | None, value: bytes | None, exc: Exception) -> Routed:
    """A record the hub failed on: dead-lettered as a validation failure, saying so."""
    owner = parse_member_topic(source.topic)
    if owner is None:  # pragma: no cover - route() already refused it
        raise NotAMemberTopic(source.topic)
    rejection = Rejection("validation", f"the hub could not process this event ({type(exc).__name__}: {exc})")
    marker = RejectedRecord(owner.member, owner.family, rejection.kind, None, source)
    letter = dead_letter(
        dlq_topic(owner.member), owner.member, source, key, value, rejection.kind, rejection.reason, None
    )
    return Routed(owner.member, owner.family, marker, letter, rejection, 0)


def _where(rec: ConsumerRecord[Any, Any]) -> tuple[str, int, int]:
    return rec.topic, rec.partition, rec.offset
