"""``bluelight worker`` and ``bluelight views get|summary|find-supplier|purge``.

The worker makes sure the hub's declared topics exist (``topologies.apply.ensure_hub_topics``),
builds the process (``streams.app.build_hub``) and runs it under faust's worker, which
handles SIGTERM/SIGINT with a clean shutdown. ``views get`` asks a running worker over HTTP
and prints the same JSON, pretty.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from typing import Any

import click

from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from topologies.naming import VIEWS, hub_topic

HTTP_TIMEOUT_S = 30


@click.command(
    "worker",
    epilog="""\b
Examples:
  bluelight worker
  BLUELIGHT_HTTP=127.0.0.1:6070 bluelight worker
  bluelight --env-file admin.env worker     # a secured cluster
  BLUELIGHT_FETCH_WAIT_MS=5 bluelight worker  # lower latency, more fetch requests
""",
)
@click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="How much the worker logs.",
)
@click.pass_context
def worker(ctx: click.Context, loglevel: str) -> None:
    """Run the stream processors: ingest, the national views, HTTP and /metrics.

    Reads every member's input topics (new members are picked up without a restart), sends
    rejected events to the member's DLQ topic, and keeps the five national views current.
    """
    settings = settings_of(ctx)
    from streams.pages import access_for

    try:
        access = access_for(settings)  # readers.yaml: checked before anything starts
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        partitions = asyncio.run(_prepare(settings))
    except Exception as exc:
        raise click.ClickException(
            f"cannot prepare the hub's topics on {settings.bootstrap}: {exc}\n"
            "Is Kafka running (`bluelight kafka up`)? On a secured cluster run "
            "`bluelight topology apply` as admin first."
        ) from exc

    import faust

    from streams import heap, quiet
    from streams.app import build_hub
    from streams.faust_fixes import make_datadir, without_spinner

    quiet.install()
    make_datadir(settings.state_dir / "worker")
    try:
        hub = build_hub(settings, partitions=partitions)
    except ValueError as exc:  # a setting that would lose acknowledged writes
        raise click.ClickException(str(exc)) from exc
    pauses = hub.metrics.gc_pause
    heap.take_over(lambda generation, seconds: pauses.labels(str(generation)).observe(seconds))
    base = f"http://{settings.http}"
    click.echo(
        "bluelight worker\n"
        f"  kafka      {settings.bootstrap} ({settings.security_protocol})\n"
        f"  views      {base}/views/<view>   views: {', '.join(VIEWS)}\n"
        f"  health     {base}/health\n"
        f"  metrics    {base}/metrics\n"
        "  try        bluelight views get member-activity\n"
        "  stop       Ctrl-C (or SIGTERM)"
    )
    if access.local_plaintext and access.allow_anonymous_on_local_plaintext:
        click.echo("  NOTE: no token needed to read the views (plaintext local cluster; readers.yaml)")
    from streams.health import RepeatFilter

    class HubWorker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            # a broker outage repeats the same connection error many times a second
            for handler in logger.handlers:
                handler.addFilter(RepeatFilter())

    runner = without_spinner(HubWorker(hub.app, *hub.services, loglevel=loglevel))
    runner.execute_from_commandline()


async def _prepare(settings: HubSettings) -> int:
    """Create missing hub topics; return the canonical topic's partition count."""
    from topologies.admin import connect
    from topologies.apply import ensure_hub_topics

    created = await ensure_hub_topics(settings)
    if created:
        click.echo(f"created {len(created)} hub topics: {', '.join(sorted(created))}")
    name = hub_topic("canonical")
    async with connect(settings.kafka) as admin:
        found = await admin.topics([name])
    if name not in found:
        raise RuntimeError(f"{name} does not exist after ensure_hub_topics")
    return found[name].partitions


@click.group("views")
def views() -> None:
    """Read the national views from a running worker."""


@views.command(
    "get",
    epilog="""\b
Examples:
  bluelight views get category-spend
  bluelight views get category-spend --table --sort -total_net
  bluelight views get supplier-exposure CH:01234567
  bluelight views get price-benchmark 'CPV:33735100|EA'
  bluelight views get contract-pipeline --as-of 2027-01-01 --member kent-police
  BLUELIGHT_TOKEN=... bluelight views get member-activity --table
""",
)
@click.argument("view", type=click.Choice(list(VIEWS)))
@click.argument("key", required=False)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="contract-pipeline: compute the expiry buckets for this date (default: today).",
)
@click.option("--table", "as_table", is_flag=True, help="An aligned table, one item a line, not JSON.")
@click.option("--sort", "sort_by", help="Sort items by this field; '-field' for largest first.")
@click.option("--member", help="Only the items this member takes part in.")
@click.option("--token", help="Bearer token for the worker [env BLUELIGHT_TOKEN].")
@click.pass_context
def get(
    ctx: click.Context,
    view: str,
    key: str | None,
    as_of: object,
    as_table: bool,
    sort_by: str | None,
    member: str | None,
    token: str | None,
) -> None:
    """Print a national view (or one KEY of it) as JSON, as the worker serves it, or as a table."""
    from streams.views_client import all_items
    from streams.views_text import item_table, sorted_items

    settings = settings_of(ctx)
    bearer = token or settings.token.get_secret_value()
    day = as_of.date() if as_of is not None else None  # type: ignore[attr-defined]
    if key is not None:
        url = view_url(settings.http, view, key, day)
        status, body = fetch(url, bearer)
        if status != 200:
            message = body.get("error", body) if isinstance(body, dict) else body
            click.echo(f"bluelight: {url}: {message}", err=True)
            sys.exit(1)
        items: list[Any] = [body]
    else:
        items = all_items(settings.http, view, day, bearer, member)
    if sort_by:
        try:
            items = sorted_items(items, sort_by)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--sort") from None
    if as_table:
        click.echo("\n".join(item_table(view, items, member_names(settings))))
    elif key is not None:
        click.echo(json.dumps(items[0], indent=2, ensure_ascii=False))
    else:
        click.echo(json.dumps({"view": view, "items": items}, indent=2, ensure_ascii=False))


