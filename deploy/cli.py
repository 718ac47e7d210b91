"""``bluelight kafka up | down | status``: thin wrappers over :mod:`deploy.broker` that print."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from bluelight.cli import settings_of
from deploy import broker
from deploy.errors import DeployError
from deploy.jars import KAFKA_VERSION
from deploy.layout import Layout, write_env_file

F = TypeVar("F", bound=Callable[..., object])


DEFAULT_PORT = 9092
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _port_option(func: F) -> F:
    return click.option(
        "--port",
        type=click.IntRange(1024, 65000),
        default=None,
        help="Client port of (the first) node; controller port+1; nodes 2 and 3 at port+100, port+200 "
        "[default: the port of BLUELIGHT_BOOTSTRAP when it is on this machine, else 9092].",
    )(func)


def local_port(bootstrap: str) -> int | None:
    """The port of the first bootstrap address when it names this machine, else None."""
    first = bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if host in LOCAL_HOSTS and port.isdigit():
        return int(port)
    return None


def _port(ctx: click.Context, port: int | None) -> int:
    """--port, else the local BLUELIGHT_BOOTSTRAP's, else 9092."""
    if port is not None:
        return port
    return local_port(settings_of(ctx).bootstrap) or DEFAULT_PORT


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def kafka() -> None:
    """Run a real Apache Kafka (KRaft, one JVM per node) on 127.0.0.1.

    Needs only Java 17+ and Maven: the first `up` fetches the Kafka jars from Maven Central
    into ~/.cache/bluelight; data, configs and logs go to <state-dir>/kafka/<port>/.
    """


@kafka.command()
@_port_option
@click.option(
    "--secure", is_flag=True, help="SASL_PLAINTEXT + SCRAM-SHA-512 with ACLs; prints the admin's settings."
)
@click.option(
    "--nodes", type=click.Choice(["1", "3"]), default="1", show_default=True, help="Combined nodes."
)
@click.option(
    "--env-file",
    "env_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the admin's BLUELIGHT_* settings to this file (mode 0600).",
)
@click.pass_context
def up(ctx: click.Context, port: int | None, secure: bool, nodes: str, env_out: Path | None) -> None:
    """Start the broker (formatting its storage on first use); a no-op if it already runs."""
    settings = settings_of(ctx)
    port = _port(ctx, port)
    try:
        info = broker.ensure_up(settings, port, secure=secure, nodes=int(nodes), progress=_say)
    except DeployError as exc:
        _fail(exc)
    if info.started:
        steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in info.timings.items())
        click.echo(f"Kafka {KAFKA_VERSION} up on {info.bootstrap} ({info.spec.describe()}) - {steps}")
    elif info.managed:
        click.echo(
            f"Kafka already running on {info.bootstrap} ({info.spec.describe()}) and answering clients."
        )
    else:
        click.echo(
            f"A Kafka broker already answers on {info.bootstrap}, but it was not started from "
            f"{info.root.parent}; reusing it as is."
        )
    for node in info.nodes:
        pid = f"pid {node.pid}" if node.pid else "pid unknown"
        where = f"{node.address} (controller :{node.controller_port}, {pid})"
        click.echo(f"  node {node.node_id}: {where}, log {node.log}")
    if info.managed:
        click.echo(f"  state: {info.root}")
    if info.temporary:
        click.echo("  (started by a test session: it stops when the last session using it ends)")
    if secure:
        click.echo("Admin settings (use with `bluelight --env-file FILE ...` or export them):")
        for key, value in info.env.items():
            click.echo(f"  {key}={value}")
        if env_out is not None:
            write_env_file(env_out, info.env)
            click.echo(f"  written to {env_out} (mode 0600)")
        click.echo(f"Kafka CLI tools: --command-config {Layout(settings.state_dir, port).admin_properties}")
    elif env_out is not None:
        write_env_file(env_out, info.env)
        click.echo(f"Client settings written to {env_out}")


@kafka.command()
@_port_option
@click.option(
    "--wipe", is_flag=True, help="Also delete its data, configs and passwords (the next `up` formats afresh)."
)
@click.pass_context
def down(ctx: click.Context, port: int | None, wipe: bool) -> None:
    """Stop the broker on --port: SIGTERM (controlled shutdown), then SIGKILL after 30 s."""
    settings = settings_of(ctx)
    port = _port(ctx, port)
    try:
        stopped = broker.stop(settings, port, wipe=wipe, progress=_say)
    except DeployError as exc:
        _fail(exc)
    for node_id, how in stopped.items():
        click.echo(f"node {node_id}: {how}")
    if not stopped:
        click.echo(f"No broker started from {Layout(settings.state_dir, port).root} was running.")
        from deploy.process import port_open

        if port_open(port):
            click.echo(f"Something else listens on 127.0.0.1:{port}; left alone.")
    if wipe:
        click.echo(f"Wiped {Layout(settings.state_dir, port).root}.")


@kafka.command()
@_port_option
@click.pass_context
def status(ctx: click.Context, port: int | None) -> None:
    """Say what runs where; exit 1 unless every node on --port runs and answers clients."""
    settings = settings_of(ctx)
    port = _port(ctx, port)
    try:
        report = broker.status(settings, port)
    except DeployError as exc:
        _fail(exc)
    if report.meta is None:
        click.echo(f"port {port}: no cluster under {report.layout.root}")
    else:
        state = "up" if report.healthy else "DOWN" if all(n.pid is None for n in report.nodes) else "DEGRADED"
        click.echo(
            f"port {port}: {state} - Kafka {report.meta.kafka_version}, {report.meta.spec.describe()}, "
            f"cluster id {report.meta.cluster_id}"
        )
        for node, probe in zip(report.nodes, report.probes, strict=True):
            running = f"pid {node.pid}" if node.pid else "not running"
            answer = (
                f"answers, sees brokers {list(probe.brokers)}" if probe.ok else f"no answer ({probe.error})"
            )
            click.echo(f"  node {node.node_id}: {node.address} {running}; {answer}; log {node.log}")
    others = [p for p in broker.known_ports(settings) if p != port]
    for other in others:
        other_report = broker.status(settings, other, timeout=1.0)
        word = "up" if other_report.healthy else "down"
        spec = other_report.meta.spec.describe() if other_report.meta else "?"
        click.echo(f"also: port {other}: {word} ({spec})")
    sys.exit(0 if report.healthy else 1)


def _fail(exc: DeployError) -> NoReturn:
    click.echo(f"bluelight kafka: {exc}", err=True)
    sys.exit(exc.exit_code)
