"""``bluelight publish`` and ``bluelight adapter ...``: partners' ways onto their topics.

Every command ends in the same SDK (adapters/sdk): events are validated as the hub will,
the partner's sharing policy is applied, and the idempotent producer waits for the broker.

Exit codes (every command): 0 all published (or printed); 1 some rows or lines rejected
(``publish``: nothing published); 2 a usage or configuration error; 3 the broker did not
acknowledge (what was acknowledged is checkpointed; run again to resume).
"""

from __future__ import annotations

import asyncio
import importlib
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import click
import yaml
from tqdm import tqdm

from adapters.base import FileAdapter
from adapters.jsonl import check_file
from adapters.sdk.checkpoint import CheckpointStore
from adapters.sdk.envelope import utc_now
from adapters.sdk.metrics import default_metrics
from adapters.sdk.publisher import Ack, Publisher, PublishError
from adapters.sdk.run import FileRun, RejectsFile, SourceReport
from adapters.sdk.sharing import PolicyError, SharingPolicy
from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from schemas.models import Event
from topologies.naming import FAMILIES, Family, NamingError, check_member_id, member_topic

EXIT_REJECTS = 1  # (2, a usage error, is click's own)
EXIT_BROKER = 3

# adapter name -> (reader "module:attribute", file patterns a directory or drop folder contributes)
FILE_ADAPTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "csv": ("adapters.csv:read", ("*.csv", "*.CSV")),
    "peppol": ("adapters.peppol:read", ("*.xml", "*.XML")),
    "ocds": ("adapters.ocds:read", ("*.json", "*.JSON")),
}


def _member(value: str) -> str:
    try:
        return check_member_id(value)
    except NamingError as exc:
        raise click.BadParameter(str(exc), param_hint="--member") from None


def _policy(path: Path | None) -> SharingPolicy:
    if path is None:
        return SharingPolicy()
    try:
        return SharingPolicy.load(path)
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from None


def _progress() -> bool:
    return sys.stderr.isatty()


# --- publish ------------------------------------------------------------------------------------


@click.command(
    epilog="""\b
Examples:
  bluelight publish --member kent-police --family purchase-order orders.jsonl
  bluelight publish --member kent-police --family contract --policy kent-sharing.yaml contracts.jsonl

\b
Each line is one event in the JSON form of events.md (spec field names). member_id,
event_id and source_system may be left out: they are filled with --member, the
deterministic id (uuid5 of member/family/entity_id/entity_version) and "jsonl";
published_at is always set at publish time. Exit 0 published; 1 invalid lines (nothing
published); 2 usage; 3 broker did not acknowledge (safe to run again).""",
)
@click.option("--member", required=True, help="Your member id, e.g. kent-police; events must claim it.")
@click.option("--family", required=True, type=click.Choice(FAMILIES), help="The family of every line.")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sharing policy YAML: fields withheld before sending (see docs/adapters.md).",
)
@click.option("--source-system", default="jsonl", show_default=True, help="Used where a line has none.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def publish(
    ctx: click.Context, member: str, family: Family, policy: Path | None, source_system: str, file: Path
) -> None:
    """Validate canonical events in a JSON-lines FILE, then publish them all.

    Every line is checked first, as the hub will check it (schema, rules such as line
    totals, GBP, your member id). One invalid line - reported as FILE:LINE: field: reason -
    and nothing from the file is published. Otherwise all events go to your topic for
    --family, keyed by entity_id, and the command waits for the broker to acknowledge each.
    """
    member = _member(member)
    settings = settings_of(ctx)
    checked = check_file(file, family, member, policy=_policy(policy), source_system=source_system)
    if checked.errors:
        for error in checked.errors[:100]:
            click.echo(str(error), err=True)
        if len(checked.errors) > 100:
            click.echo(f"... and {len(checked.errors) - 100} more", err=True)
        click.echo(
            f"{file.name}: {len(checked.errors)} invalid line(s) of "
            f"{len(checked.errors) + len(checked.events)}; nothing from this file was published.",
            err=True,
        )
        ctx.exit(EXIT_REJECTS)
    topic = member_topic(member, family)
    if not checked.events:
        click.echo(f"{file.name}: no events (only blank lines); nothing to publish to {topic}.")
        return
    try:
        acks = asyncio.run(_publish_events(settings, [e for _, e in checked.events]))
    except PublishError as exc:
        click.echo(f"{file.name}: {exc}", err=True)
        click.echo(
            "Events the broker acknowledged are on the topic; publishing the file again is safe.", err=True
        )
        ctx.exit(EXIT_BROKER)
    partitions = sorted({a.partition for a in acks})
    click.echo(
        f"published {len(acks)} {family} event(s) from {file.name} to {topic} "
        f"(partition{'s' if len(partitions) > 1 else ''} {', '.join(map(str, partitions))}); "
        "all acknowledged."
    )


