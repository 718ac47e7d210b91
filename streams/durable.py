"""Fixes for faust 0.15.3 that at-least-once depends on (docs/streams.md, "Faust quirks").

**Commits ahead of table writes.** Faust commits a source offset only after
``producer.flush()``, meant to make every changelog write of the processed events durable
first. But ``ProducerBuffer.flush`` (where table writes wait to be handed to the Kafka
client) gives up as soon as one message takes longer than 0.1 s to hand over, and it counts
a message taken off its queue as flushed before it reaches the client. Under load the commit
then goes ahead with changelog writes still in the buffer; a crash right after it loses
state whose input will never be read again. ``HubApp`` gives its producer a buffer whose
``flush`` waits until every message put into it before the flush has been handed to the
client, so the client's own flush (which waits for the broker's acknowledgements) covers
them all.

**Records skipped or reordered at a start.** While tables recover, the Kafka client already
fetches the source partitions; faust drops those records and, once recovered, seeks each
partition back to its committed offset. A partition with no committed offset yet (a new hub,
or a worker killed before its first commit) is not sought at all, so the dropped records are
never read; and records from the stale position can reach the agent before the seek lands.
After faust's seek, ``HubApp`` arms a :class:`~streams.gate.SourceGate` with each source
partition's position (its committed offset, or its earliest one without: what
``auto_offset_reset=earliest`` promises) and seeks every source partition there, so the
agent applies each partition in order from that point and whatever it refused is read again.

**Records left waiting for 1.5 s.** faust's aiokafka driver hard-codes the consumer's
``fetch_max_wait_ms`` to 1500. The client fetches a partition only when no fetch for its
broker is in flight, so a partition whose records were just taken (or resumed after faust's
flow control paused it) waits for the broker to answer an idle long poll of the others: up to
1.5 s of latency with nothing wrong. ``HubApp`` sets it, and ``fetch_min_bytes``, from the
settings (``fetch_wait_ms``, ``fetch_min_bytes``), as ingest does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.transport.producer import ProducerBuffer

from streams.gate import SourceGate


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
