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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from bluelight.settings import HubSettings, KafkaConnection
from deploy import config, health, process
from deploy.config import ADMIN_USER, HOST, ClusterSpec, Secrets
from deploy.errors import BrokerStartError, DeployError
from deploy.jars import KAFKA_VERSION, resolve
from deploy.layout import (
    Layout,
    Meta,
    read_meta,
    read_secrets,
    running_pid,
    write_atomic,
    write_meta,
    write_private,
    write_secrets,
)
from deploy.locks import file_lock
from deploy.tools import require_java

Progress = Callable[[str], None]
READY_TIMEOUT_S = {1: 60.0, 3: 120.0}
STOP_TIMEOUT_S = 30.0
LOG_ROTATE_BYTES = 20 * 1024 * 1024


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class Node:
    """One combined broker+controller process."""

    node_id: int
    port: int
    controller_port: int
    log: Path
    pid: int | None

    @property
    def address(self) -> str:
        """host:port clients use."""
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class BrokerInfo:
    """A running cluster and how to reach it as its administrator."""

    spec: ClusterSpec
    root: Path
    nodes: tuple[Node, ...]
    connection: KafkaConnection
    env: dict[str, str]
    started: bool  # this call started at least one node
    managed: bool = True  # False: a broker that answers on the port but was not started from this state dir
    temporary: bool = False  # started by a test session, which will stop it when the last one ends
    timings: dict[str, float] = field(default_factory=dict)
    cluster_id: str | None = None

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers (all nodes)."""
        return self.connection.bootstrap

    @property
    def username(self) -> str:
        """The admin's SASL user name ('' on a plaintext cluster)."""
        return self.connection.sasl_username

    @property
    def password(self) -> str:
        """The admin's SASL password ('' on a plaintext cluster)."""
        return self.connection.sasl_password.get_secret_value()

    def node(self, node_id: int) -> Node:
        """The node with this id."""
        return next(n for n in self.nodes if n.node_id == node_id)

    def hub_settings(self, **overrides: object) -> HubSettings:
        """HubSettings that connect as this cluster's admin (``overrides`` e.g. ``state_dir=...``)."""
        values: dict[str, object] = {
            "bootstrap": self.bootstrap,
            "security_protocol": self.connection.security_protocol,
            "sasl_mechanism": self.connection.sasl_mechanism,
            "sasl_username": self.username,
            "sasl_password": self.connection.sasl_password,
        }
        values.update(overrides)
        return HubSettings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Status:
    """What ``kafka status`` reports for one port."""

    layout: Layout
    meta: Meta | None
    nodes: tuple[Node, ...]
    probes: tuple[health.Probe, ...]

    @property
    def healthy(self) -> bool:
        """Every node runs and answers with the full broker list."""
        if self.meta is None or not self.probes:
            return False
        want = self.meta.spec.nodes
        return all(n.pid is not None for n in self.nodes) and all(
            p.ok and len(p.brokers) == want for p in self.probes
        )


# --- the public API -------------------------------------------------------------------------


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
        return _up(spec, layout, progress, temporary)


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
        return _stop(layout, wipe)


