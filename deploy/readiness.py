"""Waiting for a cluster to answer: every node must list every broker to an authenticated client."""

from __future__ import annotations

import time
from pathlib import Path

from deploy import health, process
from deploy.config import HOST, ClusterSpec
from deploy.errors import BrokerStartError
from deploy.info import admin_connection
from deploy.layout import Layout


def wait_ready(spec: ClusterSpec, layout: Layout, pids: dict[int, int], timeout: float, since: float) -> None:
    """Until every node answers a metadata request listing all brokers; else BrokerStartError."""
    connection = admin_connection(spec, layout)
    addresses = {n: f"{HOST}:{spec.client_port(n)}" for n in spec.node_ids}
    deadline = time.monotonic() + timeout
    last = "no node accepted a connection yet"
    while True:
        for n, pid in pids.items():
            if not process.alive(pid):
                tail = process.log_tail(layout.log(n))
                raise BrokerStartError(
                    f"node {n} (pid {pid}) exited {time.monotonic() - since:.1f} s after it was started. "
                    + disk_full_hint(process.log_tail(layout.log(n), 300), layout.data(n))
                    + f"Last lines of {layout.log(n)}:\n{tail}"
                )
        if all(process.port_open(spec.client_port(n)) for n in spec.node_ids):
            probes = health.probe(connection, list(addresses.values()), timeout=5.0)
            if all(p.ok and len(p.brokers) == spec.nodes for p in probes):
                return
            last = "; ".join(
                f"{p.address}: {p.error or f'sees brokers {list(p.brokers)}'}"
                for p in probes
                if not (p.ok and len(p.brokers) == spec.nodes)
            )
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- last lines of {layout.log(n)}:\n{process.log_tail(layout.log(n), 25)}"
                for n in spec.node_ids
            )
            raise BrokerStartError(
                f"the cluster on port {spec.port} did not answer clients within {timeout:.0f} s "
                f"({last}).\n{tails}"
            )
        time.sleep(0.5)


DISK_FULL = "No space left on device"


def disk_full_hint(log_tail: str, data_dir: Path) -> str:
    """A first line naming a full log dir, when the node's log says so ('' otherwise).

    Kafka halts a broker whose only log dir fails ("all log dirs ... have failed"); the cause
    is deep in a stack trace, so it is said here in one line, with what to do.
    """
    if DISK_FULL not in log_tail:
        return ""
    return (
        f"Its log dir {data_dir} is full ({DISK_FULL}): free space on that filesystem "
        "(or move the state dir to a bigger one), then run `bluelight kafka up` again; "
        "the broker recovers its logs from disk and nothing acknowledged is lost.\n"
    )