async def _publish_events(settings: HubSettings, events: list[Event]) -> list[Ack]:
    async with Publisher(settings.kafka, "jsonl") as publisher:
        futures: list[asyncio.Future[Ack]] = []
        for event in tqdm(events, desc="sending", unit=" events", disable=not _progress(), leave=False):
            futures.append(await publisher.send(event))
        return list(await asyncio.gather(*futures))


# --- file adapters ------------------------------------------------------------------------------


class AdapterGroup(click.Group):
    """Lists the adapters in a fixed order, file adapters first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The subcommands in the order --help shows them."""
        return [*FILE_ADAPTERS, "webhook", "webhook-token"]


ADAPTER_HELP = """Turn ERP exports, Peppol orders or OCDS releases into canonical events.

File adapters (csv, peppol, ocds) read files or a drop folder; `webhook` serves ERPs that
push. All of them validate every event as the hub will, apply your sharing policy, and
publish with an idempotent producer that waits for the broker's acknowledgement.
"""


@click.group(cls=AdapterGroup, help=ADAPTER_HELP)
def adapter() -> None:
    """The ``bluelight adapter`` group."""


def _load_yaml(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.UsageError(f"{path}: cannot read the config: {exc}") from None
    if raw is not None and not isinstance(raw, dict):
        raise click.UsageError(f"{path}: expected a YAML mapping at the top")
    return raw


def _adapter_config(
    name: str, raw: dict[str, Any] | None, settings: HubSettings, dry_run: bool
) -> dict[str, Any] | None:
    """Check a config before any file is read, and give adapters the settings they expect."""
    if name == "csv":
        from adapters.csv.config import ConfigError, load_config

        try:
            load_config(raw)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        return raw
    # Adapters that keep their own memory (Peppol's order store) find it under the state dir.
    return {**(raw or {}), "state_dir": str(settings.state_dir), "dry_run": dry_run}


def _expand(paths: tuple[Path, ...], patterns: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for pat in patterns for p in path.glob(pat) if p.is_file()))
        else:
            out.append(path)
    return out


def _file_command(name: str, summary: str, examples: str) -> click.Command:
    target, patterns = FILE_ADAPTERS[name]

    @click.command(name=name, help=summary, epilog=examples)
    @click.option("--member", required=True, help="Your member id, e.g. kent-police.")
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The adapter's YAML config" + (" (required: the column mapping)." if name == "csv" else "."),
    )
    @click.option(
        "--dry-run", is_flag=True, help="Print the events as JSON lines instead; rejects on stderr."
    )
    @click.option(
        "--policy",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Sharing policy YAML: fields that never leave you.",
    )
    @click.option(
        "--rejects",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write rejected rows here (JSON lines) [default: <state-dir>/adapters/<member>/rejects/...].",
    )
    @click.option(
        "--watch",
        "watch_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Poll this drop folder and publish each new or changed file (Ctrl-C to stop).",
    )
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between polls of --watch.")
    @click.option("--batch", default=500, show_default=True, help="Events per acknowledged checkpoint.")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def command(
        ctx: click.Context,
        member: str,
        config_path: Path | None,
        dry_run: bool,
        policy: Path | None,
        rejects: Path | None,
        watch_dir: Path | None,
        interval: float,
        batch: int,
        paths: tuple[Path, ...],
    ) -> None:
        settings = settings_of(ctx)
        member = _member(member)
        if not paths and watch_dir is None:
            raise click.UsageError("give at least one PATH, or --watch DIR")
        if watch_dir is not None and dry_run:
            raise click.UsageError("--watch publishes; it cannot be combined with --dry-run")
        if name == "csv" and config_path is None:
            raise click.UsageError("the csv adapter needs --config (see adapters/csv/examples/)")
        if batch < 1:
            raise click.BadParameter("must be at least 1", param_hint="--batch")
        config = _adapter_config(name, _load_yaml(config_path), settings, dry_run)
        module, attr = target.split(":")
        reader: FileAdapter = getattr(importlib.import_module(module), attr)
        code = _run_file_adapter(
            settings,
            name=name,
            reader=reader,
            member=member,
            config=config,
            policy=_policy(policy),
            paths=_expand(paths, patterns),
            dry_run=dry_run,
            rejects_path=rejects,
            watch_dir=watch_dir,
            patterns=patterns,
            interval=interval,
            batch=batch,
        )
        ctx.exit(code)

    return command