def status(settings: HubSettings, port: int = 9092, timeout: float = 3.0) -> Status:
    """Which nodes of the cluster on ``port`` run, and whether each answers clients."""
    layout = Layout(settings.state_dir, port)
    meta = read_meta(layout)
    if meta is None:
        return Status(layout, None, (), ())
    nodes = _nodes(meta.spec, layout)
    probes = tuple(health.probe(_admin_connection(meta.spec, layout), [n.address for n in nodes], timeout))
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
    other live borrower (another pytest process) still holds a lease on it.
    """
    spec = ClusterSpec(port=port, nodes=nodes, secure=secure)
    layout = Layout(settings.state_dir, port)
    with _locked(layout, progress):
        info = _up(spec, layout, progress, temporary=True)
        layout.leases.mkdir(parents=True, exist_ok=True)
        lease = layout.leases / f"{os.getpid()}-{process.start_time(os.getpid())}-{uuid.uuid4().hex[:8]}"
        lease.touch()
    try:
        yield info
    finally:
        with _locked(layout, progress):
            lease.unlink(missing_ok=True)
            if info.managed and layout.temporary.exists() and not _live_leases(layout):
                _stop(layout, wipe=False)


# --- bringing it up -------------------------------------------------------------------------


def _up(spec: ClusterSpec, layout: Layout, progress: Progress, temporary: bool) -> BrokerInfo:
    began = time.monotonic()
    timings: dict[str, float] = {}
    meta = read_meta(layout)
    if meta is not None and meta.spec != spec:
        raise DeployError(
            f"{layout.root} holds a cluster of {meta.spec.describe()}, not {spec.describe()}. "
            f"Stop and delete it with `bluelight kafka down --port {spec.port} --wipe`, "
            "or pick another --port."
        )
    running = {n: running_pid(layout, n) for n in spec.node_ids}
    if meta is not None and all(running.values()):
        pids = {n: pid for n, pid in running.items() if pid is not None}
        _wait_ready(spec, layout, pids, READY_TIMEOUT_S[spec.nodes] / 2, began)
        return _info(spec, layout, meta, started=False, timings={"check": time.monotonic() - began})
    if not any(running.values()):
        foreign = _foreign_broker(spec, layout)
        if foreign is not None:
            return foreign
    java = require_java()
    jars = resolve(progress)
    timings["jars"] = jars.seconds
    how = "fetched" if jars.fetched else "cached"
    progress(f"jars: {jars.count} jars {how} in {jars.lib} ({jars.seconds:.1f} s)")

    _check_ports_free(spec, layout, [n for n, pid in running.items() if pid is None])

    if meta is None or any(not (layout.data(n) / "meta.properties").is_file() for n in spec.node_ids):
        t0 = time.monotonic()
        meta = _format(spec, layout, meta, java, jars.classpath)
        timings["format"] = time.monotonic() - t0
        progress(f"storage formatted: cluster id {meta.cluster_id} ({timings['format']:.1f} s)")
    keys = read_secrets(layout) if spec.secure else None
    _write_configs(spec, layout, keys)

    t0 = time.monotonic()
    was_down = not any(running.values())
    started: dict[int, int] = {}
    for n in spec.node_ids:
        if running[n] is None:
            started[n] = _start_node(spec, layout, n, java, jars.classpath)
    if was_down:  # who started it decides whether a test session may stop it again
        if temporary:
            layout.temporary.touch()
        else:
            layout.temporary.unlink(missing_ok=True)
    progress(
        "starting "
        + ", ".join(f"node {n} (pid {pid}) on {HOST}:{spec.client_port(n)}" for n, pid in started.items())
        + f"; waiting until {'it answers' if len(started) == 1 else 'they answer'} clients..."
    )
    pids = {n: pid for n, pid in running.items() if pid is not None} | started
    try:
        _wait_ready(spec, layout, pids, READY_TIMEOUT_S[spec.nodes], t0)
    except BrokerStartError:
        process.stop(list(started.values()), STOP_TIMEOUT_S)
        for n in started:
            layout.pid_file(n).unlink(missing_ok=True)
        layout.temporary.unlink(missing_ok=True)
        raise
    timings["start"] = time.monotonic() - t0
    timings["total"] = time.monotonic() - began
    return _info(spec, layout, meta, started=True, timings=timings)


def _check_ports_free(spec: ClusterSpec, layout: Layout, node_ids: list[int]) -> None:
    """DeployError naming the ports of these (not running) nodes that something else holds."""
    wanted = [p for n in node_ids for p in (spec.client_port(n), spec.controller_port(n))]
    busy = [p for p in wanted if not process.port_free(p)]
    if busy:
        raise DeployError(
            f"port(s) {', '.join(map(str, busy))} on {HOST} are in use by another program "
            f"(not a broker started from {layout.root}); stop it or pick another --port"
        )


def _foreign_broker(spec: ClusterSpec, layout: Layout) -> BrokerInfo | None:
    """A plaintext broker answering on the port that this state dir did not start, to reuse as is."""
    if spec.secure or spec.nodes != 1 or not process.port_open(spec.port):
        return None
    connection = KafkaConnection(bootstrap=spec.bootstrap)
    (answer,) = health.probe(connection, [spec.bootstrap], timeout=5.0)
    if not answer.ok:
        return None
    nodes = (Node(1, spec.port, spec.controller_port(1), layout.log(1), None),)
    env = config.client_env(spec, None)
    return BrokerInfo(spec, layout.root, nodes, connection, env, started=False, managed=False)


def _format(spec: ClusterSpec, layout: Layout, meta: Meta | None, java: str, classpath: str) -> Meta:
    """Format every node's storage that is not formatted yet; write ``cluster.json`` last."""
    if meta is None:
        # no cluster.json: whatever is here is a half-done earlier attempt
        for child in layout.root.glob("node-*"):
            shutil.rmtree(child)
        layout.secrets.unlink(missing_ok=True)
        if spec.secure:
            write_secrets(layout, Secrets.generate())
        meta = Meta(spec, config.new_cluster_id(), KAFKA_VERSION)
    keys = read_secrets(layout) if spec.secure else None
    _write_configs(spec, layout, keys)
    todo = [n for n in spec.node_ids if not (layout.data(n) / "meta.properties").is_file()]
    procs = {
        n: subprocess.Popen(
            config.tool_command(
                java,
                classpath,
                layout.tools_log4j,
                "kafka.tools.StorageTool",
                *config.format_args(spec, meta.cluster_id, layout.properties(n), keys),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in todo
    }
    failures = []
    for n, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(f"node {n}: StorageTool format exited {proc.returncode}:\n{out.strip()}")
    if failures:
        raise DeployError("formatting the broker storage failed\n" + "\n".join(failures))
    write_meta(layout, meta)
    return meta


def _write_configs(spec: ClusterSpec, layout: Layout, keys: Secrets | None) -> None:
    """(Re)write every config from the spec: a code change reaches the broker on its next start."""
    layout.root.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.tools_log4j, config.log4j_properties(to_stderr=True, level="WARN"))
    if keys is not None:
        write_private(layout.admin_properties, config.admin_client_properties(keys))
    for n in spec.node_ids:
        layout.node_dir(n).mkdir(parents=True, exist_ok=True)
        text = config.server_properties(spec, n, layout.data(n), keys)
        if spec.secure:
            write_private(layout.properties(n), text)  # it holds the broker's passwords
        else:
            write_atomic(layout.properties(n), text)
        write_atomic(layout.node_dir(n) / "log4j2.properties", config.log4j_properties(False, "INFO"))


def _start_node(spec: ClusterSpec, layout: Layout, node_id: int, java: str, classpath: str) -> int:
    log = layout.log(node_id)
    if log.exists() and log.stat().st_size > LOG_ROTATE_BYTES:
        log.replace(log.with_name(log.name + ".1"))
    cmd = config.broker_command(java, classpath, layout.node_dir(node_id), spec.heap)
    pid = process.spawn(cmd, log, cwd=layout.node_dir(node_id))
    write_atomic(layout.pid_file(node_id), f"{pid}\n")
    return pid


def _wait_ready(
    spec: ClusterSpec, layout: Layout, pids: dict[int, int], timeout: float, since: float
) -> None:
    """Until every node answers a metadata request listing all brokers; else BrokerStartError."""
    connection = _admin_connection(spec, layout)
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


# --- taking it down -------------------------------------------------------------------------


def _stop(layout: Layout, wipe: bool) -> dict[int, str]:
    ids = sorted(int(p.name.split("-", 1)[1]) for p in layout.root.glob("node-*") if p.name[5:].isdigit())
    pids = {n: pid for n in ids if (pid := running_pid(layout, n)) is not None}
    how = process.stop(list(pids.values()), STOP_TIMEOUT_S)
    for n in ids:
        layout.pid_file(n).unlink(missing_ok=True)
    layout.temporary.unlink(missing_ok=True)
    if wipe:
        for child in layout.root.iterdir():
            if child != layout.lock:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    return {n: how[pid] for n, pid in pids.items()}


def _live_leases(layout: Layout) -> list[Path]:
    """Leases whose pytest process still runs (a crashed session's lease does not count)."""
    live = []
    for lease in layout.leases.glob("*-*-*") if layout.leases.is_dir() else []:
        pid_text, started, _ = lease.name.split("-", 2)
        if (
            pid_text.isdigit()
            and process.alive(int(pid_text))
            and process.start_time(int(pid_text)) == started
        ):
            live.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return live


# --- small helpers --------------------------------------------------------------------------


@contextmanager
def _locked(layout: Layout, progress: Progress) -> Iterator[None]:
    layout.root.mkdir(parents=True, exist_ok=True)
    with file_lock(
        layout.lock,
        waiting=lambda: progress(f"another command is starting or stopping {layout.root}; waiting..."),
    ):
        yield


def _nodes(spec: ClusterSpec, layout: Layout) -> tuple[Node, ...]:
    return tuple(
        Node(n, spec.client_port(n), spec.controller_port(n), layout.log(n), running_pid(layout, n))
        for n in spec.node_ids
    )


def _info(
    spec: ClusterSpec, layout: Layout, meta: Meta, started: bool, timings: dict[str, float]
) -> BrokerInfo:
    keys = read_secrets(layout) if spec.secure else None
    return BrokerInfo(
        spec=spec,
        root=layout.root,
        nodes=_nodes(spec, layout),
        connection=_admin_connection(spec, layout),
        env=config.client_env(spec, keys),
        started=started,
        temporary=layout.temporary.exists(),
        timings=timings,
        cluster_id=meta.cluster_id,
    )


def _admin_connection(spec: ClusterSpec, layout: Layout) -> KafkaConnection:
    if not spec.secure:
        return KafkaConnection(bootstrap=spec.bootstrap)
    keys = read_secrets(layout)
    return KafkaConnection(
        bootstrap=spec.bootstrap,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=ADMIN_USER,
        sasl_password=SecretStr(keys.admin_password),
    )
