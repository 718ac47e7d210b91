"""Bring a local Kafka cluster up, report on it, and take it down: the API behind ``bluelight kafka``.

The flow of :func:`ensure_up`: take the cluster's lock -> if its nodes already run and answer
clients, return -> otherwise check the ports, get the jars (cache or Maven), format the
storage once (secure clusters get their passwords here), write the configs, start the
missing nodes, and wait until every node answers an authenticated metadata request.

Everything about one cluster lives in ``<state_dir>/kafka/<port>/``: ``cluster.json`` (its
shape and cluster id, written once formatting succeeded), ``secrets.json`` (0600, secure
only) and ``node-<id>/`` with ``server.properties``, ``data/``, ``broker.log`` and
``broker.pid``. Tests share clusters through :func:`borrowed`, which counts its users so the
session that started a broker stops it only when nobody else still uses it.

The steps are in deploy/start.py (bringing up), deploy/readiness.py (waiting for answers)
and deploy/teardown.py (stopping); what they return is in deploy/info.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bluelight.settings import HubSettings
from deploy import config, health, process
from deploy.config import ClusterSpec
from deploy.errors import DeployError
from deploy.info import BrokerInfo, Node, Status, admin_connection, nodes_of
from deploy.jars import resolve
from deploy.layout import Layout, read_meta, running_pid
from deploy.locks import file_lock
from deploy.start import Progress, bring_up
from deploy.teardown import live_leases, stop_nodes
from deploy.tools import require_java

__all__ = [
    "BrokerInfo",
    "Node",
    "Progress",
    "Status",
    "borrowed",
    "ensure_up",
    "kill_node",
    "known_ports",
    "quorum_leader",
    "status",
    "stop",
]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


def ensure_up(
    settings: HubSettings,
    port: int = 9092,
    *,
    secure: bool = False,
    nodes: int = 1,
    progress: Progress = _quiet,
    temporary: bool = False,
) -> BrokerInfo:
    """Make sure the cluster on ``port`` runs and answers clients; start what is missing.

    ``temporary`` marks a cluster this call starts as a test session's, which the last test
    session using it stops (see :func:`borrowed`); a running cluster keeps its mark.
    """
    spec = ClusterSpec(port=port, nodes=nodes, secure=secure)
    layout = Layout(settings.state_dir, port)
    with _locked(layout, progress):
        return bring_up(spec, layout, progress, temporary)


def stop(
    settings: HubSettings, port: int = 9092, *, wipe: bool = False, progress: Progress = _quiet
) -> dict[int, str]:
    """Stop every node of the cluster on ``port`` (SIGTERM, wait, SIGKILL); ``wipe`` deletes its data.

    Returns how each running node ended, by node id (empty when none ran).
    """
    layout = Layout(settings.state_dir, port)
    if not layout.root.exists():
        return {}
    with _locked(layout, progress):
        return stop_nodes(layout, wipe)


def status(settings: HubSettings, port: int = 9092, timeout: float = 3.0) -> Status:
    """Which nodes of the cluster on ``port`` run, and whether each answers clients."""
    layout = Layout(settings.state_dir, port)
    meta = read_meta(layout)
    if meta is None:
        return Status(layout, None, (), ())
    nodes = nodes_of(meta.spec, layout)
    probes = tuple(health.probe(admin_connection(meta.spec, layout), [n.address for n in nodes], timeout))
    return Status(layout, meta, nodes, probes)


def known_ports(settings: HubSettings) -> list[int]:
    """Ports of every cluster ever formatted under this state dir."""
    base = Layout(settings.state_dir, 0).root.parent
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit() and (p / "cluster.json").is_file())


def kill_node(settings: HubSettings, port: int, node_id: int) -> int:
    """SIGKILL one node (no controlled shutdown), for failure tests; returns its pid."""
    layout = Layout(settings.state_dir, port)
    pid = running_pid(layout, node_id)
    if pid is None:
        raise DeployError(f"node {node_id} of the cluster on port {port} is not running")
    process.kill(pid)
    layout.pid_file(node_id).unlink(missing_ok=True)
    return pid


_LEADER_RE = re.compile(r"^LeaderId:\s+(\d+)\s*$", re.MULTILINE)


def quorum_leader(settings: HubSettings, port: int, timeout: float = 60.0) -> int:
    """The node id of the active KRaft controller (the metadata quorum's leader), for failure tests.

    Asked of the cluster the way an operator would (``kafka-metadata-quorum describe --status``,
    the DescribeQuorum API): in KRaft the controller id that Metadata and DescribeCluster report
    to clients is any live broker, not the controller.
    """
    layout = Layout(settings.state_dir, port)
    meta = read_meta(layout)
    if meta is None:
        raise DeployError(f"no cluster was formatted under {layout.root}")
    args = ["--bootstrap-server", meta.spec.bootstrap]
    if meta.spec.secure:
        args += ["--command-config", str(layout.admin_properties)]
    cmd = config.tool_command(
        require_java(),
        resolve(_quiet).classpath,
        layout.tools_log4j,
        "org.apache.kafka.tools.MetadataQuorumCommand",
        *args,
        "describe",
        "--status",
    )
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    found = _LEADER_RE.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise DeployError(
            f"kafka-metadata-quorum exited {done.returncode} without a leader:\n{done.stdout}{done.stderr}"
        )
    return int(found.group(1))


@contextmanager
def borrowed(
    settings: HubSettings,
    port: int = 9092,
    *,
    secure: bool = False,
    nodes: int = 1,
    progress: Progress = _quiet,
) -> Iterator[BrokerInfo]:
    """Use the cluster for a while (a test session): start it if needed, stop it after if we may.

    On exit the cluster is stopped only if a borrower started it (not ``kafka up``) and no
    other live borrower (another pytest process) still holds a lease on it; it is then wiped,
    so topics, consumer groups and offsets never pile up from run to run (the next session
    starts a fresh one). A borrower's cluster that a killed session left behind is wiped on
    entry for the same reason.
    """
    spec = ClusterSpec(port=port, nodes=nodes, secure=secure)
    layout = Layout(settings.state_dir, port)
    with _locked(layout, progress):
        if layout.temporary.exists() and not live_leases(layout):
            # a test session that was killed left its cluster (running or not) with its topics,
            # groups and offsets: the next session's workers would resume from them
            progress(f"a killed test session left {layout.root} behind; wiping it to start fresh")
            stop_nodes(layout, wipe=True)
        info = bring_up(spec, layout, progress, temporary=True)
        layout.leases.mkdir(parents=True, exist_ok=True)
        lease = layout.leases / f"{os.getpid()}-{process.start_time(os.getpid())}-{uuid.uuid4().hex[:8]}"
        lease.touch()
    try:
        yield info
    finally:
        with _locked(layout, progress):
            lease.unlink(missing_ok=True)
            if info.managed and layout.temporary.exists() and not live_leases(layout):
                stop_nodes(layout, wipe=True)


@contextmanager
def _locked(layout: Layout, progress: Progress) -> Iterator[None]:
    layout.root.mkdir(parents=True, exist_ok=True)
    with file_lock(
        layout.lock,
        waiting=lambda: progress(f"another command is starting or stopping {layout.root}; waiting..."),
    ):
        yield
