"""A TCP proxy that makes a slow, lossy or cut network between a client and a broker (test tooling).

Why not ``tc netem`` and ``iptables``: the kernels of these machines have no ``sch_netem``
("Specified qdisc kind is unknown") and neither iptables nor nft is installed; a proxy in the
test process needs no kernel module, no package and no root, behaves the same on every
machine CI gets, and keeps all traffic on 127.0.0.1. What it does to each byte stream:

- **delay**: every chunk read is released ``delay`` (plus uniform ``jitter``) later, each way;
  order is kept (a chunk never overtakes the one before it), as on a real link.
- **loss**: TCP hides a lost segment from the application as a stall (the sender retransmits
  after its timeout, 200 ms at least on Linux, and what follows waits behind it); so with
  probability ``stall_p`` a chunk is held ``stall`` seconds longer, and the chunks after it wait.
- **partition**: nothing moves either way, but no connection is closed or refused: held bytes
  wait in the proxy as they would in the peers' retransmit queues while a link is down, new
  connections are accepted but not carried to the broker until the link is healed. Clients see
  what they see when a cable is pulled: requests that never answer.

The proxy runs its own event loop in a thread, so the test's loop (publishing, polling) does not
slow it down, and the test's measurements are not skewed by it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    """What the link does now; changed by the test while traffic flows."""

    delay: float = 0.0  # seconds, each way
    jitter: float = 0.0  # extra seconds, uniform in [0, jitter]
    stall_p: float = 0.0  # probability a chunk is held back (a lost segment)
    stall: tuple[float, float] = (0.2, 0.6)  # how long a held-back chunk waits, seconds
    partitioned: bool = False


@dataclass
class Counts:
    """What went through, for the test's report."""

    connections: int = 0
    chunks: int = 0
    bytes: int = 0
    stalls: int = 0
    held_in_partition: int = 0  # chunks that had to wait for the link to heal
    closed: list[str] = field(default_factory=list)


class NetProxy:
    """127.0.0.1:``listen`` -> 127.0.0.1:``target`` through :class:`Faults`."""

    def __init__(self, listen: int, target: int, seed: int = 0) -> None:
        self.listen = listen
        self.target = target
        self.faults = Faults()
        self.counts = Counts()
        self._rng = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._healed = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, name="netproxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- control, from the test's thread ------------------------------------------------------

    def start(self) -> None:
        """Listen (returns once the port is bound)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def set(self, **changes: object) -> None:
        """Change the faults (e.g. ``set(delay=0.15, jitter=0.05)`` or ``set(partitioned=True)``)."""

        def apply() -> None:
            for name, value in changes.items():
                if not hasattr(self.faults, name):
                    raise AttributeError(f"no such fault: {name}")
                setattr(self.faults, name, value)
            if self.faults.partitioned:
                self._healed.clear()
            else:
                self._healed.set()

        self._loop.call_soon_threadsafe(apply)

    def close(self) -> None:
        """Close every connection and the listener, stop the thread."""
        if not self._thread.is_alive():
            return

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    # --- the proxy, on its own loop -----------------------------------------------------------

    async def _listen(self) -> None:
        self._healed.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.counts.connections += 1
        try:
            await self._healed.wait()  # a SYN across a cut link gets nowhere
            b_reader, b_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except (OSError, asyncio.CancelledError):
            c_writer.close()
            return
        up = self._spawn(self._pipe(c_reader, b_writer))
        down = self._spawn(self._pipe(b_reader, c_writer))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            for w in (c_writer, b_writer):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Carry one direction: read chunks, release each at its time, in order."""
        queue: deque[tuple[float, bytes]] = deque()
        ready = asyncio.Event()
        done = False

        async def send() -> None:
            while True:
                while not queue:
                    if done:
                        return
                    ready.clear()
                    await ready.wait()
                at, chunk = queue[0]
                wait = at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not self._healed.is_set():
                    self.counts.held_in_partition += 1
                    await self._healed.wait()
                queue.popleft()
                writer.write(chunk)
                await writer.drain()

        sender = self._spawn(send())
        last = 0.0
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                f = self.faults
                at = time.monotonic() + f.delay + (self._rng.uniform(0, f.jitter) if f.jitter else 0.0)
                if f.stall_p and self._rng.random() < f.stall_p:
                    at += self._rng.uniform(*f.stall)
                    self.counts.stalls += 1
                last = max(last, at)  # nothing overtakes what was sent before it
                queue.append((last, chunk))
                self.counts.chunks += 1
                self.counts.bytes += len(chunk)
                ready.set()
            done = True
            ready.set()
            await sender
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.counts.closed.append(type(exc).__name__)
        finally:
            sender.cancel()
