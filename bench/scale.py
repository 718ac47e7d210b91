"""How the hub scales: drain rate with 1, 2 and 3 workers, and restarts with a large state.

Run by hand (not a test), from the repo root; each mode starts a broker of its own on a free
port (data in a temp dir, wiped at the end) and prints a table to paste into docs/benchmarks.md:

    .venv/bin/python -m bench.scale workers --events 20000 --workers 1,2,3
    .venv/bin/python -m bench.scale restart --entities 1000000

``workers``: loads N seeded events (tests/oracle_gen.py, with amendments, resends and invalid
records), drains them once with the raw aiokafka relay (bench/throughput.py) and then, on a
fresh broker each time, with K ``bluelight worker`` processes; events/s = N / seconds until the
first worker's member-activity has received all N; CPU is every worker's, from /proc.

``restart``: loads M distinct purchase orders (one version each), drains them with one worker
and reads its RSS; then the seconds from a restart until the worker serves every view in full
(its read model caught up and stage two folded), with its state dir kept and with it wiped,
beside a raw read of the same changelogs with a plain consumer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from tqdm import tqdm

from bench.throughput import (
    MEMBERS,
    RAW_OUT,
    free_port_pair,
    probe_template,
    publish_all,
    raw_loop,
    wait_total,
)
from bluelight.settings import load_settings
from schemas.serde import encode_event
from tests.hub_run import Worker, cpu_seconds, create_topics, fresh_broker, partitions_of, rss_mb
from tests.oracle_gen import Plan, generate
from topologies.naming import FAMILIES, hub_changelog_topic, member_topic


def plan_for(events: int) -> Plan:
    """A generator plan of about ``events`` records (the throughput benchmark's mix)."""
    per_member = max(1, events // len(MEMBERS))
    return Plan(
        members=MEMBERS,
        orders=int(per_member * 0.55 / 2.4),
        contracts=int(per_member * 0.15 / 2.1),
        suppliers=int(per_member * 0.1 / 1.5),
        invalid_per_member=max(16, per_member // 100),
    )


async def drain_with(tmp: Path, events: int, seed: int, workers: int) -> tuple[int, float, float]:
    """(records, seconds, worker CPU seconds) for ``workers`` workers on a fresh broker."""
    sent = generate(seed, plan_for(events))
    with fresh_broker(tmp / f"broker-{workers}", free_port_pair()) as info:
        await create_topics(info.hub_settings(), MEMBERS)
        await publish_all(info.bootstrap, sent)
        ws = [
            Worker(info.bootstrap, tmp / f"w{workers}-{i}", tmp / f"w{workers}-{i}.log")
            for i in range(workers)
        ]
        for w in ws:
            w.start()
        try:
            for w in ws:
                await w.wait_ready(timeout=300)
            pids = [w.proc.pid if w.proc else None for w in ws]
            cpu0 = sum(cpu_seconds(p) for p in pids)
            seconds, at_ready = await wait_total(ws[0], len(sent), f"{workers} worker(s)")
            cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        finally:
            for w in ws:
                w.stop()
    return len(sent) - at_ready, seconds, cpu


async def raw_drain(tmp: Path, events: int, seed: int) -> tuple[int, float]:
    """(records, seconds) for the raw relay over the same kind of load."""
    sent = generate(seed, plan_for(events))
    with fresh_broker(tmp / "broker-raw", free_port_pair()) as info:
        await create_topics(info.hub_settings(), MEMBERS)
        admin = AIOKafkaAdminClient(bootstrap_servers=info.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(RAW_OUT, num_partitions=3, replication_factor=1)])
        finally:
            await admin.close()
        await publish_all(info.bootstrap, sent)
        inputs = [member_topic(m, f) for m in MEMBERS for f in FAMILIES]
        stop, counted = asyncio.Event(), [0]
        task = asyncio.create_task(
            raw_loop(info.bootstrap, inputs, "bench-raw", earliest=True, stop=stop, counted=counted)
        )
        first = None
        while counted[0] < len(sent):
            if task.done():
                task.result()
            if counted[0] and first is None:
                first = time.monotonic()
            await asyncio.sleep(0.02)
        seconds = time.monotonic() - (first or time.monotonic())
        stop.set()
        await task
    return len(sent), seconds


async def workers_mode(args: argparse.Namespace, tmp: Path) -> None:
    n, raw_s = await raw_drain(tmp, args.events, args.seed)
    print(f"raw relay: {n:,} events in {raw_s:.2f}s = {n / raw_s:,.0f}/s")
    rows = []
    for k in args.workers:
        got, seconds, cpu = await drain_with(tmp, args.events, args.seed, k)
        rows.append((k, got, seconds, cpu))
        print(
            f"{k} worker(s): {got:,} in {seconds:.1f}s = {got / seconds:,.0f}/s, "
            f"{1000 * cpu / got:.2f} ms CPU/event"
        )
    print("\n| workers | events | seconds | events/s | hub / raw | worker CPU per event |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for k, got, seconds, cpu in rows:
        rate = got / seconds
        print(
            f"| {k} | {got:,} | {seconds:.1f} | {rate:,.0f} | {rate / (n / raw_s):.3f} "
            f"| {1000 * cpu / got:.2f} ms |"
        )


async def load_orders(bootstrap: str, member: str, count: int) -> None:
    """``count`` distinct purchase orders of one member, one version each."""
    template = probe_template().model_copy(update={"member_id": member})
    topic = member_topic(member, "purchase-order")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=50, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        pending = []
        for i in tqdm(range(count), desc="load", unit="ev"):
            entity = f"PO-{i:08d}"
            event = template.model_copy(update={"entity_id": entity, "event_id": str(uuid.uuid4())})
            pending.append(await producer.send(topic, key=entity.encode(), value=encode_event(event)))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def serving_after_start(worker: Worker, entities: int, timeout: float = 3600) -> float:
    """Seconds from start until the worker serves every view in full (all entities counted)."""
    began = time.monotonic()
    worker.start()
    while time.monotonic() - began < timeout:
        status, body = await worker.aget("/health")
        if status == 200 and isinstance(body, dict) and body.get("folded"):
            status, item = await worker.aget(f"/views/member-activity/{MEMBERS[0]}")
            if status == 200 and item.get("accepted", 0) >= entities:
                return time.monotonic() - began
        await asyncio.sleep(0.2)
    raise RuntimeError(f"not serving after {timeout:.0f}s:\n{worker.tail()}")


async def raw_changelog_read(bootstrap: str) -> tuple[int, float]:
    """(records, seconds) for a plain consumer reading every changelog from start to end."""
    names = [hub_changelog_topic(t) for t in ("entity-state", "rejections", "view-parts")]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await partitions_of(load_settings(bootstrap=bootstrap), names)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        began, count = time.monotonic(), 0
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500, max_records=10000)).values():
                count += len(records)
        return count, time.monotonic() - began
    finally:
        await consumer.stop()


async def restart_mode(args: argparse.Namespace, tmp: Path) -> None:
    member = MEMBERS[0]
    with fresh_broker(tmp / "broker", free_port_pair()) as info:
        await create_topics(info.hub_settings(), [member])
        t0 = time.monotonic()
        await load_orders(info.bootstrap, member, args.entities)
        print(f"loaded {args.entities:,} orders in {time.monotonic() - t0:.0f}s")
        worker = Worker(info.bootstrap, tmp / "worker", tmp / "worker.log")
        drained = await serving_after_start(worker, args.entities)
        pid = worker.proc.pid if worker.proc else None
        rss = rss_mb(pid)
        print(f"drained {args.entities:,} in {drained:.0f}s; worker RSS {rss:,.0f} MB")
        worker.stop()
        kept = await serving_after_start(worker, args.entities)
        print(f"restart with its state dir: serving after {kept:.1f}s")
        worker.stop()
        shutil.rmtree(tmp / "worker")
        wiped = await serving_after_start(worker, args.entities)
        print(f"restart with the state dir wiped: serving after {wiped:.1f}s")
        worker.stop()
        records, raw_s = await raw_changelog_read(info.bootstrap)
        print(f"raw read of the changelogs: {records:,} records in {raw_s:.1f}s")
    print(
        "\n| entities | worker RSS | drain | restart, state kept | restart, state wiped "
        "| raw changelog read |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.entities:,} | {rss:,.0f} MB | {drained:.0f} s | {kept:.1f} s | {wiped:.1f} s "
        f"| {raw_s:.1f} s ({records:,} records) |"
    )


def main() -> None:
    os.environ.setdefault("BLUELIGHT_MEMBERS_ONLY", "false")  # its generated members are in no topology
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("workers", help="drain rate with 1, 2, 3 workers beside the raw relay")
    w.add_argument("--events", type=int, default=20_000)
    w.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 3])
    w.add_argument("--seed", type=int, default=7)
    r = sub.add_parser("restart", help="RSS and restart times with a large state")
    r.add_argument("--entities", type=int, default=1_000_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bluelight-scale-"))
    try:
        asyncio.run(workers_mode(args, tmp) if args.mode == "workers" else restart_mode(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
