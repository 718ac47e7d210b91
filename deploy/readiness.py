"""Waiting for a cluster to answer: every node must list every broker to an authenticated client."""

from __future__ import annotations

import time

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
                raise BrokerStartError(
                    f"node {n} (pid {pid}) exited {time.monotonic() - since:.1f} s after it was started. "
                    f"Last lines of {layout.log(n)}:\n{process.log_tail(layout.log(n))}"
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