@views.command(
    "summary",
    epilog="""\b
Examples:
  bluelight views summary
  bluelight views summary --as-of 2027-01-01
""",
)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to look from (today).")
@click.option("--token", help="Bearer token for the worker [env BLUELIGHT_TOKEN].")
@click.pass_context
def summary_cmd(ctx: click.Context, as_of: object, token: str | None) -> None:
    """Where partners can buy together in the next year, and which suppliers many partners depend on."""
    from streams.views_client import all_items
    from streams.views_text import summary
    from streams.web import today

    settings = settings_of(ctx)
    bearer = token or settings.token.get_secret_value()
    day = as_of.date() if as_of is not None else today()  # type: ignore[attr-defined]
    wanted = ("contract-pipeline", "supplier-exposure", "category-spend")
    got = {v: all_items(settings.http, v, day if v == "contract-pipeline" else None, bearer) for v in wanted}
    click.echo("\n".join(summary(got, day, member_names(settings))))


@views.command(
    "find-supplier",
    epilog="""\b
Examples:
  bluelight views find-supplier motorola
  bluelight views find-supplier 'CH:0'
""",
)
@click.argument("text")
@click.option("--token", help="Bearer token for the worker [env BLUELIGHT_TOKEN].")
@click.pass_context
def find_supplier(ctx: click.Context, text: str, token: str | None) -> None:
    """Find suppliers by (part of) their name or key, with the partners that depend on each."""
    from streams.views_client import all_items
    from streams.views_text import find_suppliers, supplier_lines

    settings = settings_of(ctx)
    items = all_items(settings.http, "supplier-exposure", None, token or settings.token.get_secret_value())
    found = find_suppliers(items, text)
    if not found:
        click.echo(f"no supplier's name or key contains {text!r} (of {len(items)} suppliers)", err=True)
        sys.exit(1)
    click.echo("\n".join(supplier_lines(found, member_names(settings))))


@views.command(
    "purge",
    epilog="""\b
Examples:
  bluelight views purge sussex-police
  bluelight views purge old-member --force     (a member still in the topology)
""",
)
@click.argument("member")
@click.option("--force", is_flag=True, help="Purge a member that is still in the topology.")
@click.pass_context
def purge(ctx: click.Context, member: str, force: bool) -> None:
    """Take every order, contract, supplier and reject count of MEMBER out of the views.

    For data that should never have been there. Its topics and dead letters stay; remove the
    member from the topology so nothing of it is read again (docs/topology.md).
    """
    from aiokafka.errors import KafkaError

    from streams.orders import request_purge

    settings = settings_of(ctx)
    if member in member_names(settings) and not force:
        click.echo(
            f"{member} is a member of the topology: its data would come back with its next events.\n"
            f"Remove it first (bluelight members remove {member}), or pass --force.",
            err=True,
        )
        sys.exit(2)
    try:
        written = asyncio.run(request_purge(settings, member))
    except KafkaError as exc:
        raise click.ClickException(
            f"could not write the purge order to {settings.bootstrap}: {exc}. Is the broker up "
            "(bluelight kafka status), and are these the hub's credentials?"
        ) from exc
    click.echo(
        f"purge of {member} ordered on {written} canonical partitions. The workers withdraw its data as "
        f"they reach each order; when `bluelight views get member-activity {member}` says 404, it is gone."
    )


def member_names(settings: HubSettings) -> dict[str, str]:
    """Member id -> display name from the topology (empty if it cannot be read)."""
    from topologies.model import TopologyError, load_topology

    try:
        return {m.id: m.name for m in load_topology(settings.topology_dir).members}
    except (TopologyError, OSError):
        return {}


def view_url(http: str, view: str, key: str | None, as_of: date | None) -> str:
    """The worker URL of a view or an item (the key percent-encoded, slashes included)."""
    url = f"http://{http}/views/{view}"
    if key is not None:
        url += "/" + urllib.parse.quote(key, safe="")
    if as_of is not None:
        url += "?" + urllib.parse.urlencode({"as_of": as_of.isoformat()})
    return url


def fetch(url: str, token: str = "") -> tuple[int, object]:
    """GET ``url``: status and parsed JSON body; a clear ClickException when nothing answers."""
    from streams.views_client import fetch as fetch_json

    return fetch_json(url, token)
