"""faust's producer buffer flush gives up after 0.1 s; ours waits until everything is handed over."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.producer import ProducerBuffer

from streams.durable import DrainingProducerBuffer


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


async def test_draining_flush_with_nothing_buffered_returns() -> None:
    buffer = DrainingProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await asyncio.wait_for(buffer.flush(), timeout=1)
