"""Bringing a cluster up: check the ports, get the jars, format once, write configs, start, wait.

Storage is formatted once (a secure cluster gets its passwords then); configs are rewritten
from the spec on every start, so a code change reaches the broker. A cluster that already
runs is only checked; a plaintext broker on the port that this state dir did not start is
reused as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

from bluelight.settings import KafkaConnection
from deploy import config, health, process
from deploy.config import HOST, ClusterSpec, Secrets
from deploy.errors import BrokerStartError, DeployError
from deploy.info import BrokerInfo, Node, broker_info
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
from deploy.readiness import wait_ready
from deploy.teardown import STOP_TIMEOUT_S
from deploy.tools import require_java

Progress = Callable[[str], None]
READY_TIMEOUT_S = {1: 60.0, 3: 120.0}
LOG_ROTATE_BYTES = 20 * 1024 * 1024


def bring_up(spec: ClusterSpec, layout: Layout, progress: Progress, temporary: bool) -> BrokerInfo:
    """Check a running cluster, or start what is missing and wait for it; hold the lock to call."""
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
        wait_ready(spec, layout, pids, READY_TIMEOUT_S[spec.nodes] / 2, began)
        return broker_info(spec, layout, meta, started=False, timings={"check": time.monotonic() - began})
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
        wait_ready(spec, layout, pids, READY_TIMEOUT_S[spec.nodes], t0)
    except BrokerStartError:
        process.stop(list(started.values()), STOP_TIMEOUT_S)
        for n in started:
            layout.pid_file(n).unlink(missing_ok=True)
        layout.temporary.unlink(missing_ok=True)
        raise
    timings["start"] = time.monotonic() - t0
    timings["total"] = time.monotonic() - began
    return broker_info(spec, layout, meta, started=True, timings=timings)


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
