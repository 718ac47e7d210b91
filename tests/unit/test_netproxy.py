"""The network-fault proxy of test_network_faults does what it says: delays in order, holds across a cut.

If it silently passed bytes straight through, the network test would measure a healthy link and
call it a slow one; these checks run it against an echo server on 127.0.0.1 in milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.hub_run import free_port
from tests.netproxy import NetProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(4096):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[NetProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    target = server.sockets[0].getsockname()[1]
    p = NetProxy(free_port(), target, seed=1)
    p.start()
    try:
        yield p
    finally:
        p.close()
        server.close()


async def _round_trip(port: int, payloads: list[bytes], timeout: float = 10.0) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    for p in payloads:
        writer.write(p)
        await writer.drain()
        await asyncio.sleep(0.005)
    want = sum(len(p) for p in payloads)
    got = b""
    while len(got) < want:
        got += await asyncio.wait_for(reader.read(65536), timeout)
    writer.close()
    return got, time.monotonic() - began


async def test_delay_applies_each_way_and_keeps_order(proxy: NetProxy) -> None:
    proxy.set(delay=0.1, jitter=0.05, stall_p=0.3, stall=(0.05, 0.1))
    await asyncio.sleep(0.05)
    payloads = [f"chunk-{i:03d};".encode() for i in range(40)]
    got, took = await _round_trip(proxy.listen, payloads)
    assert got == b"".join(payloads), "the proxy reordered or lost bytes"
    assert took >= 0.2, f"a round trip through 100 ms each way took {took:.3f}s"
    assert proxy.counts.stalls > 0


async def test_partition_holds_bytes_until_healed(proxy: NetProxy) -> None:
    proxy.set(partitioned=True)
    await asyncio.sleep(0.05)
    trip = asyncio.create_task(_round_trip(proxy.listen, [b"held across the cut"]))
    await asyncio.sleep(0.5)
    assert not trip.done(), "bytes crossed a partitioned link"
    proxy.set(partitioned=False)
    got, took = await trip
    assert got == b"held across the cut" and took >= 0.5


async def test_partition_stalls_an_open_connection_without_closing_it(proxy: NetProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.listen)
    writer.write(b"before")
    assert await asyncio.wait_for(reader.readexactly(6), 5) == b"before"
    proxy.set(partitioned=True)
    await asyncio.sleep(0.05)
    writer.write(b"during")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(6), 0.5)
    proxy.set(partitioned=False)
    assert await asyncio.wait_for(reader.readexactly(6), 5) == b"during"
    assert proxy.counts.held_in_partition >= 1
    writer.close()
