"""``bluelight worker`` and ``bluelight views get``.

The worker makes sure the hub's declared topics exist (``topologies.apply.ensure_hub_topics``),
builds the process (``streams.app.build_hub``) and runs it under faust's worker, which
handles SIGTERM/SIGINT with a clean shutdown. ``views get`` asks a running worker over HTTP
and prints the same JSON, pretty.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

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

    quiet.install()

    (settings.state_dir / "worker").mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    hub = build_hub(settings, partitions=partitions)
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
    runner = faust.Worker(hub.app, *hub.services, loglevel=loglevel)
    # faust's terminal spinner sets the root logger to DEBUG when the level is WARN or above,
    # which makes every library's debug call build a record; the worker logs to files anyway.
    runner.spinner = None
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
  bluelight views get supplier-exposure CH:01234567
  bluelight views get price-benchmark 'CPV:33735100|EA'
  bluelight views get contract-pipeline --as-of 2027-01-01
""",
)
@click.argument("view", type=click.Choice(list(VIEWS)))
@click.argument("key", required=False)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="contract-pipeline: compute the expiry buckets for this date (default: today).",
)
@click.pass_context
def get(ctx: click.Context, view: str, key: str | None, as_of: object) -> None:
    """Print a national view (or one KEY of it) as JSON, as the worker serves it."""
    settings = settings_of(ctx)
    day = as_of.date() if as_of is not None else None  # type: ignore[attr-defined]
    url = view_url(settings.http, view, key, day)
    status, body = fetch(url)
    if status == 200:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    message = body.get("error", body) if isinstance(body, dict) else body
    click.echo(f"bluelight: {url}: {message}", err=True)
    sys.exit(1)


def view_url(http: str, view: str, key: str | None, as_of: date | None) -> str:
    """The worker URL of a view or an item (the key percent-encoded, slashes included)."""
    url = f"http://{http}/views/{view}"
    if key is not None:
        url += "/" + urllib.parse.quote(key, safe="")
    if as_of is not None:
        url += "?" + urllib.parse.urlencode({"as_of": as_of.isoformat()})
    return url


def fetch(url: str) -> tuple[int, object]:
    """GET ``url``: status and parsed JSON body; a clear ClickException when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - http only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"cannot reach the worker at {url} ({reason}): is `bluelight worker` running? "
            "Set BLUELIGHT_HTTP (or --http) to its address."
        ) from exc
