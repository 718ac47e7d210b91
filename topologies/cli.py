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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from aiokafka.errors import KafkaError

from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from topologies import acl, kubernetes, naming, strimzi
from topologies.admin import ApplyError
from topologies.apply import (
    MemberConnection,
    PlanDrift,
    add_member,
    apply_reviewed,
    apply_topology,
    checked_topology,
    issue_credentials,
    plan_for_review,
    revoke_member,
)
from topologies.desired import desired_state
from topologies.model import SECTORS, Member, TopologyError, load_topology
from topologies.plan import Plan
from topologies.plan_file import EXIT_DRIFT, PlanFileError, drift_since, plan_document, read_plan_document
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
    except PlanDrift:
        raise  # apply --plan says what drifted, with its own exit code
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


@topology.command(
    "plan",
    epilog="""\b
Examples:
  bluelight topology plan
  bluelight topology plan --json -o plan.json      # for review; apply it with `apply --plan`
  bluelight topology plan --exit-code              # CI: exit 4 when the cluster has drifted

\b
Exit codes: 0 planned (with --exit-code: the cluster matches the topology); 1 error;
2 usage; 4 (--exit-code) the cluster differs from the topology.""",
)
@click.option(
    "--allow-delete", is_flag=True, help="Plan deletes of undeclared bluelight.* topics, users, ACLs."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (the plan file's form).")
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the plan file (JSON) here."
)
@click.option("--exit-code", is_flag=True, help=f"Exit {EXIT_DRIFT} when there is something to apply.")
@click.pass_context
def plan_cmd(
    ctx: click.Context, allow_delete: bool, as_json: bool, out: Path | None, exit_code: bool
) -> None:
    """Show what `apply` would change on the cluster (reads only)."""
    settings = _settings(ctx)
    planned, digest = _run(ctx, plan_for_review(settings, allow_delete=allow_delete))
    doc = plan_document(
        planned,
        bootstrap=settings.bootstrap,
        allow_delete=allow_delete,
        topology_digest=digest,
        created_at=datetime.now(UTC),
    )
    if out is not None:
        out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if as_json and out is None:
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(f"Plan for {settings.bootstrap}:")
        for line in planned.render():
            click.echo(f"  {line}")
        if out is not None:
            click.echo(f"wrote {out}; apply exactly this with `bluelight topology apply --plan {out}`")
    if exit_code and planned.actions:
        ctx.exit(EXIT_DRIFT)


@topology.command(
    "apply",
    epilog="""\b
Examples:
  bluelight topology apply
  bluelight topology apply --plan plan.json   # refused (exit 4) if the cluster drifted since""",
)
@click.option("--allow-delete", is_flag=True, help="Also delete undeclared bluelight.* topics, users, ACLs.")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this reviewed plan file, and only if planning again gives the same actions.",
)
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
def apply_cmd(
    ctx: click.Context,
    allow_delete: bool,
    plan_file: Path | None,
    env_dir: Path | None,
    show_passwords: bool,
) -> None:
    """Make the cluster match the topology; a second run changes nothing.

    A new user's password is written to its own settings file (mode 0600), never printed
    unless --show-passwords: hand each partner its own file, and no one sees the others'.
    """
    settings = _settings(ctx)
    if plan_file is None:
        planned, result = _run(ctx, apply_topology(settings, allow_delete=allow_delete))
    else:
        try:
            reviewed = read_plan_document(plan_file.read_text(encoding="utf-8"))
        except PlanFileError as exc:
            raise click.BadParameter(f"{plan_file}: {exc}", param_hint="--plan") from None
        if allow_delete and not reviewed["allow_delete"]:
            raise click.UsageError("--allow-delete: the plan file was made without it; plan again with it")
        try:
            planned, result = _run(
                ctx,
                apply_reviewed(
                    settings,
                    lambda fresh, digest: drift_since(reviewed, fresh, digest),
                    allow_delete=reviewed["allow_delete"],
                ),
            )
        except PlanDrift as exc:
            click.echo(f"Refused: {settings.bootstrap} is not where {plan_file} left it:", err=True)
            for reason in exc.reasons:
                click.echo(f"  {reason}", err=True)
            click.echo(
                "Nothing was changed. Plan again (`topology plan --json -o FILE`) and review that.", err=True
            )
            ctx.exit(EXIT_DRIFT)
    click.echo(f"Applied to {settings.bootstrap}:")
    for line in planned.render():
        click.echo(f"  {line}")
    from streams.schema_feed import SCHEMAS_TOPIC, publish_schemas

    versions = _run(ctx, publish_schemas(settings.kafka))
    if versions is None:
        click.echo(f"  {SCHEMAS_TOPIC} is not declared in this topology: schema versions not published")
    else:
        click.echo(f"  {versions} event schema versions on {SCHEMAS_TOPIC}, for workers of older releases")
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


