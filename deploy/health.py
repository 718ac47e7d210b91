"""Is a broker really serving clients? Ask it, as a client would.

An open port or a "Kafka Server started" log line says little (a secure broker can be up
and still reject every login); a Kafka Metadata request through aiokafka, authenticated
like the hub's own clients, says the broker answers, who it is and which brokers it knows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bluelight.settings import KafkaConnection

T = TypeVar("T")


@dataclass(frozen=True)
class Probe:
    """One node's answer to a metadata request (or why there was none)."""

    address: str
    brokers: tuple[int, ...] = ()
    cluster_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The node answered an authenticated metadata request."""
        return self.error is None


async def probe_node(connection: KafkaConnection, address: str, timeout: float) -> Probe:
    """Connect to one node (SASL handshake included) and ask for cluster metadata."""
    from aiokafka.conn import create_conn
    from aiokafka.protocol.metadata import MetadataRequest

    host, port = address.rsplit(":", 1)
    kwargs = connection.to_aiokafka_kwargs()
    kwargs.pop("bootstrap_servers")
    conn = None
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(
                host,
                int(port),
                client_id="bluelight-health",
                request_timeout_ms=int(timeout * 1000),
                **kwargs,
            )
            response: Any = await conn.send(MetadataRequest([]))
    except Exception as exc:  # any failure is the answer: "not healthy, because ..."
        name, text = type(exc).__name__, str(exc)
        return Probe(address, error=text if text.startswith(name) else f"{name}: {text}".rstrip(": "))
    finally:
        if conn is not None:
            conn.close()
    brokers = tuple(sorted(int(broker[0]) for broker in response.brokers))
    cluster_id = getattr(response, "cluster_id", None)
    return Probe(address, brokers=brokers, cluster_id=cluster_id)


async def probe_all(connection: KafkaConnection, addresses: list[str], timeout: float) -> list[Probe]:
    """Probe several nodes concurrently."""
    return list(await asyncio.gather(*(probe_node(connection, a, timeout) for a in addresses)))


def probe(connection: KafkaConnection, addresses: list[str], timeout: float = 5.0) -> list[Probe]:
    """Blocking :func:`probe_all`, callable from plain code and from inside an event loop."""
    return run_sync(probe_all(connection, addresses, timeout))


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion; in a helper thread if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
