"""``bluelight demo``: the whole hub on this machine, fed by 55 realistic synthetic partners.

The flow, one step per stage: bring Kafka up (``demo.prepare``, the code behind ``bluelight
kafka up``) -> reconcile the demo's topology, the shipped hub with the synthetic partners (ids
``demo-...``) as its only members, kept under the state dir -> start ``bluelight worker`` (or
reuse the one answering on ``--http``) -> generate the partners' activity (``demo.synthetic``)
and publish it (``demo.load``) -> wait until member-activity shows it all taken in -> print
each view for a commercial analyst (``demo.report``) -> fail the most shared supplier and show
the alerts (``demo.failure``) -> say where to look next -> keep the worker in the foreground
until Ctrl-C (or stop it at once with ``--exit``).

Running it again resends the same events: the hub counts them as duplicates and the views do
not change, which is the point of the versioned state.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from types import FrameType
from typing import Any

import click

from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from demo import report
from demo.balance import Balance, Counts, balance, counts_of
from demo.failure import fail_supplier
from demo.load import (
    activity,
    member_records,
    publish,
    records_written,
    sent_by_member,
    wait_taken_in,
    wait_views_written,
)
from demo.next_steps import Places, where_next
from demo.prepare import (
    apply_demo_topology,
    bring_up_kafka,
    demo_topology_dir,
    foreign_members,
    write_demo_topology,
)
from demo.synthetic import ITEMS, MEMBERS, expected_activity, generate
from demo.worker import DemoError, DemoWorker, find_or_start, get_json, log_tail
from deploy.errors import DeployError
from streams.views.export import MAX_LIMIT
from streams.web import today as utc_today
from topologies.model import TopologyError
from topologies.naming import VIEWS, dlq_topic, view_topic

DEFAULT_SEED = 2026
Items = list[dict[str, Any]]
STEPS = 7


def _say(message: str) -> None:
    click.echo(f"  {message}")


def _step(n: int, title: str) -> float:
    click.echo(click.style(f"[{n}/{STEPS}] {title}", bold=True))
    return time.monotonic()


def _done(began: float, what: str) -> None:
    _say(f"{what} ({time.monotonic() - began:.1f} s)")


@click.command(
    "demo",
    epilog="""\b
Examples:
  bluelight demo                       # load, summarise, keep the hub running (Ctrl-C stops it)
  bluelight demo --exit                # load, summarise, stop the worker and exit
  bluelight demo --scale 0.2 --seed 7  # a fifth of the data, another random draw
  bluelight demo --today 2026-04-01    # the partners' activity up to that day
