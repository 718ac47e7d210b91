"""``bluelight adapter companies-house``: supplier statuses from Companies House into the hub."""

from __future__ import annotations

import asyncio
import os

import click
from aiokafka.errors import KafkaError

from adapters.cli_shared import EXIT_BROKER
from adapters.companies_house.run import Summary, file_lines, last_timepoint, publish_lines, stream_lines
from bluelight.cli import settings_of
from topologies.naming import SUPPLIER_STATUS, ref_topic

STREAM_URL = "https://stream.companieshouse.gov.uk/companies"
KEY_VARIABLE = "COMPANIES_HOUSE_STREAM_KEY"


@click.command(
    "companies-house",
    epilog=f"""\b
Examples:
  bluelight adapter companies-house --file profiles.jsonl          # a backfill, or a test
  bluelight adapter companies-house --file profiles.jsonl --dry-run
  {KEY_VARIABLE}=... bluelight adapter companies-house --stream

\b
Publishes, for each company-profile record of a company the hub knows as a supplier (a CH:
key in supplier-exposure), a supplier-status event to {ref_topic(SUPPLIER_STATUS)}, keyed by
the supplier key, versioned by the record's timepoint. Records at or below the last timepoint
already published are skipped, so a run can be repeated or resumed. Run it as the hub's user
on a secured cluster. Exit 0 done; 1 some lines were unreadable (listed); 3 broker unreachable.""",
)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A file of streaming-API records, one JSON object per line (repeatable).",
)
@click.option("--stream", is_flag=True, help=f"Read the live stream (key from ${KEY_VARIABLE}).")
@click.option("--url", default=STREAM_URL, show_default=True, help="The stream's address.")
@click.option("--dry-run", is_flag=True, help="Read and match, publish nothing.")
@click.pass_context
def companies_house(
    ctx: click.Context, files: tuple[str, ...], stream: bool, url: str, dry_run: bool
) -> None:
    """Registered statuses (administration, liquidation, ...) of the suppliers the hub knows."""
    if bool(files) == stream:
        raise click.UsageError("give --file F (one or more) or --stream")
    settings = settings_of(ctx)
    key = os.environ.get(KEY_VARIABLE, "")
    if stream and not key:
        raise click.UsageError(f"--stream needs the stream key in ${KEY_VARIABLE}")

    async def run() -> Summary:
        if stream:
            since = await last_timepoint(settings.kafka)
            lines = stream_lines(url, key, since + 1 if since else 0)
        else:
            lines = file_lines(files)
        return await publish_lines(settings.kafka, lines, dry_run=dry_run)

    try:
        summary = asyncio.run(run())
    except (KafkaError, TimeoutError, OSError) as exc:
        click.echo(f"bluelight: cannot reach the broker at {settings.bootstrap}: {exc!r}", err=True)
        ctx.exit(EXIT_BROKER)
    click.echo(("dry run: " if dry_run else "") + summary.text())
    if summary.errors:
        ctx.exit(1)