def _run_file_adapter(
    settings: HubSettings,
    *,
    name: str,
    reader: FileAdapter,
    member: str,
    config: dict[str, Any] | None,
    policy: SharingPolicy,
    paths: list[Path],
    dry_run: bool,
    rejects_path: Path | None,
    watch_dir: Path | None,
    patterns: tuple[str, ...],
    interval: float,
    batch: int,
) -> int:
    if rejects_path is None and not dry_run:
        stamp = utc_now().strftime("%Y%m%dT%H%M%S")
        rejects_path = settings.state_dir / "adapters" / member / "rejects" / f"{name}-{stamp}.jsonl"
    rejects = RejectsFile(rejects_path, echo=sys.stderr, echo_limit=None if dry_run else 20)
    run = FileRun(
        reader=reader,
        adapter=name,
        member=member,
        config=config,
        policy=policy,
        rejects=rejects,
        metrics=default_metrics(),
        checkpoints=None if dry_run else CheckpointStore(settings.state_dir, member, name),
        out=sys.stdout,
        batch=batch,
        progress=_progress(),
    )
    summary_to = sys.stderr if dry_run else sys.stdout

    async def go() -> None:
        if dry_run:
            await run.sources(paths)
            return
        async with Publisher(settings.kafka, name) as publisher:
            run.publisher = publisher
            await run.sources(paths)
            if watch_dir is not None:
                from adapters.sdk.watch import watch

                async def one(path: Path) -> None:
                    before = len(run.report.sources)
                    await run.source(path)
                    _print_sources(run.report.sources[before:], summary_to)

                stop = asyncio.Event()  # SIGTERM (a service manager) ends it as cleanly as Ctrl-C
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
                print(f"watching {watch_dir} for {', '.join(patterns)} every {interval:g}s (Ctrl-C to stop)")
                await watch(watch_dir, patterns, one, interval=interval, stop=stop)

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        print("stopped; checkpoints hold everything acknowledged.", file=sys.stderr)
    except PublishError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        print("Acknowledged events are checkpointed; run the same command again to resume.", file=sys.stderr)
        _print_summary(run, dry_run, summary_to)
        rejects.close()
        return EXIT_BROKER
    rejects.close()
    _print_summary(run, dry_run, summary_to)
    return EXIT_REJECTS if run.report.rejected else 0


def _print_sources(sources: list[SourceReport], out: TextIO) -> None:
    for s in sources:
        if s.unchanged:
            print(f"  {s.source}: unchanged since its last complete run; not read again", file=out)
            continue
        skipped = ", ".join(f"{reason}: {n}" for reason, n in sorted(s.skipped.items()))
        notes = []
        if s.resumed_from:
            notes.append(f"resumed after {s.resumed_from} rows already acknowledged")
        if s.changed:
            notes.append("changed since the last run: read again from the top")
        print(
            f"  {s.source}: {s.events} events, {s.rejected} rejected, {sum(s.skipped.values())} skipped"
            + (f" ({skipped})" if skipped else "")
            + (f" [{'; '.join(notes)}]" if notes else ""),
            file=out,
        )


def _print_summary(run: FileRun, dry_run: bool, out: TextIO) -> None:
    report = run.report
    verb = "printed" if dry_run else "published"
    where = "; ".join(
        f"{topic} (partitions {', '.join(map(str, sorted(p)))})" for topic, p in report.partitions.items()
    )
    print(f"{run.adapter} for {run.member}" + (f" -> {where}" if where else "") + ":", file=out)
    _print_sources(report.sources, out)
    skipped = sum(report.skipped.values())
    line = f"total: {report.events} events {verb}, {report.rejected} rejected, {skipped} skipped"
    if report.rejected and run.rejects.path is not None:
        line += f"; rejects in {run.rejects.path}"
    print(line, file=out)


