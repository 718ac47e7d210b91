"""A fix for faust 0.15.3: offsets committed before the table writes they depend on were sent.

Faust commits a source offset only after ``producer.flush()``, meant to make every changelog
write of the processed events durable first. But ``ProducerBuffer.flush`` (where table
writes wait to be handed to the Kafka client) gives up as soon as one message takes longer
than 0.1 s to hand over, and it counts a message taken off its queue as flushed before it
reaches the client. Under load the commit then goes ahead with changelog writes still in
the buffer; a crash right after it loses state whose input will never be read again.

``HubApp`` gives its producer a buffer whose ``flush`` waits until every message put into
it has been handed to the client, so the client's own flush (which waits for the broker's
acknowledgements) covers them all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.transport.producer import ProducerBuffer


class DrainingProducerBuffer(ProducerBuffer):
    """A producer buffer whose ``flush`` returns only when nothing is left to hand over."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.unsent = 0
        self.drained = asyncio.Event()
        self.drained.set()

    def put(self, fut: Any) -> None:
        """Buffer a message (counted until the client has it)."""
        self.unsent += 1
        self.drained.clear()
        super().put(fut)

    async def _send_pending(self, fut: Any) -> None:
        try:
            await super()._send_pending(fut)
        finally:
            self.unsent -= 1
            if self.unsent == 0:
                self.drained.set()

    async def flush(self) -> None:
        """Wait until every buffered message has been handed to the client."""
        if self.app is not None and self.app.conf.producer_threaded:
            await super().flush()  # the threaded producer drains its own queue
            return
        await self.drained.wait()


class HubApp(faust.App):
    """The worker's faust app: faust with a draining producer buffer (see the module doc)."""

    def _new_producer(self) -> Any:
        producer = super()._new_producer()
        buffer = DrainingProducerBuffer(loop=producer.loop, beacon=producer.beacon)
        buffer.app = self
        producer.buffer = buffer
        return producer
