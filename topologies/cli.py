"""``bluelight topology`` and ``bluelight members``: the topology's commands.

validate -> plan -> apply, in that order of risk: ``validate`` touches nothing, ``plan``
only reads the cluster, ``apply`` changes it, and deletes need ``--allow-delete``.
Secrets (new passwords) are printed once on stdout and never written to the repository.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from aiokafka.errors import KafkaError

from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from topologies import acl, naming, strimzi
from topologies.admin import ApplyError
from topologies.apply import (
    MemberConnection,
    add_member,
    apply_topology,
    checked_topology,
    issue_credentials,
    plan_cluster,
)
from topologies.desired import desired_state
from topologies.model import SECTORS, Member, TopologyError, load_topology
from topologies.validate import validate

T = TypeVar("T")
_DIR_KEY = "bluelight.topology_dir"


def _dir_option(f: Any) -> Any:
    return click.option(
        "--dir",
        "topology_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Topology directory (hub.yaml, members.yaml) [env BLUELIGHT_TOPOLOGY_DIR; the shipped one].",
    )(f)


def _settings(ctx: click.Context) -> HubSettings:
    settings = settings_of(ctx)
    chosen = ctx.meta.get(_DIR_KEY)
    return settings.model_copy(update={"topology_dir": chosen}) if chosen else settings


def _run(ctx: click.Context, work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; turn the errors a user can act on into one clear message."""
    settings = settings_of(ctx)
    try:
        return asyncio.run(work)
    except (TopologyError, ApplyError) as exc:
        raise click.ClickException(str(exc)) from exc
    except KafkaError as exc:
        raise click.ClickException(
            f"Kafka at {settings.bootstrap} ({settings.security_protocol}) refused or did not answer: "
            f"{type(exc).__name__}: {exc}. Is it up (`bluelight kafka status`) and are the "
            "BLUELIGHT_SASL_* settings the admin's?"
        ) from exc


@click.group()
@_dir_option
@click.pass_context
def topology(ctx: click.Context, topology_dir: Path | None) -> None:
    """Reconcile topics, configs, users and ACLs with topologies/ (validate | plan | apply | export)."""
    if topology_dir is not None:
        ctx.meta[_DIR_KEY] = topology_dir


@topology.command("validate")
@click.pass_context
def validate_cmd(ctx: click.Context) -> None:
    """Check the topology files without touching any cluster."""
    settings = _settings(ctx)
    try:
        t = load_topology(settings.topology_dir)
    except TopologyError as exc:
        raise click.ClickException(str(exc)) from exc
    problems = validate(t)
    if problems:
        raise click.ClickException("the topology is not valid:\n" + "\n".join(f"  - {p}" for p in problems))
    d = desired_state(t)
    click.echo(
        f"ok: {len(t.members)} members, {len(t.subscribers)} subscribers, {len(d.topics)} topics, "
        f"{len(d.users)} users, {len(d.acls)} ACLs"
    )


@topology.command("plan")
@click.option(
    "--allow-delete", is_flag=True, help="Plan deletes of undeclared bluelight.* topics, users, ACLs."
)
@click.pass_context
def plan_cmd(ctx: click.Context, allow_delete: bool) -> None:
    """Show what `apply` would change on the cluster (reads only)."""
    settings = _settings(ctx)
    planned = _run(ctx, plan_cluster(settings, allow_delete=allow_delete))
    click.echo(f"Plan for {settings.bootstrap}:")
    for line in planned.render():
        click.echo(f"  {line}")


@topology.command("apply")
@click.option("--allow-delete", is_flag=True, help="Also delete undeclared bluelight.* topics, users, ACLs.")
@click.pass_context
def apply_cmd(ctx: click.Context, allow_delete: bool) -> None:
    """Make the cluster match the topology; a second run changes nothing."""
    settings = _settings(ctx)
    planned, result = _run(ctx, apply_topology(settings, allow_delete=allow_delete))
    click.echo(f"Applied to {settings.bootstrap}:")
    for line in planned.render():
        click.echo(f"  {line}")
    if result.passwords:
        click.echo("\nNew users (passwords shown once, store them now; "
                   "`bluelight topology credentials USER` issues a new one):")  # fmt: skip
        for user, password in sorted(result.passwords.items()):
            click.echo(f"  {user}: {password}")


