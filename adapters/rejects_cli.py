"""``bluelight rejects``: a member reads its own dead letters, fixes them and sends them back.

Reads only ``bluelight.dlq.<member>.v1`` with partitions assigned by hand (no consumer
group), so a member's own credentials are enough on a secured cluster: the topology grants
each member Read and Describe on its DLQ and Write on its own input topics, nothing else.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from adapters.cli_shared import EXIT_BROKER, EXIT_REJECTS, check_member
from adapters.rejects import RejectRow, parse_since, read_replay, render_csv, render_text, row_of
from adapters.sdk.publisher import Publisher, PublishError
from adapters.topic_read import read_to_end
from bluelight.cli import settings_of
from bluelight.settings import KafkaConnection
from schemas.models import Event
from topologies.naming import dlq_topic


@click.group(
    invoke_without_command=True,
    epilog="""\b
Examples:
  bluelight rejects --member kent-police                      # everything in the DLQ
  bluelight rejects --member kent-police --since 24h --csv > rejects.csv
  bluelight rejects --member kent-police --since 2026-11-01 --json > rejects.jsonl
  # correct the "event" objects in rejects.jsonl, keep the lines you fixed, then:
  bluelight rejects replay --member kent-police rejects.jsonl
  bluelight --env-file kent.env rejects --member kent-police  # a secured cluster, as kent-police

\b
Each reject: when, kind (decode, schema, validation, tenant, unsupported), the field and
the reason, the topic/partition/offset the original was read from, and (--json) the event.
Exit 0 listed; 2 usage; 3 the broker could not be read.""",
)
@click.option("--member", help="Your member id, e.g. kent-police.")
@click.option("--since", help="Only rejects from this long ago (30m, 6h, 7d) or this date/instant.")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per line, with the event (for replay)."
)
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line, without the event.")
@click.pass_context
def rejects(
    ctx: click.Context,
    member: str | None,
    since: str | None,
    kinds: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
) -> None:
    """List a member's rejected events: what was wrong, where, and the event itself."""
    if ctx.invoked_subcommand is not None:
        return
    if member is None:
        raise click.UsageError("--member is required (e.g. --member kent-police)")
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    member = check_member(member)
    start = None
    if since is not None:
        try:
            start = parse_since(since, datetime.now(UTC))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    settings = settings_of(ctx)
    try:
        rows = asyncio.run(read_rejects(settings.kafka, member, start))
    except (KafkaError, TimeoutError, OSError) as exc:
        click.echo(
            f"bluelight: cannot read {dlq_topic(member)} on {settings.bootstrap}: {exc!r}. Is the broker up, "
            "and are these the member's credentials (--env-file)?",
            err=True,
        )
        ctx.exit(EXIT_BROKER)
    if kinds:
        rows = [r for r in rows if r.kind in kinds]
    if as_json:
        for row in rows:
            click.echo(row.as_json())
    elif as_csv:
        click.echo(render_csv(rows), nl=False)
    else:
        click.echo(render_text(rows) if rows else f"no rejects in {dlq_topic(member)}")
        if rows:
            click.echo(f"\n{len(rows)} reject(s) in {dlq_topic(member)}", err=True)


async def read_rejects(kafka: KafkaConnection, member: str, since: datetime | None) -> list[RejectRow]:
    """Every record of the member's DLQ (from ``since``) up to its end now, in offset order."""
    records = await read_to_end(kafka, dlq_topic(member), f"bluelight-rejects-{member}", since)
    rows = [row_of(member, r.partition, r.offset, r.timestamp, r.key, r.value, r.headers) for r in records]
    return sorted(rows, key=lambda r: (r.rejected_at, r.dlq_partition, r.dlq_offset))


@rejects.command(
    "replay",
    epilog="""\b
Examples:
  bluelight rejects --member kent-police --json > rejects.jsonl
  # edit the "event" objects you can fix; delete the lines you cannot
  bluelight rejects replay --member kent-police rejects.jsonl
  bluelight rejects replay --member kent-police --unchanged rejects.jsonl   # after a hub-side fix

\b
Every line is checked first, as the hub checks events; one that would still be rejected
(FILE:LINE: kind: field: reason) and nothing is sent. Corrected events go to the member's
own topic with a fresh published_at; give a fixed entity a higher entity_version if a later
version was accepted meanwhile. Exit 0 sent; 1 lines still invalid (nothing sent); 2 usage;
3 the broker did not acknowledge (run again: a resend is a harmless duplicate).""",
)
@click.option("--member", required=True, help="Your member id; every line must be one of its rejects.")
@click.option(
    "--unchanged", is_flag=True, help="Send the original bytes as they were (the fix was on the hub's side)."
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def replay(ctx: click.Context, member: str, unchanged: bool, file: Path) -> None:
    """Send corrected rejects (a FILE written by `rejects --json`, edited) to the member's topics."""
    member = check_member(member)
    checked = read_replay(file.read_text(encoding="utf-8").splitlines(), member, unchanged)
    if checked.problems:
        for problem in checked.problems[:100]:
            click.echo(f"{file.name}:{problem}", err=True)
        click.echo(
            f"{file.name}: {len(checked.problems)} line(s) cannot be sent; nothing was sent.", err=True
        )
        ctx.exit(EXIT_REJECTS)
    settings = settings_of(ctx)
    try:
        if unchanged:
            sent = asyncio.run(_send_unchanged(settings.kafka, checked.unchanged))
        else:
            sent = asyncio.run(_send_events(settings.kafka, [e for _, e in checked.events]))
    except (PublishError, KafkaError) as exc:
        click.echo(
            f"{file.name}: {exc}; what was acknowledged is on the topic, running again is safe.", err=True
        )
        ctx.exit(EXIT_BROKER)
    what = "original record(s)" if unchanged else "corrected event(s)"
    click.echo(f"sent {sent} {what} from {file.name} to {member}'s topics; all acknowledged.")
    sys.stdout.flush()


async def _send_events(kafka: KafkaConnection, events: list[Event]) -> int:
    async with Publisher(kafka, "rejects-replay") as publisher:
        return len(await publisher.publish_all(events))


async def _send_unchanged(kafka: KafkaConnection, records: list[tuple[int, str, bytes | None, bytes]]) -> int:
    producer = AIOKafkaProducer(
        enable_idempotence=True,
        acks="all",
        client_id="bluelight-rejects-replay",
        **kafka.to_aiokafka_kwargs(),
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key) for _, topic, key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(records)
