"""How fast the hub is on this machine, beside a raw aiokafka consume -> produce loop on the same broker.

Run by hand (not a test): ``.venv/bin/python -m bench.throughput`` from the repo root. It starts
a broker of its own on a free port (deploy.broker, data in a temp dir, wiped at the end), then:

1. loads N seeded events (tests/oracle_gen.py: amendments, resends, out-of-order versions and
   invalid records, as in the oracle test) into the member topics;
2. throughput, raw: a plain aiokafka loop (one consumer group, read a batch, produce every
   record to one output topic with an idempotent acks=all producer, await the acks, commit)
   drains those N records; events/s = N / time;
3. throughput, hub: ``bluelight worker`` starts on the same, still-full topics; events/s =
   records applied after it first served / time until member-activity has received all N
   (ingest, DLQ, canonical topic, faust tables and their changelogs, the view index);
4. latency, hub: events at a steady rate (default 1,000/s) with a probe every 20th slot: the
   probe is the next version of one purchase order of a probe member, so the k-th probe has
   been applied when that member's ``accepted`` reaches k. Measured from its ``published_at``
   (set when it is sent) to (a) ``GET /views/member-activity/<probe>`` showing it (polled every
   10 ms), (b) the record on the ``member-activity`` view topic reaching a consumer; plus the
   worker's own ``bluelight_event_latency_seconds`` histogram (bucket bounds only);
5. latency, raw: the same traffic through the raw loop, probe to the output topic's consumer.

Prints a table and writes docs/benchmarks.md (``--no-doc`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import platform
import re
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from tqdm import tqdm

from bluelight.settings import HubSettings
from deploy.jars import KAFKA_VERSION
from schemas.models import PurchaseOrder
from schemas.serde import decode_record, encode_event
from tests.hub_run import Worker, activity_received, cpu_seconds, create_topics, fresh_broker, partitions_of
from tests.oracle import Sent
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate
from topologies.naming import FAMILIES, hub_topic, member_topic, view_topic

MEMBERS = (*DEFAULT_MEMBERS, "london-fire")
PROBE_MEMBER = "bench-probe"
PROBE_ENTITY = "PROBE-LATENCY"
PROBE_EVERY = 20
RAW_OUT = hub_topic("bench-raw-out")
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
NOTES = "## Notes"


# --- the raw loop -------------------------------------------------------------------------------------


async def raw_loop(
    bootstrap: str,
    topics: Sequence[str],
    group: str,
    *,
    earliest: bool,
    stop: asyncio.Event,
    counted: list[int],
    started: asyncio.Event | None = None,
) -> None:
    """Consume ``topics`` and produce every record to RAW_OUT: the least a Kafka relay can do.

    Same shape as the hub's ingest commit discipline: read a batch, send all, await all acks,
    commit. ``counted[0]`` is the running number of records relayed.
    """
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if earliest else "latest",
        isolation_level="read_committed",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        for tp in consumer.assignment():
            await consumer.position(tp)  # resolve the reset now, before traffic starts
        if started is not None:
            started.set()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=1000)
            sends = [
                await producer.send(RAW_OUT, value=r.value, key=r.key)
                for records in batches.values()
                for r in records
            ]
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
                counted[0] += len(sends)
    finally:
        await consumer.stop()
        await producer.stop()


# --- traffic with latency probes ------------------------------------------------------------------------


@dataclass
class Probes:
    """The probe events sent, in order: probe k (1-based) is version first_version + k - 1."""

    first_version: int = 1  # the probe entity's version of probe 1 (runs continue one entity)
    published: list[float] = field(default_factory=list)  # published_at, epoch seconds
    values: dict[bytes, float] = field(default_factory=dict)  # encoded probe -> published_at

    def make(self, template: PurchaseOrder) -> tuple[bytes, float]:
        """The next probe, stamped now."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        event = template.model_copy(
            update={
                "entity_version": self.first_version + len(self.published),
                "event_id": str(uuid.uuid4()),
                "occurred_at": now,
                "published_at": now,
            }
        )
        value = encode_event(event)
        self.published.append(now.timestamp())
        self.values[value] = now.timestamp()
        return value, now.timestamp()


