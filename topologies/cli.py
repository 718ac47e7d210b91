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
from dataclasses import replace
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


def _remember_dir(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[_DIR_KEY] = value  # meta is shared by the whole command line


def _sub_dir_option(f: Any) -> Any:
    """``--dir`` on a subcommand too: `members list --dir D` and `members --dir D list` agree."""
    return click.option(
        "--dir",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_dir,
        help="Topology directory (hub.yaml, members.yaml) [env BLUELIGHT_TOPOLOGY_DIR; the shipped one].",
    )(f)


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """KEY=VALUE lines readable by the owner only (0600 from creation: never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"{k}={v}\n" for k, v in env.items())


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
@click.option(
    "--env-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where each new user's settings file goes (<user>.env, mode 0600) "
    "[default: <state-dir>/credentials].",
)
@click.option(
    "--show-passwords", is_flag=True, help="Also print new users' passwords (they land in scrollback)."
)
@_sub_dir_option
@click.pass_context
def apply_cmd(ctx: click.Context, allow_delete: bool, env_dir: Path | None, show_passwords: bool) -> None:
    """Make the cluster match the topology; a second run changes nothing.

    A new user's password is written to its own settings file (mode 0600), never printed
    unless --show-passwords: hand each partner its own file, and no one sees the others'.
    """
    settings = _settings(ctx)
    planned, result = _run(ctx, apply_topology(settings, allow_delete=allow_delete))
    click.echo(f"Applied to {settings.bootstrap}:")
    for line in planned.render():
        click.echo(f"  {line}")
    if not result.passwords:
        return
    directory = env_dir or settings.state_dir / "credentials"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    click.echo("\nNew users (a password is issued once; `topology credentials USER` issues another):")
    for user, password in sorted(result.passwords.items()):
        path = directory / f"{user}.env"
        write_env_file(path, _env_lines(settings, user, password))
        shown = f" password {password}" if show_passwords else ""
        click.echo(f"  {user}: settings in {path} (mode 0600){shown}")


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
        write_env_file(env_file, env)
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


@members.command("add", epilog="""\b
Examples:
  bluelight --env-file admin.env members add surrey-police --name "Surrey Police" --sector police \\
      --env-file surrey-police.env
  bluelight --env-file surrey-police.env adapter csv --member surrey-police --config map.yaml spend.csv""")
@click.argument("member_id")
@click.option("--name", required=True, help="Display name, e.g. 'Kent Police'.")
@click.option("--sector", required=True, type=click.Choice(SECTORS), help="police, fire or national.")
@click.option("--contact", default="", help="Who to call about this feed (e.g. a team mailbox).")
@click.option("--json", "as_json", is_flag=True, help="Print the connection settings as one JSON object.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the member's BLUELIGHT_* settings (its password included) here, mode 0600, instead of "
    "printing the password; hand the file to the partner.",
)
@_sub_dir_option
@click.pass_context
def add_cmd(  # noqa: PLR0913 - one parameter per option
    ctx: click.Context,
    member_id: str,
    name: str,
    sector: str,
    contact: str,
    as_json: bool,
    env_file: Path | None,
) -> None:
    """Add a member: topics, ACLs and (secured cluster) SCRAM credentials; the running hub picks it up."""
    try:
        naming.check_member_id(member_id)
    except naming.NamingError as exc:
        raise click.BadParameter(str(exc), param_hint="MEMBER_ID") from exc
    member = Member(id=member_id, name=name, sector=sector, contact=contact)  # type: ignore[arg-type]
    settings = _settings(ctx)
    connection = _run(ctx, add_member(settings, member))
    if env_file is not None:
        env = _env_lines(settings, connection.username, connection.password) if connection.username else {
            "BLUELIGHT_BOOTSTRAP": settings.bootstrap
        }  # fmt: skip
        write_env_file(env_file, env)
        connection = replace(connection, password="(in " + str(env_file) + ")" if connection.username else "")
    if as_json:
        click.echo(json.dumps(connection.as_dict()))
    else:
        _print_connection(connection)
    if env_file is not None:
        click.echo(f"wrote {env_file} (mode 0600): `bluelight --env-file {env_file} adapter ...` publishes")


@members.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@_sub_dir_option
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