@topology.command("export")
@click.option("--strimzi", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Write Strimzi KafkaTopic/KafkaUser manifests into this directory.")  # fmt: skip
@click.option(
    "--cluster", default=strimzi.DEFAULT_CLUSTER, show_default=True, help="strimzi.io/cluster label."
)
@click.pass_context
def export_cmd(ctx: click.Context, directory: Path, cluster: str) -> None:
    """Export the topology as Kubernetes manifests (same source as the local cluster)."""
    try:
        t = checked_topology(_settings(ctx))
    except TopologyError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in strimzi.write_export(t, directory, cluster):
        click.echo(f"wrote {path}")


def _env_lines(settings: HubSettings, user: str, password: str) -> dict[str, str]:
    return {
        "BLUELIGHT_BOOTSTRAP": settings.bootstrap,
        "BLUELIGHT_SECURITY_PROTOCOL": settings.security_protocol,
        "BLUELIGHT_SASL_MECHANISM": settings.sasl_mechanism,
        "BLUELIGHT_SASL_USERNAME": user,
        "BLUELIGHT_SASL_PASSWORD": password,
    }


@topology.command(
    "reader-token",
    epilog="""\b
Examples:
  bluelight topology reader-token --name national-team --role national
  bluelight topology reader-token --name kent-procurement --role member:kent-police
  bluelight topology reader-token --name bi --role subscriber --view category-spend --view price-benchmark
""",
)
@click.option("--name", required=True, help="Who holds the token (shown in the worker's log).")
@click.option("--role", required=True, help="national, subscriber or member:<member id>.")
@click.option("--view", "views", multiple=True, help="A subscriber's views (repeat; default: all).")
def reader_token_cmd(name: str, role: str, views: tuple[str, ...]) -> None:
    """Make a bearer token for the worker's views and the readers.yaml entry that admits it.

    The token is printed once; only its sha256 goes in topologies/readers.yaml.
    """
    from pydantic import ValidationError

    from topologies.readers import Reader, new_token, token_sha256

    token = new_token()
    try:
        entry = Reader(name=name, role=role, token_sha256=token_sha256(token), views=views or None)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(str(e["msg"]) for e in exc.errors())) from None
    fields = {"name": entry.name, "role": entry.role, "token_sha256": entry.token_sha256}
    if entry.views:
        fields["views"] = "[" + ", ".join(entry.views) + "]"
    click.echo(f"token (shown once; give it to {name}): {token}")
    click.echo("add to readers.yaml under `readers:` and restart the worker:")
    click.echo("  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()))


@topology.command("credentials")
@click.argument("user")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write BLUELIGHT_* settings for this user here (mode 0600), e.g. hub.secret.env",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def credentials_cmd(ctx: click.Context, user: str, env_file: Path | None, as_json: bool) -> None:
    """Issue a new random password to a topology user (e.g. `hub` for the worker); shown once."""
    settings = _settings(ctx)
    password = _run(ctx, issue_credentials(settings, user))
    env = _env_lines(settings, user, password)
    if env_file is not None:
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(f"{k}={v}\n" for k, v in env.items())
        click.echo(f"wrote {env_file} (run e.g. `bluelight --env-file {env_file} worker`)")
    elif as_json:
        click.echo(json.dumps(env))
    else:
        click.echo("\n".join(f"{k}={v}" for k, v in env.items()))


@click.group()
@_dir_option
@click.pass_context
def members(ctx: click.Context, topology_dir: Path | None) -> None:
    """Plug a new partner in, or list the members."""
    if topology_dir is not None:
        ctx.meta[_DIR_KEY] = topology_dir


def _print_connection(c: MemberConnection) -> None:
    click.echo(f"Member {c.member_id} is plugged in. Connection settings (shown once, store them now):")
    click.echo(f"  bootstrap_servers: {c.bootstrap_servers}")
    click.echo(f"  security_protocol: {c.security_protocol}")
    if c.username:
        click.echo(f"  sasl_mechanism:    {c.sasl_mechanism}")
        click.echo(f"  username:          {c.username}")
        click.echo(f"  password:          {c.password}")
    else:
        click.echo("  (unsecured cluster: no user name or password)")
    for family, topic in c.topics.items():
        click.echo(f"  publishes {family:<15} -> {topic}")
    click.echo(
        f"  reads rejections     <- {c.dead_letter_topic} (consumer groups {c.consumer_group_prefix}*)"
    )


@members.command("add")
@click.argument("member_id")
@click.option("--name", required=True, help="Display name, e.g. 'Kent Police'.")
@click.option("--sector", required=True, type=click.Choice(SECTORS), help="police, fire or national.")
@click.option("--contact", default="", help="Who to call about this feed (e.g. a team mailbox).")
@click.option("--json", "as_json", is_flag=True, help="Print the connection settings as one JSON object.")
@click.pass_context
def add_cmd(ctx: click.Context, member_id: str, name: str, sector: str, contact: str, as_json: bool) -> None:
    """Add a member: topics, ACLs and (secured cluster) SCRAM credentials; the running hub picks it up."""
    try:
        naming.check_member_id(member_id)
    except naming.NamingError as exc:
        raise click.BadParameter(str(exc), param_hint="MEMBER_ID") from exc
    member = Member(id=member_id, name=name, sector=sector, contact=contact)  # type: ignore[arg-type]
    connection = _run(ctx, add_member(_settings(ctx), member))
    if as_json:
        click.echo(json.dumps(connection.as_dict()))
    else:
        _print_connection(connection)


@members.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the members the topology declares."""
    try:
        t = load_topology(_settings(ctx).topology_dir)
    except TopologyError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [m.model_dump() | {"user": acl.member_user(m.id)} for m in t.members]
    if as_json:
        click.echo(json.dumps(rows))
        return
    width = max((len(m.id) for m in t.members), default=2)
    for m in t.members:
        click.echo(f"{m.id:<{width}}  {m.sector:<8}  {m.name}" + (f"  <{m.contact}>" if m.contact else ""))