def probe_template() -> PurchaseOrder:
    """A valid purchase order of the probe member; each probe is its next version."""
    now = datetime.now(UTC)
    return PurchaseOrder.model_validate(
        {
            "event_id": str(uuid.uuid4()),
            "member_id": PROBE_MEMBER,
            "source_system": "bench",
            "entity_id": PROBE_ENTITY,
            "entity_version": 1,
            "occurred_at": now,
            "published_at": now,
            "status": "ISSUED",
            "order_date": now.date(),
            "currency": "GBP",
            "supplier": {
                "member_supplier_id": "P",
                "name": "Probe Supplies Ltd",
                "companies_house_number": "1",
            },
            "lines": [
                {
                    "line_id": "1",
                    "description": "probe",
                    "quantity": Decimal(1),
                    "unit": "EA",
                    "unit_price": Decimal("1.00"),
                    "line_total": Decimal("1.00"),
                    "classification": {"scheme": "CPV", "code": "30192000"},
                }
            ],
            "total_net": Decimal("1.00"),
        }
    )


async def steady_traffic(
    bootstrap: str, sent: Sequence[Sent], rate: float, seconds: float, probes: Probes
) -> float:
    """Send ``sent`` at ``rate``/s for ``seconds``, a probe every PROBE_EVERY-th; the rate achieved."""
    # linger as the adapter SDK publishes
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    template = probe_template()
    total = int(rate * seconds)
    pending: list[asyncio.Future[Any]] = []
    began = time.monotonic()
    background = iter(sent)
    try:
        for i in tqdm(range(total), desc=f"  traffic {rate:,.0f}/s", unit="ev", leave=False):
            delay = began + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if i % PROBE_EVERY == PROBE_EVERY - 1:
                value, _ = probes.make(template)
                topic, key = member_topic(PROBE_MEMBER, "purchase-order"), PROBE_ENTITY.encode()
            else:
                s = next(background)
                topic, key, value = member_topic(s.member, s.family), s.key, stamped(s)  # type: ignore[assignment]
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) > 500:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return total / (time.monotonic() - began)


def latencies(probes: Probes, seen: list[tuple[float, int]]) -> list[float]:
    """Per probe: first time a count >= k was observed, minus probe k's published_at (ms)."""
    seen = sorted(seen, key=lambda x: x[0])
    best = 0
    times: list[float] = []
    counts: list[int] = []
    for t, n in seen:  # running maximum: a count never goes back
        best = max(best, n)
        times.append(t)
        counts.append(best)
    out = []
    for k, published in enumerate(probes.published, start=1):
        i = bisect.bisect_left(counts, k)
        if i < len(times):
            out.append((times[i] - published) * 1000)
    return out


async def poll_http(worker: Worker, stop: asyncio.Event, seen: list[tuple[float, int]], base: int) -> None:
    """GET the probe member's member-activity item every 10 ms; counts are relative to ``base``."""
    url = f"http://{worker.http}/views/member-activity/{PROBE_MEMBER}"
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        seen.append((time.time(), int((await resp.json())["accepted"]) - base))
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)


async def tail_topic(
    settings: HubSettings, topic: str, stop: asyncio.Event, ready: asyncio.Event, on_record: Any
) -> None:
    """Read ``topic`` from its current end until ``stop``, calling on_record(record, receive_time)."""
    tps = await partitions_of(settings, [topic])
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **settings.kafka.to_aiokafka_kwargs())
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        ready.set()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=50)
            now = time.time()
            for records in batches.values():
                for r in records:
                    on_record(r, now)
    finally:
        await consumer.stop()


