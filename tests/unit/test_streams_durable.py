"""The faust fixes: a producer-buffer flush that waits for everything, and applying each
canonical partition in order from where faust sought it (streams/faust_fixes.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from faust.transport.producer import ProducerBuffer

from streams.faust_fixes import DrainingProducerBuffer, SourceGate, source_positions


class SlowChannel:
    """A channel whose hand-over to the Kafka client takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.published: list[int] = []

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        await asyncio.sleep(self.delay)
        self.published.append(fut.n)


def message(channel: SlowChannel, n: int) -> Any:
    return SimpleNamespace(n=n, message=SimpleNamespace(channel=channel))


async def flushed_after(buffer_class: type[ProducerBuffer], delay: float) -> list[int]:
    channel = SlowChannel(delay)
    buffer = buffer_class()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    try:
        for n in range(3):
            buffer.put(message(channel, n))
        await buffer.flush()
        return list(channel.published)
    finally:
        buffer.pending = asyncio.Queue()  # nothing left for on_stop's flush
        await buffer.stop()


async def test_faust_buffer_flush_returns_early() -> None:
    # the behaviour being worked around: if this starts failing, faust fixed it upstream
    assert await flushed_after(ProducerBuffer, 0.3) != [0, 1, 2]


async def test_draining_flush_waits_for_every_message() -> None:
    assert await flushed_after(DrainingProducerBuffer, 0.3) == [0, 1, 2]


async def test_draining_flush_does_not_wait_for_what_is_put_after_it() -> None:
    # a steady stream keeps the buffer busy; the commit's flush must still return
    channel = SlowChannel(0.05)
    buffer = DrainingProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    stop = asyncio.Event()

    async def keep_putting() -> None:
        n = 100
        while not stop.is_set():
            buffer.put(message(channel, n))
            n += 1
            await asyncio.sleep(0.01)

    try:
        for n in range(3):
            buffer.put(message(channel, n))
        feeder = asyncio.create_task(keep_putting())
        await asyncio.wait_for(buffer.flush(), timeout=5)
        assert channel.published[:3] == [0, 1, 2]
        assert buffer.unsent > 0  # later messages were still waiting: the flush did not wait for them
        stop.set()
        await feeder
        await asyncio.wait_for(buffer.flush(), timeout=5)  # and once the stream stops, all go
        assert buffer.unsent == 0
    finally:
        buffer.pending = asyncio.Queue()
        await buffer.stop()


async def test_draining_flush_with_nothing_buffered_returns() -> None:
    buffer = DrainingProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await asyncio.wait_for(buffer.flush(), timeout=1)


# --- the gate and the rewind: apply each canonical partition in order from faust's seek ---------------


def test_gate_is_closed_until_armed_and_admits_only_the_next_offset() -> None:
    gate = SourceGate()
    assert gate.admit(0, 0, now=0.0) == "closed"
    gate.arm({0: 10, 1: 0})
    assert gate.admit(0, 12, now=1.0) == "ahead"  # stale prefetched record past a gap: refused
    assert gate.admit(0, 9, now=1.0) == "behind"
    assert gate.admit(0, 10, now=1.0) == "apply"
    assert gate.admit(0, 10, now=1.0) == "behind"  # the same record again
    assert gate.admit(0, 11, now=1.0) == "apply"
    assert gate.admit(1, 0, now=1.0) == "apply"
    assert gate.admit(2, 0, now=1.0) == "closed"  # not assigned here
    gate.close()
    assert gate.admit(0, 12, now=1.0) == "closed"


def test_gate_reports_partitions_stuck_behind_refused_records() -> None:
    gate = SourceGate()
    assert gate.admit(1, 5, now=0.0) == "closed"  # arrived while faust was still seeking
    gate.arm({0: 3, 1: 5})
    assert gate.stuck(now=1.0, patience=2.0) == {}
    assert gate.stuck(now=2.5, patience=2.0) == {1: 5}  # nothing since: read it again from 5
    assert gate.stuck(now=3.0, patience=2.0) == {}  # once per patience, so the seek can land
    assert gate.admit(1, 5, now=3.1) == "apply"
    assert gate.stuck(now=9.0, patience=2.0) == {}  # progress cleared it
    assert gate.admit(0, 4, now=9.0) == "ahead"
    assert gate.admit(0, 3, now=9.5) == "apply"  # the gap filled by itself
    assert gate.stuck(now=20.0, patience=2.0) == {}
    gate.close()
    assert gate.stuck(now=30.0, patience=2.0) == {}


def test_gate_waits_longer_after_each_seek_that_brought_no_progress() -> None:
    """A backlog that takes longer than the patience to reach the agent is not sought back in a
    loop (seen with a 100k-record group: a seek every 2 s, each before the last one landed)."""
    gate = SourceGate()
    gate.arm({0: 10})
    assert gate.admit(0, 50, now=0.0) == "ahead"
    reported = [t for t in range(0, 200) if gate.stuck(now=float(t), patience=2.0)]
    assert reported == [2, 6, 14, 30, 62, 94, 126, 158, 190]  # waits 2, 4, 8, 16, then 32 s each
    assert gate.admit(0, 10, now=200.0) == "apply"  # progress: the next refusal waits 2 s again
    assert gate.admit(0, 50, now=200.0) == "ahead"
    assert gate.stuck(now=202.0, patience=2.0) == {0: 11}


class FakeConsumer:
    """What source_positions uses of faust's consumer."""

    def __init__(
        self, committed: dict[TopicPartition, int | None], earliest: dict[TopicPartition, int]
    ) -> None:
        self._committed_offset = committed
        self.earliest = earliest

    def assignment(self) -> set[TopicPartition]:
        return set(self.earliest)

    async def earliest_offsets(self, *tps: TopicPartition) -> dict[TopicPartition, int]:
        return {tp: self.earliest[tp] for tp in tps}


async def test_source_positions_are_committed_else_earliest() -> None:
    canonical = "bluelight.hub.canonical.v1"
    p0, p1, p2 = (TopicPartition(canonical, p) for p in range(3))
    changelog = TopicPartition("bluelight.hub.entity-state-changelog.v1", 0)
    consumer = FakeConsumer(
        committed={p0: 120, p1: None, p2: 5},
        earliest={p0: 0, p1: 0, p2: 40, changelog: 0},  # p2's committed offset fell off the log
    )
    assert await source_positions(consumer, frozenset({canonical})) == {p0: 120, p1: 0, p2: 40}
    assert await source_positions(consumer, frozenset({"elsewhere"})) == {}


def test_commits_are_capped_at_what_the_gate_applied() -> None:
    """Refused records are acknowledged (so faust's rebalance does not wait on them for ever);
    the cap keeps faust's commit from passing them all the same."""
    gate = SourceGate()
    source = ("bluelight.hub.canonical.v1", 0)
    assert gate.commit_cap(source, 10) is None  # nothing known yet: commit nothing
    gate.arm({source: 4})
    assert gate.commit_cap(source, 10) == 4  # faust saw acks up to 9, nothing applied yet
    assert gate.admit(source, 4, now=0.0) == "apply"
    assert gate.admit(source, 6, now=0.0) == "ahead"  # refused (and acknowledged by the agent)
    assert gate.commit_cap(source, 7) == 5  # not past the refused record
    gate.close()  # a rebalance: what was applied still bounds the final commit
    assert gate.commit_cap(source, 7) == 5
    assert gate.commit_cap(source, 3) == 3
