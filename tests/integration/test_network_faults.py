"""A slow, lossy and then cut network between the worker and the broker: the views still come out exact.

Matrix rows T12-T14 (notes/reliability-matrix.md): the worker (the real ``bluelight worker``
process) reaches the broker only through tests/netproxy.py, whose address the broker
advertises on a listener of its own, so every connection the worker's clients open (ingest,
faust, the view publisher) goes through it; the test's publisher talks to the broker directly
and never stops. Timeline, while records are published at a steady rate:

1. a clean link for a few seconds (the baseline latency);
2. 150 ms each way plus up to 50 ms of jitter, and 2 % of chunks stalled 0.2-0.6 s (what a
   lost segment does to a TCP stream); end-to-end latency (sent -> counted in member-activity)
   is measured under it;
3. a 30 s partition: nothing moves between the worker and the broker, no connection is closed
   (the worker's group sessions expire on the broker meanwhile); then the link heals.

Asserts: the worker rides it out (one start, the same pid, alive at every poll), every view (HTTP
and view topic) equals the oracle, member-activity balances, every rejected record is in its
member's DLQ. Why a proxy and not netem/iptables: see tests/netproxy.py and docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploy import config
from deploy.broker import BrokerInfo
from tests import ports
from tests.hub_run import (
    Worker,
    check_dead_letters,
    create_topics,
    fresh_broker,
    publish,
    read_dlqs,
    wait_for_quiet,
    wait_for_view_topics,
    wait_for_views,
)
from tests.netproxy import NetProxy
from tests.oracle import Categories, expected_views, received_by_member
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.NETWORK  # the broker; +1 its controller
PROXIED = PORT + 2  # the broker's listener for the worker...
PROXY = PORT + 3  # ...which it advertises as the proxy's address
SEED = 13
MEMBERS = DEFAULT_MEMBERS
PLAN = Plan(members=MEMBERS, orders=130, contracts=40, suppliers=10, invalid_per_member=12)
RATE = 30.0  # records per second, so publishing spans the whole timeline
CLEAN_S, DELAY_S, PARTITION_S = 8.0, 16.0, 30.0
DELAY, JITTER, STALL_P = 0.15, 0.05, 0.02
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}


Render = Callable[[config.ClusterSpec, int, Path, config.Secrets | None], str]


def _with_proxied_listener(render: Render) -> Render:
    """``config.server_properties`` plus a PLAINTEXT listener on PROXIED advertised as PROXY."""

    def rendered(spec: config.ClusterSpec, node_id: int, log_dir: Path, keys: config.Secrets | None) -> str:
        lines = []
        for line in render(spec, node_id, log_dir, keys).splitlines():
            key, _, value = line.partition("=")
            if key == "listeners":
                line = f"{line},PROXIED://127.0.0.1:{PROXIED}"
            elif key == "advertised.listeners":
                line = f"{line},PROXIED://127.0.0.1:{PROXY}"
            elif key == "listener.security.protocol.map":
                line = f"{line},PROXIED:PLAINTEXT"
            lines.append(line)
        return "\n".join(lines) + "\n"

    return rendered


@pytest.fixture(scope="module")
def net_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("network-broker")


@pytest.fixture(scope="module")
def net_broker(net_dir: Path) -> Iterator[BrokerInfo]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "server_properties", _with_proxied_listener(config.server_properties))
        with fresh_broker(net_dir, PORT) as info:
            yield info


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def test_delay_loss_and_partition_change_nothing(net_broker: BrokerInfo, tmp_path: Path) -> None:
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    n = len(sent)
    print(f"\nseed {SEED}: {summary(sent)}; {n} records at {RATE:.0f}/s ({n / RATE:.0f} s)")
    assert n / RATE > CLEAN_S + DELAY_S + PARTITION_S + 5, "publishing must outlast the partition"
    settings = net_broker.hub_settings()
    await create_topics(settings, MEMBERS)

    proxy = NetProxy(PROXY, PROXIED, seed=SEED)
    proxy.start()
    worker = Worker(f"127.0.0.1:{PROXY}", tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV)
    worker.start()
    sent_at: list[float] = [0.0] * n
    phase_of: list[str] = ["clean"] * n
    phase = "clean"
    polls: list[tuple[float, dict[str, int]]] = []
    deaths: list[str] = []
    marks: dict[str, float] = {}
    stop_polling = asyncio.Event()

    async def nemesis() -> None:
        nonlocal phase
        await asyncio.sleep(CLEAN_S)
        proxy.set(delay=DELAY, jitter=JITTER, stall_p=STALL_P)
        phase, marks["delay"] = "delay", time.monotonic()
        await asyncio.sleep(DELAY_S)
        proxy.set(partitioned=True)
        phase, marks["cut"] = "partition", time.monotonic()
        await asyncio.sleep(PARTITION_S)
        proxy.set(partitioned=False, delay=0.0, jitter=0.0, stall_p=0.0)
        phase, marks["healed"] = "healed", time.monotonic()

    async def poll() -> None:
        """member-activity every 0.1 s (when it answers), and whether the worker still runs."""
        while not stop_polling.is_set():
            if not worker.alive():
                deaths.append(f"exited {worker.proc and worker.proc.returncode} at {time.strftime('%T')}")
                return
            status, body = await worker.aget("/views/member-activity")
            if status == 200:
                got = {
                    i["member_id"]: i["accepted"] + i["duplicates"] + sum(i["rejected"].values())
                    for i in body["items"]
                }
                polls.append((time.monotonic(), got))
            await asyncio.sleep(0.1)

    began = 0.0

    async def pace(i: int) -> None:
        """Send record i at its time (publish's pacing would stamp it early); note when, in which phase."""
        wait = began + i / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        sent_at[i], phase_of[i] = time.monotonic(), phase

    poller: asyncio.Task[None] | None = None
    nemesis_task: asyncio.Task[None] | None = None
    try:
        await worker.wait_ready()
        assert worker.proc is not None
        pid = worker.proc.pid
        poller = asyncio.create_task(poll())
        began = time.monotonic()
        nemesis_task = asyncio.create_task(nemesis())
        placed = await publish(net_broker.bootstrap, sent, before=pace)
        published = time.monotonic()
        await nemesis_task
        await wait_for_quiet(worker, received_by_member(sent), timeout=180)
        quiet = time.monotonic()
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        topic_diffs = await wait_for_view_topics(settings, expected, timeout=60)
        dead = await read_dlqs(settings, MEMBERS)
        stop_polling.set()
        await poller
        same = worker.alive() and worker.proc is not None and worker.proc.pid == pid
    finally:
        stop_polling.set()
        for task in (poller, nemesis_task):
            if task is not None and not task.done():
                task.cancel()
        proxy.set(partitioned=False)  # a test failing mid-cut: let the worker shut down cleanly
        worker.stop()
        proxy.close()

    # end-to-end latency: record i (the k-th of its member) is visible at the first poll whose
    # member-activity count for that member reaches k
    ordinal: list[int] = []
    seen_per: dict[str, int] = {}
    for s in sent:
        seen_per[s.member] = seen_per.get(s.member, 0) + 1
        ordinal.append(seen_per[s.member])
    latency: dict[str, list[float]] = {}
    for i in sorted(range(n), key=lambda i: sent_at[i]):
        m, k = sent[i].member, ordinal[i]
        seen = next((t for t, got in polls if t >= sent_at[i] and got.get(m, 0) >= k), None)
        if seen is None:
            continue
        ph = phase_of[i]
        if ph == "delay" and seen >= marks["cut"]:
            ph = "delay, held by the cut"  # sent under delay, not through before the partition
        elif ph == "delay":  # and by when it was sent: does a backlog build up under the delay?
            a = int(sent_at[i] - marks["delay"]) // 4 * 4
            slice_ = f"  delay, sent {a}-{a + 4} s in"
            latency.setdefault(slice_, []).append(seen - sent_at[i])
        latency.setdefault(ph, []).append(seen - sent_at[i])
    # the partition bites: from 10 s into it until the heal, no count moves
    frozen = [got for t, got in polls if marks["cut"] + 10 <= t < marks["healed"]]
    report = [
        f"{ph}: {len(v)} records, latency p50 {percentile(v, 50) * 1000:.0f} ms, "
        f"p95 {percentile(v, 95) * 1000:.0f} ms, max {max(v) * 1000:.0f} ms"
        for ph, v in latency.items()
    ]
    c = proxy.counts
    print("\n".join(report))
    print(
        f"proxy: {c.connections} connections, {c.chunks} chunks, {c.bytes} bytes, {c.stalls} stalls, "
        f"{c.held_in_partition} chunks held by the partition; published in {published - began:.0f} s; "
        f"quiet {quiet - marks['healed']:.1f} s after the heal, {quiet - published:.1f} s after the last send"
    )

    assert not deaths and same and worker.starts == 1, (
        f"the worker did not ride it out: {deaths}\n{worker.tail()}"
    )
    assert c.stalls > 0 and c.held_in_partition > 0, f"the faults did not bite: {c}"
    assert len(frozen) > 50 and all(got == frozen[0] for got in frozen), (
        f"member-activity moved during the partition ({len(frozen)} polls): the worker bypassed the proxy?"
    )
    assert latency.get("delay") and statistics.median(latency["delay"]) >= 2 * DELAY, (
        "the delayed phase was not slower than two one-way delays: the worker bypassed the proxy?"
    )
    views_report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, "views differ from the oracle after the network faults:\n" + "\n".join(views_report)
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    problems = check_dead_letters(sent, placed, dead, exactly_once=False)
    assert not problems, f"dead letters wrong ({len(dead)} read back):\n" + "\n".join(problems[:30])