# --- the worker's own histogram -----------------------------------------------------------------------------

_BUCKET = re.compile(r'^bluelight_event_latency_seconds_bucket\{.*le="([^"]+)".*\}\s+([0-9.eE+]+)$')


async def histogram(worker: Worker) -> dict[float, float]:
    """Cumulative counts per bucket bound, summed over families."""
    async with aiohttp.ClientSession() as session, session.get(f"http://{worker.http}/metrics") as resp:
        text = await resp.text()
    out: dict[float, float] = {}
    for line in text.splitlines():
        m = _BUCKET.match(line)
        if m:
            bound = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[bound] = out.get(bound, 0.0) + float(m.group(2))
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> str:
    """The bucket bound the q-quantile of the observations between two scrapes falls under."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return "n/a"
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= q * counts[-1]:
            return f"<= {bound * 1000:.0f}" if bound != float("inf") else "> max bucket"
    return "n/a"


# --- the run -----------------------------------------------------------------------------------------------


@dataclass
class Latency:
    """One latency run at one rate."""

    where: str
    rate: float
    achieved: float
    probes: int
    values: list[float]  # ms, one per probe seen


@dataclass
class Results:
    """Everything measured."""

    events: int = 0
    load_s: float = 0.0
    raw_s: float = 0.0
    hub_s: float = 0.0
    hub_events: int = 0
    hub_ready_s: float = 0.0
    # CPU seconds used while draining: (relay or worker, broker)
    raw_cpu: tuple[float, float] = (0.0, 0.0)
    hub_cpu: tuple[float, float] = (0.0, 0.0)
    latency: list[Latency] = field(default_factory=list)
    hist: dict[float, dict[str, str]] = field(default_factory=dict)
    # per steady rate: CPU cores used while the traffic ran (worker, broker)
    steady_cpu: dict[float, tuple[float, float]] = field(default_factory=dict)


def free_port_pair(start: int = 9496) -> int:
    """A port P with P and P+1 (the controller) free."""
    for port in range(start, start + 200, 2):
        ok = True
        for p in (port, port + 1):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no free port pair found")


async def wait_total(worker: Worker, target: int, desc: str, timeout: float = 1800) -> tuple[float, int]:
    """Poll member-activity until ``target`` records were received; (seconds since ready, count at ready)."""
    at_ready = -1
    began = time.monotonic()
    with tqdm(total=target, desc=desc, unit="ev", leave=False) as bar:
        while time.monotonic() - began < timeout:
            status, body = await worker.aget("/views/member-activity")
            if status == 200:
                got = sum(activity_received(body).values())
                if at_ready < 0:
                    at_ready, began = got, time.monotonic()
                bar.update(got - bar.n)
                if got >= target:
                    return time.monotonic() - began, at_ready
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the worker did not receive {target} records within {timeout:.0f}s:\n{worker.tail()}")


async def run(args: argparse.Namespace, tmp: Path) -> Results:
    res = Results()
    port = args.port or free_port_pair()
    print(f"broker: fresh single node on 127.0.0.1:{port} (data in {tmp})")
    with fresh_broker(tmp / "broker", port) as info:
        bootstrap, settings = info.bootstrap, info.hub_settings()
        await create_topics(settings, (*MEMBERS, PROBE_MEMBER))
        inputs = [member_topic(m, f) for m in (*MEMBERS, PROBE_MEMBER) for f in FAMILIES]
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)  # the raw loop's output, sized like an input
        await admin.start()
        try:
            await admin.create_topics([NewTopic(RAW_OUT, num_partitions=3, replication_factor=1)])
        finally:
            await admin.close()

        # 1. load
        per_member = max(1, args.events // len(MEMBERS))
        plan = Plan(
            members=MEMBERS,
            orders=int(per_member * 0.55 / 2.4),
            contracts=int(per_member * 0.15 / 2.1),
            suppliers=int(per_member * 0.1 / 1.5),
            invalid_per_member=max(16, per_member // 100),
        )
        sent = generate(args.seed, plan)
        res.events = len(sent)
        t0 = time.monotonic()
        await publish_all(bootstrap, sent)
        res.load_s = time.monotonic() - t0
        print(f"loaded {res.events:,} events in {res.load_s:.1f}s")

        # 2. raw drain
        stop, counted = asyncio.Event(), [0]
        task = asyncio.create_task(
            raw_loop(bootstrap, inputs, "bench-raw", earliest=True, stop=stop, counted=counted)
        )
        broker_pid = info.nodes[0].pid
        t0 = time.monotonic()
        cpu0 = (time.process_time(), cpu_seconds(broker_pid))
        first = None
        with tqdm(total=res.events, desc="raw loop drain", unit="ev", leave=False) as bar:
            while counted[0] < res.events:
                if task.done():
                    task.result()
                if counted[0] and first is None:
                    first = time.monotonic()
                bar.update(counted[0] - bar.n)
                await asyncio.sleep(0.02)
        res.raw_s = time.monotonic() - (first or t0)
        res.raw_cpu = (time.process_time() - cpu0[0], cpu_seconds(broker_pid) - cpu0[1])
        stop.set()
        await task
        print(f"raw loop: {res.events:,} in {res.raw_s:.2f}s")

        # 3. hub drain, then 4. hub latency at each rate
        worker = Worker(bootstrap, tmp / "worker", tmp / "worker.log")
        worker.start()
        try:
            res.hub_ready_s = await worker.wait_ready(timeout=300)
            worker_pid = worker.proc.pid if worker.proc is not None else None
            cpu0 = (cpu_seconds(worker_pid), cpu_seconds(broker_pid))
            res.hub_s, at_ready = await wait_total(worker, res.events, "hub drain")
            res.hub_cpu = (cpu_seconds(worker_pid) - cpu0[0], cpu_seconds(broker_pid) - cpu0[1])
            res.hub_events = res.events - at_ready
            print(f"hub: {res.hub_events:,} in {res.hub_s:.2f}s (ready after {res.hub_ready_s:.1f}s)")
            sent_total = res.events
            for i, rate in enumerate(args.rates):
                await wait_total(worker, sent_total, "hub catching up")  # each run starts idle
                http, topic, hist, cores = await hub_latency(
                    args, worker, settings, rate, f"L{i}-", (worker_pid, broker_pid)
                )
                res.latency += [http, topic]
                res.hist[rate] = hist
                res.steady_cpu[rate] = cores
                sent_total += int(rate * args.seconds)
        finally:
            worker.stop()

        # 5. raw latency at each rate
        for i, rate in enumerate(args.rates):
            res.latency.append(await raw_latency(args, settings, inputs, rate, f"R{i}-"))
    return res


async def publish_all(bootstrap: str, sent: Sequence[Sent]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=20
    )
    await producer.start()
    try:
        pending = []
        for s in tqdm(sent, desc="load", unit="ev", leave=False):
            pending.append(await producer.send(member_topic(s.member, s.family), value=s.value, key=s.key))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def background(seed: int, count: int, prefix: str) -> list[Sent]:
    """Steady-state traffic: the generator's mix of new entities, without resends (re-stamped when sent)."""
    per = max(1, count // len(MEMBERS))
    plan = Plan(
        members=MEMBERS,
        orders=int(per * 0.55 / 2.2),
        contracts=int(per * 0.15 / 2.0),
        suppliers=int(per * 0.1 / 1.5),
        p_resend=0.0,
        invalid_per_member=16,
        id_prefix=prefix,
    )
    out = generate(seed, plan)
    while len(out) < count:
        out += out
    return out[:count]


def stamped(s: Sent) -> bytes | None:
    """A valid record re-encoded with published_at = now, so latency is measured from the send."""
    if s.event is None:
        return s.value
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    return encode_event(s.event.model_copy(update={"published_at": now, "occurred_at": now}))


async def settle(want: int, seen: Callable[[], int], timeout: float) -> None:
    """Wait until ``seen()`` reaches ``want`` probes (or ``timeout``): a late probe must count, not vanish."""
    deadline = time.monotonic() + timeout
    while seen() < want and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def _most(seen: list[tuple[float, int]]) -> int:
    return max((n for _, n in seen), default=0)


async def hub_latency(
    args: argparse.Namespace,
    worker: Worker,
    settings: HubSettings,
    rate: float,
    prefix: str,
    pids: tuple[int | None, int | None],
) -> tuple[Latency, Latency, dict[str, str], tuple[float, float]]:
    bootstrap = settings.bootstrap
    traffic = background(args.seed + 1, int(rate * args.seconds), prefix)
    probes, stop = Probes(), asyncio.Event()
    http_seen: list[tuple[float, int]] = []
    topic_seen: list[tuple[float, int]] = []
    ready = asyncio.Event()
    base = [0]  # the probe member's accepted count before this run

    def on_view(record: Any, now: float) -> None:
        if record.key == PROBE_MEMBER.encode() and record.value is not None:
            topic_seen.append((now, int(decode_record(record.value).record["accepted"]) - base[0]))

    status, body = await worker.aget(f"/views/member-activity/{PROBE_MEMBER}")
    base[0] = int(body["accepted"]) if status == 200 else 0
    probes.first_version = base[0] + 1
    tail = asyncio.create_task(tail_topic(settings, view_topic("member-activity"), stop, ready, on_view))
    await ready.wait()
    poll = asyncio.create_task(poll_http(worker, stop, http_seen, base[0]))
    before = await histogram(worker)
    cpu0, t0 = [cpu_seconds(pid) for pid in pids], time.monotonic()
    achieved = await steady_traffic(bootstrap, traffic, rate, args.seconds, probes)
    took = time.monotonic() - t0
    cores = (
        (cpu_seconds(pids[0]) - cpu0[0]) / took,
        (cpu_seconds(pids[1]) - cpu0[1]) / took,
    )
    await settle(len(probes.published), lambda: min(_most(http_seen), _most(topic_seen)), timeout=120)
    after = await histogram(worker)
    stop.set()
    await asyncio.gather(tail, poll)
    hist = {q: bucket_quantile(before, after, p) for q, p in (("p50", 0.5), ("p99", 0.99))}
    http = Latency(
        "hub: GET /views/member-activity/<probe>, polled every 10 ms",
        rate,
        achieved,
        len(probes.published),
        latencies(probes, http_seen),
    )
    topic = Latency(
        "hub: member-activity view topic, consumer",
        rate,
        achieved,
        len(probes.published),
        latencies(probes, topic_seen),
    )
    print(
        f"hub at {rate:,.0f}/s: {http.probes} probes; {len(http.values)} seen by HTTP, "
        f"{len(topic.values)} on the view topic"
    )
    return http, topic, hist, cores


async def raw_latency(
    args: argparse.Namespace, settings: HubSettings, inputs: list[str], rate: float, prefix: str
) -> Latency:
    bootstrap = settings.bootstrap
    traffic = background(args.seed + 2, int(rate * args.seconds), prefix)
    probes, stop, started, ready = Probes(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: list[float] = []

    def on_out(record: Any, now: float) -> None:
        published = probes.values.get(record.value)
        if published is not None:
            seen.append((now - published) * 1000)

    loop = asyncio.create_task(
        raw_loop(
            bootstrap, inputs, f"bench-raw-{prefix}", earliest=False, stop=stop, counted=[0], started=started
        )
    )
    tail = asyncio.create_task(tail_topic(settings, RAW_OUT, stop, ready, on_out))
    await asyncio.gather(started.wait(), ready.wait())
    achieved = await steady_traffic(bootstrap, traffic, rate, args.seconds, probes)
    await settle(len(probes.published), lambda: len(seen), timeout=60)
    stop.set()
    await asyncio.gather(loop, tail)
    print(f"raw at {rate:,.0f}/s: {len(probes.published)} probes, {len(seen)} seen")
    return Latency("raw loop: output topic, consumer", rate, achieved, len(probes.published), seen)


# --- reporting ---------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f}"


def per_k(cpu_s: float, events: int) -> str:
    """CPU seconds as milliseconds per 1,000 events."""
    return f"{cpu_s * 1e6 / events:,.0f}" if events else "n/a"


def table(res: Results, args: argparse.Namespace) -> str:
    raw_rate = res.events / res.raw_s if res.raw_s else 0.0
    hub_rate = res.hub_events / res.hub_s if res.hub_s else 0.0
    ratio = hub_rate / raw_rate if raw_rate else 0.0
    lines = [
        f"**Throughput**: {res.events:,} events already in the member topics, drained.",
        "",
        "| pipeline | events | seconds | events/s |",
        "| --- | ---: | ---: | ---: |",
        f"| raw aiokafka consume -> produce loop | {res.events:,} | {res.raw_s:.2f} | {raw_rate:,.0f} |",
        f"| hub worker (ingest + views) | {res.hub_events:,} | {res.hub_s:.2f} | {hub_rate:,.0f} |",
        "",
        f"Hub / raw = **{ratio:.2f}** (aim >= 0.25). Worker start to first answer: {res.hub_ready_s:.1f} s "
        "(not counted).",
        "",
        "CPU used while draining, milliseconds per 1,000 events (from /proc; the raw loop runs in",
        "the benchmark's own process, so its figure includes the progress bar):",
        "",
        "| pipeline | relay or worker | broker |",
        "| --- | ---: | ---: |",
        f"| raw loop | {per_k(res.raw_cpu[0], res.events)} | {per_k(res.raw_cpu[1], res.events)} |",
        f"| hub worker | {per_k(res.hub_cpu[0], res.hub_events)} | {per_k(res.hub_cpu[1], res.hub_events)} |",
        "",
        f"**Latency** from published_at to visible, ms, at steady rates for {args.seconds:.0f} s each "
        f"(1 probe per {PROBE_EVERY} events):",
        "",
        "| measured at | offered/s | achieved/s | probes seen | p50 | p90 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lat in sorted(res.latency, key=lambda x: (-x.rate, not x.where.startswith("raw"), x.where)):
        values = lat.values
        lines.append(
            f"| {lat.where} | {lat.rate:,.0f} | {lat.achieved:,.0f} | {len(values)}/{lat.probes} "
            f"| {pct(values, 0.5)} | {pct(values, 0.9)} | {pct(values, 0.99)} "
            f"| {max(values) if values else 0:.0f} |"
        )
    for rate, hist in sorted(res.hist.items(), reverse=True):
        lines.append(
            f"| hub: worker histogram bluelight_event_latency_seconds (a bucket bound) | {rate:,.0f} | - | - "
            f"| {hist.get('p50', 'n/a')} | - | {hist.get('p99', 'n/a')} | - |"
        )
    if res.steady_cpu:
        lines += [
            "",
            "CPU in use while the steady traffic ran, in cores (1.00 = one core busy):",
            "",
            "| offered/s | worker | broker |",
            "| ---: | ---: | ---: |",
        ]
        for rate, (worker, broker) in sorted(res.steady_cpu.items(), reverse=True):
            lines.append(f"| {rate:,.0f} | {worker:.2f} | {broker:.2f} |")
    return "\n".join(lines)


def environment() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores ({cpu}), "
        f"load average {load} at the end; "
        f"Python {platform.python_version()}; Kafka {KAFKA_VERSION}, one node (plaintext) on the same machine"
    )


def write_doc(text: str, args: argparse.Namespace) -> None:
    rates = ",".join(f"{r:g}" for r in args.rates)
    command = ".venv/bin/python -m bench.throughput " + (
        f"--events {args.events} --rates {rates} --seconds {args.seconds:g}"
    )
    notes = ""  # a hand-written "## Notes" section at the end survives a re-run
    if DOC.exists() and NOTES in DOC.read_text(encoding="utf-8"):
        notes = "\n" + NOTES + DOC.read_text(encoding="utf-8").split(NOTES, 1)[1]
    DOC.write_text(
        DOC_TEMPLATE.format(command=command, environment=environment(), results=text).rstrip() + "\n" + notes,
        encoding="utf-8",
    )
    print(f"wrote {DOC}")


DOC_TEMPLATE = """# Benchmarks

How fast the hub is on one machine, always beside a raw aiokafka loop measured in the same run
on the same broker, so the figures say what the hub's own work costs rather than how fast the
machine happens to be.

Command (from the repo root; starts and wipes a broker of its own on a free port, ~2-3 minutes):

    {command}

## What is measured

- **Throughput.** N seeded events from `tests/oracle_gen.py` (orders, contracts and supplier
  records with amendments, cancellations, out-of-order versions, exact resends and invalid
  records of every rejection kind) are loaded into the member topics first. Then the **raw loop**
  (one aiokafka consumer group: read a batch, produce every record unchanged to one output
  topic with an idempotent `acks=all` producer, await the acks, commit) drains them; then
  `bluelight worker` drains the same records (decode, validate, DLQ, canonical topic, faust tables
  with their changelogs, the view index). Hub events/s counts from its first HTTP answer to
  member-activity having received all N.
- **Latency.** Traffic at a steady rate with a probe in every 20th slot. The probe is the next
  version of one purchase order of a probe member, so probe k has been applied when that
  member's `accepted` count reaches k; latency is from the probe's `published_at` (stamped when
  sent) to (a) `GET /views/member-activity/<probe>` showing it, polled every 10 ms, and (b) the
  member-activity record reaching a consumer of the view topic. The worker's own histogram
  `bluelight_event_latency_seconds` is shown too, but its buckets only bound the figure. The raw
  loop's latency is the same probe's trip to a consumer of the raw loop's output topic.
- **CPU.** User plus system CPU of the worker and the broker processes, read from `/proc`
  before and after each drain and each steady run (the raw loop's from the benchmark's own
  process).

## Results

{environment}. The machine is shared: other processes ran at the same time, so treat the
figures as indicative and compare rows of one run, not runs.

{results}

## Reading the figures

- The raw loop does the least a relay can (no decoding, one write per record); the hub decodes
  and validates every record, writes a canonical record (and a DLQ record when rejected), then
  updates two changelog-backed tables and the in-memory views. The ratio is the price of that
  work on this machine.
- The CPU tables are the steadier figures on a shared machine: wall-clock rates moved by up to
  ±50% between identical runs on 2026-11-28, CPU per event by much less.
- The view topics are written by a publisher that flushes changed keys every 500 ms
  (`streams/publish.py`), so latency to a view-topic consumer includes up to that interval; the
  HTTP answer reflects the in-memory views as soon as an event is applied.
- Everything shares two cores: the worker, the broker, and the benchmark's own producer,
  HTTP poller and view-topic consumer. In production the broker runs elsewhere.
"""


def main() -> None:
    os.environ.setdefault("BLUELIGHT_MEMBERS_ONLY", "false")  # its generated members are in no topology
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40_000, help="events to drain for throughput")
    parser.add_argument(
        "--rates", default="250,1000", help="steady rates for the latency runs, events/s, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each latency run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0, help="broker port (default: a free one from 9496)")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bluelight-bench-"))
    try:
        res = asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(res, args)
    print()
    print(text)
    if not args.no_doc:
        write_doc(text, args)


if __name__ == "__main__":
    main()
