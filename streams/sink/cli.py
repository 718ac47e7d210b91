"""``bluelight sink postgres``: the view topics into PostgreSQL tables, for BI tools."""

from __future__ import annotations

import asyncio
import logging
import re
import signal

import click

from bluelight.cli import settings_of
from bluelight.settings import KafkaConnection
from streams.sink.postgres import PostgresSink, SinkError, SinkStats

SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@click.group("sink")
def sink() -> None:
    """Copy the national views into other stores."""


@sink.command(
    "postgres",
    epilog="""\b
Examples:
  bluelight sink postgres --dsn postgresql://bi@127.0.0.1/warehouse
  BLUELIGHT_SINK_DSN=postgresql://bi@db/warehouse bluelight sink postgres --schema views
  bluelight sink postgres --dsn 'host=/run/postgresql dbname=bi' --exit-when-current
  psql warehouse -c 'SELECT category, name, total_net FROM bluelight.category_spend ORDER BY 3 DESC'
""",
)
@click.option(
    "--dsn",
    envvar="BLUELIGHT_SINK_DSN",
    help="PostgreSQL connection string (URL or key=value) [env BLUELIGHT_SINK_DSN; "
    "libpq's PGHOST, PGUSER, ... fill in the rest].",
)
@click.option("--schema", default="bluelight", show_default=True, help="PostgreSQL schema of the tables.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Most records applied in one transaction.",
)
@click.option("--exit-when-current", is_flag=True, help="Stop once every view topic is applied (for cron).")
@click.pass_context
def postgres(
    ctx: click.Context, dsn: str | None, schema: str, batch_size: int, exit_when_current: bool
) -> None:
    """Keep one table per view current from the view topics (bluelight.view.<view>.v1).

    Tables (category_spend, supplier_exposure, contract_pipeline, price_benchmark,
    member_activity) are created on first run in SCHEMA; each key is one row, upserted when
    its item changes and deleted when it goes. Offsets are stored with the rows in one
    transaction (SCHEMA.sink_offsets), so the sink can be stopped or killed at any time and
    started again. Unreadable records land in SCHEMA.sink_errors. Stop with Ctrl-C.
    """
    settings = settings_of(ctx)
    if not SCHEMA_RE.match(schema):
        raise click.BadParameter("use lower-case letters, digits and _ (e.g. views)", param_hint="--schema")
    chosen = dsn if dsn is not None else settings.sink_dsn.get_secret_value()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        stats = asyncio.run(_run(settings.kafka, chosen, schema, batch_size, exit_when_current))
    except SinkError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"sink stopped: {stats.records} records applied ({stats.upserts} upserts, "
        f"{stats.deletes} deletes, {stats.errors} skipped)"
    )


async def _run(
    kafka: KafkaConnection, dsn: str, schema: str, batch_size: int, exit_when_current: bool
) -> SinkStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = PostgresSink(kafka, dsn, schema, batch_size, report=click.echo)
    try:
        await runner.start()
        return await runner.run(stop, exit_when_current)
    finally:
        await runner.close()