@topology.command(
    "export",
    epilog="""\b
Examples:
  bluelight topology export --strimzi deploy/strimzi --kubernetes deploy/k8s
  kubectl apply -k deploy/k8s      # the whole hub (it includes deploy/strimzi)
""",
)
@click.option("--strimzi", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write Strimzi KafkaTopic/KafkaUser manifests into this directory.")  # fmt: skip
@click.option("--kubernetes", "k8s_directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write the hub's manifests (Kafka, worker, webhook, monitoring) here.")  # fmt: skip
@click.option(
    "--cluster", default=strimzi.DEFAULT_CLUSTER, show_default=True, help="strimzi.io/cluster label."
)
@click.pass_context
def export_cmd(ctx: click.Context, directory: Path | None, k8s_directory: Path | None, cluster: str) -> None:
    """Export the topology as Kubernetes manifests (same source as the local cluster)."""
    if directory is None and k8s_directory is None:
        raise click.UsageError("say where to write: --strimzi DIR and/or --kubernetes DIR")
    try:
        t = checked_topology(_settings(ctx))
    except TopologyError as exc:
        raise click.ClickException(str(exc)) from exc
    written = strimzi.write_export(t, directory, cluster) if directory is not None else []
    if k8s_directory is not None:
        written += kubernetes.write_export(t, k8s_directory, cluster)
    for path in written:
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


@members.command(
    "suspend",
    epilog="""\b
Example:
  bluelight members suspend kent-police
  # to let it back in: set its status to active in members.yaml, then
  bluelight topology apply          # a new user and its ACLs; the password is shown once""",
)
@click.argument("member_id")
@click.pass_context
def suspend_cmd(ctx: click.Context, member_id: str) -> None:
    """Revoke a member's access (its user and ACLs); its topics, history and dead letters stay."""
    revoked = _run(ctx, revoke_member(_settings(ctx), member_id, "suspended"))
    _print_revoked(member_id, revoked, "suspended")


@members.command(
    "remove",
    epilog="""\b
Examples:
  bluelight members remove kent-police                       # access revoked, data kept
  bluelight members remove kent-police --allow-delete --yes  # its topics and dead letters deleted""",
)
@click.argument("member_id")
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Also delete its topics (events and dead letters) and its members.yaml entry.",
)
@click.option("--yes", is_flag=True, help="Do not ask before deleting data.")
@click.pass_context
def remove_cmd(ctx: click.Context, member_id: str, allow_delete: bool, yes: bool) -> None:
    """A member leaves: access revoked and marked removed, keeping its history and dead letters."""
    if allow_delete and not yes:
        click.confirm(f"Delete every topic of {member_id}, with its events and dead letters?", abort=True)
    revoked = _run(ctx, revoke_member(_settings(ctx), member_id, "removed", delete_data=allow_delete))
    _print_revoked(member_id, revoked, "deleted" if allow_delete else "removed")


def _print_revoked(member_id: str, revoked: Plan, what: str) -> None:
    for action in revoked.actions:
        click.echo(f"  - {action.describe()}")
    kept = "" if what == "deleted" else "; its topics, history and dead letters are kept"
    click.echo(f"{member_id} {what}: access revoked{kept}.")


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
        status = "" if m.has_access else f"  [{m.status}]"
        click.echo(
            f"{m.id:<{width}}  {m.sector:<8}  {m.name}" + (f"  <{m.contact}>" if m.contact else "") + status
        )
