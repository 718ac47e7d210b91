"""Every correction the worker makes to faust-streaming 0.15.3, in one place, each with its faust issue.

Remove a correction only when the faust release in pyproject.toml fixes it and the test named
beside it (tests/unit/test_streams_durable.py, the SIGKILL and multi-worker tests) still passes.

1. **Commits ahead of table writes** (no upstream issue; PR #273 added the flush before commit
   that this completes). Faust commits a source offset only after ``producer.flush()``, meant
   to make every changelog write of the processed events durable first. But
   ``ProducerBuffer.flush`` (where table writes and ``send_soon`` messages wait to be handed to
   the Kafka client) gives up as soon as one message takes longer than 0.1 s to hand over, and
   counts a message taken off its queue as flushed before it reaches the client. Under load the
   commit goes ahead with writes still in the buffer; a crash then loses state whose input will
   never be read again. :class:`DrainingProducerBuffer` waits until every message put before
   the flush has been handed to the client, so the client's own flush covers them all. It
   first calls the app's ``before_flush`` hooks: stage one keeps the contributions of the
   records it acknowledged in an outbox (to coalesce and pack them), and a commit must not pass
   a record whose contributions are still there.
2. **Records skipped or reordered at a start** (faust #216, "Recovery resumes from kafka before
   seeking to committed offsets"). While tables recover, the Kafka client already fetches the
   source partitions; faust drops those records and, once recovered, seeks each partition back
   to its committed offset. A partition with no committed offset yet (a new hub, or a worker
   killed before its first commit) is not sought at all, so the dropped records are never read;
   and records from the stale position can reach the agent before the seek lands. After faust's
   seek, :class:`HubApp` arms a :class:`SourceGate` with each source partition's position (its
   committed offset, or its earliest one without: what ``auto_offset_reset=earliest`` promises)
   and seeks every source partition there; the agents apply each partition strictly in order
   from that point and whatever the gate refused is read again.
3. **Records left waiting for 1.5 s** (no upstream issue found). faust's aiokafka driver
   hard-codes the consumer's ``fetch_max_wait_ms`` to 1500. The client fetches a partition only
   when no fetch for its broker is in flight, so a partition whose records were just taken waits
   for the broker to answer an idle long poll of the others. :class:`HubApp` sets it, and
   ``fetch_min_bytes``, from the settings.
4. **A producer buffer of 100** (no upstream issue). The stream stops for the buffer to drain,
   with a warning, at 100 waiting messages; stage one puts several per record.
5. **The terminal spinner turns on DEBUG logging** (no upstream issue). faust's spinner sets the
   root logger to DEBUG when the log level is WARN or above, so every library's debug call
   builds a record (5% of CPU in a profile): :func:`without_spinner`.
6. **datadir parents** (no upstream issue). faust creates only the last level of ``datadir``:
   :func:`make_datadir`.
7. **A web server that waits for ever** (no upstream issue). faust builds its aiohttp runner with
   no timeout for a request that is never finished, so a client sending half a request head holds
   a connection open indefinitely: :func:`bound_web_reads`.

Two more are met by how the agents are written, not patched here (docs/streams.md): an exception
escaping ``async for`` acks the event (faust #527), so each agent catches per record; and a
commit can pass an in-flight message with ``concurrency`` above 1 (faust #606), so each agent
runs with ``concurrency=1``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import faust
from faust.transport.producer import ProducerBuffer

# -- 2. the source gate -----------------------------------------------------------------------
#
# The source guards (streams/state.py) take a record at or below an entity's stored input offset
# for a replay. That holds only if each source partition is applied in order; the gate makes
# order a checked invariant instead of an assumption. It is armed with each partition's
# position when faust seeks, admits exactly the next offset, and refuses everything else.
# Refused records are not acknowledged, so faust never commits past them; a partition whose
# refused records are not followed by progress is reported as stuck, and the worker seeks it
# back to the expected offset so they are read again, in order. The agents acknowledge refused
# records as well (faust waits for every unacknowledged record before a rebalance, so a refused
# one held the rebalance, and the seek behind it, for ever once several workers shared the
# partitions); faust's commits of a source partition are capped at what the gate applied.
# The source topics' offsets are contiguous (no transactions, no compaction), so "the next
# offset" is always ``last + 1``.

Verdict = Literal["apply", "behind", "ahead", "closed"]
Source = tuple[str, int]  # (topic, partition)


MAX_BACKOFF = 4  # doublings of the re-seek patience: 2 s, 4, 8, 16, then every 32 s


class SourceGate:
    """Per-partition expected offsets of the source topics; closed until armed."""

    def __init__(self) -> None:
        self.expected: dict[Source, int] | None = None
        self.refused_since: dict[Source, float] = {}  # partition -> first refusal since progress
        # the offset after the last record applied per partition, kept while the gate is closed:
        # faust may commit a source partition up to here and no further (commit_cap)
        self.applied_next: dict[Source, int] = {}
        # seeks reported in a row per partition with no record applied since: each waits twice as
        # long as the one before (up to MAX_BACKOFF), so a backlog that takes longer than the
        # patience to reach the agent is not sought back again and again before it arrives
        self.reseeks: dict[Source, int] = {}

    def close(self) -> None:
        """Refuse everything (a seek or a rebalance is under way)."""
        self.expected = None

    def arm(self, positions: dict[Source, int]) -> None:
        """Open at these positions (partition -> the offset faust will deliver next)."""
        self.expected = dict(positions)
        self.applied_next.update(positions)

    def admit(self, partition: Source, offset: int, now: float) -> Verdict:
        """Whether the record at ``offset`` is the next one to apply (and if so, advance)."""
        verdict: Verdict
        if self.expected is None or partition not in self.expected:
            verdict = "closed"
        elif offset == self.expected[partition]:
            self.expected[partition] = offset + 1
            self.applied_next[partition] = offset + 1
            self.refused_since.pop(partition, None)
            self.reseeks.pop(partition, None)
            return "apply"
        else:
            verdict = "behind" if offset < self.expected[partition] else "ahead"
        if verdict != "behind":  # a record already applied needs nothing read again
            self.refused_since.setdefault(partition, now)
        return verdict

    def commit_cap(self, partition: Source, offset: int) -> int | None:
        """What faust may commit of ``offset`` for a source partition: never past what was applied.

        The agents acknowledge refused records too (an unacknowledged record holds faust's
        rebalance in ``wait_empty`` for ever, and the seek that would redeliver it waits for
        the rebalance); this cap is what keeps faust's commit from passing them. ``None``:
        nothing is known of that partition here, commit nothing.
        """
        applied = self.applied_next.get(partition)
        return None if applied is None else min(offset, applied)

    def stuck(self, now: float, patience: float) -> dict[Source, int]:
        """Partitions refused ``patience`` seconds ago without progress since: where to seek.

        Each is reported once per ``patience`` (its clock restarts), so a seek has time to land;
        the wait doubles with each report that no applied record followed (up to MAX_BACKOFF).
        """
        if self.expected is None:
            return {}
        out = {}
        for partition, since in list(self.refused_since.items()):
            wait = patience * 2 ** min(self.reseeks.get(partition, 0), MAX_BACKOFF)
            if now - since >= wait and partition in self.expected:
                out[partition] = self.expected[partition]
                self.refused_since[partition] = now
                self.reseeks[partition] = self.reseeks.get(partition, 0) + 1
        return out


# -- 1, 2, 3, 4: the app and its producer buffer ------------------------------------------------


class DrainingProducerBuffer(ProducerBuffer):
    """A producer buffer whose ``flush`` returns once everything put before it was handed over.

    Only what was put *before* the flush: under a steady stream the buffer is never empty, and
    a flush that waited for empty would hold faust's commit (and the fetch loop waiting on it)
    until the stream ran dry.

    ``max_messages`` is where faust's stream stops to let the buffer drain (and logs a warning
    each time). Stage one puts a changelog write and a few contributions per record, so faust's
    100 made every busy second a stream of warnings and tiny produce batches.
    """

    max_messages = 5_000

    def __post_init__(self) -> None:
        super().__post_init__()
        self.before_flush: list[Callable[[], None]] = []  # the app's: put what they hold back
        self.put_count = 0
        self.waiting: dict[int, int] = {}  # id(message) -> its put number, oldest first
        self.handed = asyncio.Event()

    @property
    def unsent(self) -> int:
        """Messages not yet handed to the Kafka client."""
        return len(self.waiting)

    def put(self, fut: Any) -> None:
        """Buffer a message (numbered, and waited for until the client has it)."""
        self.put_count += 1
        self.waiting[id(fut)] = self.put_count
        super().put(fut)

    async def _send_pending(self, fut: Any) -> None:
        try:
            await super()._send_pending(fut)
        finally:
            self.waiting.pop(id(fut), None)
            self.handed.set()

    async def flush(self) -> None:
        """Wait until every message put so far has been handed to the client."""
        for hand_over in self.before_flush:
            hand_over()
        if self.app is not None and self.app.conf.producer_threaded:
            await super().flush()  # the threaded producer drains its own queue
            return
        target = self.put_count
        while self.waiting and next(iter(self.waiting.values())) <= target:
            self.handed.clear()
            await self.handed.wait()


class HubApp(faust.App):
    """The worker's faust app: faust with the fixes of the module doc.

    ``source_topics`` names the topics the agents read (not changelogs); ``gate`` is closed
    while faust seeks them and armed with where each partition was sought. ``fetch`` is
    (fetch_max_wait_ms, fetch_min_bytes) for its consumer.
    """

    def __init__(
        self,
        *args: Any,
        source_topics: frozenset[str] = frozenset(),
        fetch: tuple[int, int] = (500, 1),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source_topics = source_topics
        self.fetch_wait_ms, self.fetch_min_bytes = fetch
        self.gate = SourceGate()
        # called at the start of every producer flush, so before every commit (1. above)
        self.before_flush: list[Callable[[], None]] = []

    def _new_consumer(self) -> Any:
        consumer: Any = super()._new_consumer()
        seek_to_committed = consumer.perform_seek

        async def perform_seek() -> None:
            self.gate.close()
            await seek_to_committed()
            positions = await source_positions(consumer, self.source_topics)
            # armed first, then every source partition sought to where it says: whatever
            # arrived while it was closed, or arrives from a stale position, is read again
            self.gate.arm({(tp.topic, tp.partition): offset for tp, offset in positions.items()})
            if positions:
                await consumer.seek_wait(positions)

        consumer.perform_seek = perform_seek
        commit_offsets = consumer._commit_offsets  # noqa: SLF001 - where every commit passes

        async def capped_commit(offsets: Any, start_new_transaction: bool = True) -> bool:
            capped = {}
            for tp, offset in offsets.items():
                if tp.topic in self.source_topics:
                    cap = self.gate.commit_cap((tp.topic, tp.partition), offset)
                    if cap is None:
                        continue
                    offset = cap
                capped[tp] = offset
            if not capped:
                return False
            return bool(await commit_offsets(capped, start_new_transaction=start_new_transaction))

        consumer._commit_offsets = capped_commit  # noqa: SLF001
        thread = consumer._thread  # noqa: SLF001 - where faust builds the Kafka client
        create_client = thread._create_worker_consumer  # noqa: SLF001

        def create_worker_consumer(transport: Any) -> Any:
            client = create_client(transport)
            client._fetch_max_wait_ms = self.fetch_wait_ms  # noqa: SLF001 - read when it starts
            client._fetch_min_bytes = self.fetch_min_bytes  # noqa: SLF001
            return client

        thread._create_worker_consumer = create_worker_consumer  # noqa: SLF001
        return consumer

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        buffer = DrainingProducerBuffer(loop=producer.loop, beacon=producer.beacon)
        buffer.app = self
        buffer.before_flush = self.before_flush
        producer.buffer = buffer
        return producer


async def source_positions(consumer: Any, topics: frozenset[str]) -> dict[Any, int]:
    """Where each assigned partition of ``topics`` is to be read from after faust's seek.

    Its committed offset, or the earliest one when it has none (faust would not seek it at
    all) or when the committed offset has fallen off the log.
    """
    # faust's perform_seek records the committed offsets it found (only positive ones)
    committed = consumer._committed_offset  # noqa: SLF001 - what faust's own seek left behind
    assigned = [tp for tp in consumer.assignment() if tp.topic in topics]
    if not assigned:
        return {}
    earliest = await consumer.earliest_offsets(*assigned)
    return {tp: max(committed.get(tp) or 0, earliest[tp]) for tp in assigned}


def without_spinner(worker: Any) -> Any:
    """Turn faust's terminal spinner off (5. above); returns the worker."""
    worker.spinner = None
    return worker


def bound_web_reads(app: Any, seconds: float) -> None:
    """Drop a connection whose request head has not arrived within ``seconds`` (7. above).

    Call after the pages are added and before the worker starts: faust makes the runner when
    its web server object is created and sets it up only when the server starts.
    """
    from aiohttp.web import AppRunner

    web = app.web
    web._runner = AppRunner(web.web_app, access_log=None, keepalive_timeout=seconds)  # noqa: SLF001


def make_datadir(path: Path) -> Path:
    """Create faust's ``datadir`` with its parents (6. above)."""
    path.mkdir(parents=True, exist_ok=True)
    return path