adapter.add_command(
    _file_command(
        "csv",
        """Publish spend CSV exports (one transaction -> one purchase order).

        The --config mapping names the accepted headers per field (case, spaces and
        punctuation ignored), the date order, whether amounts are net or gross, and
        how transactions are numbered. Each row becomes part of an event or a row error
        (file, line, column, reason) in the rejects file; blank and total lines are
        skipped and counted. Checkpoints let an interrupted run resume; an unchanged
        file is not published twice.
        """,
        """\b
Examples:
  bluelight adapter csv --member kent-police --config adapters/csv/examples/gla-sap.yaml --dry-run spend.csv
  bluelight adapter csv --member kent-police --config mapping.yaml spend-2024-*.csv
  bluelight adapter csv --member kent-police --config mapping.yaml --watch /srv/drop/kent

\b
Exit 0 all rows mapped; 1 some rows rejected (the rest published); 2 usage or config
error; 3 broker did not acknowledge (run again: it resumes from the checkpoint).""",
    )
)
adapter.add_command(
    _file_command(
        "peppol",
        """Publish Peppol BIS 3 ordering documents (UBL Order, OrderChange, OrderCancellation).

        PATH may be a file or a directory of *.xml documents, read in name order.
        """,
        """\b
Examples:
  bluelight adapter peppol --member kent-police --dry-run orders/
  bluelight adapter peppol --member kent-police Order-1001.xml OrderChange-1001-1.xml

\b
Exit 0 all documents mapped; 1 some rejected; 2 usage; 3 broker did not acknowledge.""",
    )
)
adapter.add_command(
    _file_command(
        "ocds",
        """Publish OCDS releases, release packages or record packages as contract and supplier events.

        PATH may be a file or a directory of *.json files.
        """,
        """\b
Examples:
  bluelight adapter ocds --member wiltshire-fire --dry-run release.json
  bluelight adapter ocds --member wiltshire-fire --watch /srv/drop/ocds

\b
Exit 0 all releases mapped; 1 some rejected; 2 usage; 3 broker did not acknowledge.""",
    )
)


@adapter.command(
    "webhook",
    epilog="""\b
Example:
  bluelight adapter webhook --config webhook.yaml
  curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       --data @order.json http://127.0.0.1:8085/events/purchase-order

\b
Config (YAML):
  listen: 127.0.0.1:8085
  max_body_bytes: 1048576
  members:
    - member: kent-police
      token_sha256: <sha256 hex of the token; make one with `bluelight adapter webhook-token`>
      source_system: kent-erp          # optional, used where an event has none
      policy: kent-sharing.yaml        # optional sharing policy""",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Webhook config YAML: listen address and each member's token hash.",
)
@click.option("--listen", help="host:port, overriding the config's listen.")
@click.pass_context
def webhook(ctx: click.Context, config_path: Path, listen: str | None) -> None:
    """Serve POST /events/<family> for ERPs that push canonical events.

    Each member authenticates with its own bearer token; the member comes from the
    token, never the body. A request (one event or a JSON array) is validated whole;
    202 is answered only after the broker acknowledged every event of it.
    """
    from adapters.webhook.config import WebhookConfigError, load_webhook_config
    from adapters.webhook.server import serve

    settings = settings_of(ctx)
    try:
        config = load_webhook_config(config_path)
    except WebhookConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if listen:
        config = config.with_listen(listen)
    try:
        asyncio.run(serve(config, settings, config_path.parent))
    except KeyboardInterrupt:
        pass


@adapter.command("webhook-token")
@click.option("--member", required=True, help="The member the token is for.")
def webhook_token(member: str) -> None:
    """Make a new random bearer token for a member, and the line for the webhook config.

    The token is printed once: give it to the member. Only its sha256 goes in the config.
    """
    from adapters.webhook.config import new_token, token_sha256

    member = _member(member)
    token = new_token()
    click.echo(f"token (give to {member}, shown once): {token}")
    click.echo("webhook config entry:")
    click.echo(f"  - member: {member}\n    token_sha256: {token_sha256(token)}")