""",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the synthetic data.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies the orders and contracts per partner (1.0 is about 5,500 events).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the activity leads up to, and the contract pipeline's as-of date [default: today, UTC].",
)
@click.option("--exit", "exit_after", is_flag=True, help="Stop the worker and exit after the summary.")
@click.option(
    "--share-cluster",
    is_flag=True,
    help="Run even on a cluster that holds members other than the demo's synthetic partners "
    "(their views would then mix with synthetic spend).",
)
@click.pass_context
def demo(  # noqa: PLR0913 - one parameter per option
    ctx: click.Context, seed: int, scale: float, today: datetime | None, exit_after: bool, share_cluster: bool
) -> None:
    """Run the whole hub here with 55 synthetic partners and print the national views.

    Starts Kafka (reusing a running one), creates the topics, starts the worker (reusing one
    that answers on --http), publishes the activity of the 43 territorial police forces,
    eleven fire and rescue services and the national team, waits until the hub has taken it
    all in, then prints a summary of every view and where to look next.
    """
    settings = settings_of(ctx)
    day = today.date() if today is not None else utc_today()
    for signum in (signal.SIGTERM, signal.SIGHUP):  # stop our worker, as on Ctrl-C
        signal.signal(signum, _interrupt)
    run = _Run(foreground=not exit_after)
    code = 0
    try:
        ok = _run(run, settings, seed, scale, day, share_cluster)
        code = 0 if ok else 1
        if run.foreground and run.worker is not None:
            code = _foreground(run.worker) or code
    except KeyboardInterrupt:
        click.echo("\ninterrupted")
        code = 130
    except (DemoError, DeployError, TopologyError) as exc:
        click.echo(f"bluelight demo: {exc}", err=True)
        code = 1
    finally:
        if run.worker is not None and run.worker.ours:
            click.echo(f"worker: {run.worker.stop()}")
    sys.exit(code)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@dataclass
class _Run:
    """What the clean-up must know even when a step fails: the worker, once there is one."""

    foreground: bool
    worker: DemoWorker | None = None


def _run(run: _Run, settings: HubSettings, seed: int, scale: float, day: date, share: bool) -> bool:
    """Steps 1 to 6; whether every member balanced."""
    click.echo(
        f"BlueLight demo: {len(MEMBERS)} synthetic partners, seed {seed}, scale {scale:g}, "
        f"activity up to {day.isoformat()}"
    )
    began = _step(1, "Kafka")
    kafka = bring_up_kafka(settings, _say)
    foreign = asyncio.run(foreign_members(kafka.settings))
    if foreign and not share:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise DemoError(
            f"the cluster at {kafka.settings.bootstrap} holds members that are not the demo's "
            f"synthetic partners (ids without the demo- prefix: {shown}); the demo would mix "
            "synthetic spend into their views. "
            "Run it on a broker of its own (e.g. `bluelight --bootstrap 127.0.0.1:9692 --state-dir "
            "~/bluelight-demo demo`), or pass --share-cluster to run here anyway"
        )
    _done(began, kafka.summary + (f"; sharing it with {len(foreign)} other members" if foreign else ""))

    began = _step(2, "Topics")
    settings = write_demo_topology(kafka.settings)
    _done(began, f"{apply_demo_topology(settings)}; demo topology in {demo_topology_dir(settings)}")

    began = _step(3, "Worker")
    log = settings.state_dir / "demo" / "worker.log"
    worker = run.worker = find_or_start(settings, log)
    _say(
        f"started `bluelight worker`, log: {log}"
        if worker.ours
        else f"reusing the worker at {worker.base_url}"
    )
    events = generate(seed, day, scale)  # while the worker starts
    worker.wait_ready()
    _done(began, f"the worker is ready at {worker.base_url}")

    began = _step(4, f"Publishing {len(events):,} events from {len(MEMBERS)} partners")
    members = [m.id for m in MEMBERS]
    held_before = asyncio.run(member_records(settings, members))
    before = activity(worker)
    seconds = asyncio.run(publish(settings, events))
    _done(began, f"published in {seconds:.1f} s ({len(events) / max(seconds, 1e-3):,.0f} events/s)")

    began = _step(5, "Waiting until the hub has taken them in")
    held_after = asyncio.run(member_records(settings, members))
    wait_taken_in(worker, held_after)
    after = activity(worker)
    expected = {m: counts_of(item) for m, item in expected_activity(events).items()}
    verdict = balance(sent_by_member(events), expected, before, after, held_before, held_after)
    wait_views_written(worker)
    _done(began, "every record on the partners' topics accounted for")

    _step(6, "The national views")
    views = _summary(worker, day, after, verdict)

    began = _step(7, "A supplier many partners use goes into administration")
    raised = fail_supplier(settings, worker, views["supplier-exposure"])
    click.echo("\n".join(report.alerts(raised)))
    _done(began, f"{len(raised)} alerts: one national, one to each exposed partner's own topic")
    _where_next(settings, worker, day, kafka.port, run.foreground, views)
    return verdict.ok


def _summary(worker: DemoWorker, day: date, after: dict[str, Counts], verdict: Balance) -> dict[str, Items]:
    """Print each view's summary; the views as served."""
    views: dict[str, Items] = {}
    for view in VIEWS:
        # one page holds the whole view: the demo's views are far below the largest page
        query = f"?limit={MAX_LIMIT}" + (f"&as_of={day.isoformat()}" if view == "contract-pipeline" else "")
        views[view] = get_json(f"{worker.base_url}/views/{view}{query}")["items"]
    lines: list[str] = []
    lines += report.category_spend(views["category-spend"])
    lines += report.supplier_exposure(views["supplier-exposure"])
    lines += report.contract_pipeline(views["contract-pipeline"], day)
    lines += report.price_benchmark(views["price-benchmark"], price_labels())
    lines += report.supplier_diversity(views["supplier-diversity"])
    lines += report.contract_coverage(views["contract-coverage"])
    lines += report.member_activity(after, [m.id for m in MEMBERS], verdict)
    click.echo("\n".join(lines))
    return views


def price_labels() -> dict[str, str]:
    """Benchmark key -> what the synthetic partners buy under it (several items may share a code)."""
    from streams.categories import normalise_code

    found: dict[str, list[str]] = {}
    for item in ITEMS:
        for scheme, code in (("CPV", item.cpv), ("UNSPSC", item.unspsc), ("ECLASS", item.eclass)):
            if code is not None:
                found.setdefault(f"{scheme}:{normalise_code(scheme, code)}|{item.unit}", []).append(item.key)
    descriptions = {i.key: i.description for i in ITEMS}
    return {
        key: descriptions[keys[0]] if len(keys) == 1 else "mixed: " + ", ".join(keys)
        for key, keys in found.items()
    }


def _where_next(
    settings: HubSettings,
    worker: DemoWorker,
    day: date,
    kafka_port: int | None,
    foreground: bool,
    views: dict[str, Items],
) -> None:
    topics = [view_topic(v) for v in VIEWS] + [dlq_topic(m.id) for m in MEMBERS]
    places = Places(
        settings=settings,
        base_url=worker.base_url,
        log=worker.log,
        topology_dir=demo_topology_dir(settings),
        records=asyncio.run(records_written(settings, topics)),
        members=[m.id for m in MEMBERS],
        day=day,
        kafka_port=kafka_port,
        foreground=foreground,
        examples=report.example_keys(views),
    )
    click.echo("\n".join(where_next(places)))


def _foreground(worker: DemoWorker) -> int:
    """Keep our worker running until Ctrl-C; 0 then, 1 if it died on its own."""
    if not worker.ours or worker.proc is None:
        click.echo("\nThe worker was already running before the demo: it keeps running.")
        return 0
    click.echo(click.style("\nThe hub is running. Press Ctrl-C to stop the worker.", bold=True))
    try:
        worker.proc.wait()
    except KeyboardInterrupt:
        click.echo("\nstopping the worker...")
        return 0
    click.echo(f"the worker exited on its own (code {worker.proc.returncode}). Last lines of {worker.log}:")
    click.echo(log_tail(worker.log))
    return 1
