"""Do readers starve the stream? A batch taken in with and without 100 concurrent readers.

Run by hand (not a test), from the repo root:

    .venv/bin/python -m bench.readers --events 3000 --readers 100

It starts a broker of its own on a free port and one worker, loads a first batch of seeded
events (so the views are large), then twice publishes a further batch of N and times how long
the worker takes to count all of it in member-activity: once quiet, once while R clients
each GET ``/views/contract-pipeline`` (the view the issue found recomputed per request) and
``/views/category-spend`` in a loop. Prints both times, their ratio, and the readers' p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.throughput import MEMBERS, free_port_pair, publish_all
from tests.hub_run import Worker, activity_received, create_topics, fresh_broker
from tests.oracle_gen import Plan, generate


async def received(session: aiohttp.ClientSession, base: str) -> int:
    async with session.get(f"{base}/views/member-activity") as resp:
        if resp.status != 200:
            return -1
        return sum(activity_received(await resp.json()).values())


async def take_in(worker: Worker, bootstrap: str, seed: int, events: int, target: int) -> tuple[float, int]:
    """Seconds from publishing a batch until member-activity has counted it, and the new total."""
    sent = generate(seed, Plan(members=MEMBERS, orders=events // 12, contracts=events // 40, suppliers=10))
    base = f"http://{worker.http}"
    async with aiohttp.ClientSession() as session:
        began = time.monotonic()
        await publish_all(bootstrap, sent)
        target += len(sent)
        while await received(session, base) < target:
            await asyncio.sleep(0.05)
        return time.monotonic() - began, target


async def reader(base: str, stop: asyncio.Event, times: list[float], errors: list[int]) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while not stop.is_set():
            for path in ("/views/contract-pipeline", "/views/category-spend"):
                began = time.monotonic()
                try:
                    async with session.get(base + path) as resp:
                        await resp.read()
                        if resp.status != 200:
                            errors.append(resp.status)
                except (TimeoutError, aiohttp.ClientError):
                    errors.append(0)
                times.append(time.monotonic() - began)


async def run(args: argparse.Namespace, tmp: Path) -> None:
    with fresh_broker(tmp / "broker", free_port_pair()) as info:
        await create_topics(info.hub_settings(), MEMBERS)
        worker = Worker(info.bootstrap, tmp / "worker", tmp / "worker.log")
        worker.start()
        try:
            await worker.wait_ready(timeout=300)
            _, total = await take_in(worker, info.bootstrap, 1, args.events * 3, 0)  # large views first
            quiet, total = await take_in(worker, info.bootstrap, 2, args.events, total)
            stop, times, errors = asyncio.Event(), list[float](), list[int]()
            tasks = [
                asyncio.create_task(reader(f"http://{worker.http}", stop, times, errors))
                for _ in range(args.readers)
            ]
            await asyncio.sleep(2.0)  # readers at full speed before the batch
            loaded, total = await take_in(worker, info.bootstrap, 3, args.events, total)
            stop.set()
            await asyncio.gather(*tasks)
        finally:
            worker.stop()
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    print(f"batch: {quiet:.1f}s quiet, {loaded:.1f}s under {args.readers} readers ({loaded / quiet:.2f}x)")
    print(f"reads: {len(times):,}, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, {len(errors)} not 200")
    print("\n| readers | batch quiet | batch under readers | ratio | reads | read p50 | read p99 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.readers} | {quiet:.1f} s | {loaded:.1f} s | {loaded / quiet:.2f} | {len(times):,} "
        f"| {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms |"
    )


def main() -> None:
    os.environ.setdefault("BLUELIGHT_MEMBERS_ONLY", "false")  # its generated members are in no topology
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--readers", type=int, default=100)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bluelight-readers-"))
    try:
        asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
