"""A 3-node cluster loses the leader of the hub's partitions, then its active controller, mid-stream.

Issue 13, row 1 (matrix T9-T11, notes/reliability-matrix.md): the oracle stream is published at a
steady rate into a real worker on a real 3-node KRaft cluster (`kafka up --nodes 3`: every node is
broker and controller). Every topic the hub writes has replication factor 3 and
min.insync.replicas 2, and every producer waits for acks=all. Mid-stream the node leading the
most canonical and changelog partitions is SIGKILLed and brought back; once every replica is in
sync again, the node leading the metadata quorum (the active controller) is SIGKILLed and brought
back. Publishing never pauses.

Nothing acknowledged may be lost: every acknowledged record is on its input topic at the offset it
was acknowledged with, and member-activity counts every one of them; the views (HTTP and view
topics) equal the oracle; every rejected record is in its member's DLQ; and the worker rode it all
out in one process.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from bluelight.settings import HubSettings
from deploy import broker
from deploy.broker import BrokerInfo
from tests import ports
from tests.hub_run import (
    Placed,
    Worker,
    check_dead_letters,
    create_topics,
    publish,
    read_dlqs,
    wait_for_quiet,
    wait_for_view_topics,
    wait_for_views,
)
from tests.oracle import Categories, Sent, expected_views, received_by_member
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, summary
from topologies.apply import checked_topology
from topologies.desired import hub_topic_specs, member_topic_specs
from topologies.naming import hub_changelog_topic, hub_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.HUB_CLUSTER
SEED = 13
MEMBERS = DEFAULT_MEMBERS
PLAN = Plan(members=MEMBERS, orders=200, contracts=60, suppliers=25, invalid_per_member=16)
RATE = 45.0  # records per second: about 66 s of stream, long enough for both faults
FIRST_FAULT_AT = 0.15  # share of the stream published before the first SIGKILL
HOLD_AT = 0.9  # the last tenth waits until both nodes are back, so records flow after the faults too
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}
CANONICAL = hub_topic("canonical")
CHANGELOGS = tuple(hub_changelog_topic(t) for t in ("entity-state", "rejections", "view-parts"))
OFFSETS_TOPIC = "__consumer_offsets"


@pytest.fixture(scope="module")
def cluster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="module")
def cluster(cluster_dir: Path) -> Iterator[BrokerInfo]:
    """Three nodes of this test's own (ports base, +100, +200; controllers +1), wiped after."""
    settings = HubSettings(state_dir=cluster_dir)
    try:
        info = broker.ensure_up(settings, PORT, nodes=3)
        if not (info.managed and info.started):
            raise AssertionError(
                f"a cluster already answers on 127.0.0.1:{PORT}; this test needs a fresh one"
            )
        yield info
    finally:
        broker.stop(settings, PORT, wipe=True)


# --- what the cluster holds ------------------------------------------------------------------------


async def describe(bootstrap: str, topics: Sequence[str]) -> dict[tuple[str, int], dict[str, Any]]:
    """Leader, replicas and ISR of every partition of ``topics``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        out = {}
        for t in await admin.describe_topics(list(topics)):
            assert t["error_code"] == 0, f"describing {t['topic']}: error {t['error_code']}"
            for p in t["partitions"]:
                out[(t["topic"], p["partition"])] = p
        return out
    finally:
        await admin.close()


async def replication_problems(bootstrap: str, declared: set[str]) -> list[str]:
    """Every topic in the cluster is declared (or Kafka's offsets topic), has 3 replicas on 3 nodes
    and min.insync.replicas 2: an undeclared topic was auto-created behind the topology's back."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(await admin.list_topics())
        described = await admin.describe_topics(names)
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    min_isr = {
        name: {e[0]: e[1] for e in entries}.get("min.insync.replicas")
        for response in responses
        for _error, _message, _type, name, entries in response.resources
    }
    problems = [f"{n}: not declared by the topology" for n in names if n not in declared | {OFFSETS_TOPIC}]
    problems += [f"{n}: declared but missing" for n in sorted(declared - set(names))]
    for t in described:
        rfs = {len(p["replicas"]) for p in t["partitions"]}
        if rfs != {3}:
            problems.append(f"{t['topic']}: replication factor {sorted(rfs)}, not 3")
        if min_isr.get(t["topic"]) != "2":
            problems.append(f"{t['topic']}: min.insync.replicas {min_isr.get(t['topic'])}, not 2")
    return problems


async def settled_replication_problems(
    bootstrap: str, declared: set[str], timeout: float = 30.0
) -> list[str]:
    """:func:`replication_problems` once every node's metadata has caught up with new topics."""
    began = time.monotonic()
    while True:
        problems = await replication_problems(bootstrap, declared)
        if not problems or time.monotonic() - began > timeout:
            return problems
        await asyncio.sleep(1.0)


async def wait_in_sync(bootstrap: str, topics: Sequence[str], timeout: float = 90.0) -> float:
    """Wait until every partition of ``topics`` has all three replicas in sync; the seconds it took."""
    began = time.monotonic()
    while True:
        parts = await describe(bootstrap, topics)
        behind = {tp: p["isr"] for tp, p in parts.items() if len(p["isr"]) < 3}
        if not behind:
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"partitions still out of sync after {timeout:.0f}s: {behind}")
        await asyncio.sleep(0.5)


async def unacknowledged_or_changed(
    bootstrap: str, sent: Sequence[Sent], placed: Sequence[Placed]
) -> list[str]:
    """Read every input partition back: each acknowledged record must be at its offset, bytes equal."""
    want = {(p.topic, p.partition, p.offset): s for s, p in zip(sent, placed, strict=True)}
    tps = sorted({TopicPartition(t, p) for t, p, _ in want})
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="acked-check"
    )
    await consumer.start()
    found: dict[tuple[str, int, int], tuple[bytes | None, bytes | None]] = {}
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    found[(tp.topic, tp.partition, r.offset)] = (r.key, r.value)
    finally:
        await consumer.stop()
    problems = [
        f"acknowledged at {t}[{p}]@{o} but not there: {s.note}"
        for (t, p, o), s in want.items()
        if found.get((t, p, o)) != (s.key, s.value)
    ]
    extra = len(found) - len(want)
    if extra:
        problems.append(
            f"{extra} records on the input topics beyond those acknowledged (a producer retry doubled?)"
        )
    return problems


# --- the nemesis and what the worker saw -------------------------------------------------------------


@dataclass
class Watch:
    """The worker's /health sampled every 0.25 s, and the nemesis's log, on one clock."""

    began: float = field(default_factory=time.monotonic)
    published: int = 0
    samples: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.began

    def note(self, text: str) -> None:
        self.log.append(f"{self.now():6.1f}s  {text}")

    async def sample(self, worker: Worker) -> None:
        while True:
            status, body = await worker.aget("/health")
            if isinstance(body, str):  # a 503 carries the same JSON
                try:
                    body = json.loads(body)
                except ValueError:
                    body = None
            if isinstance(body, dict):
                self.samples.append((self.now(), body))
            await asyncio.sleep(0.25)

    def latest(self) -> dict[str, Any]:
        return self.samples[-1][1] if self.samples else {}

    def resumed(self, since: float, key: str, start: int) -> float | None:
        """Seconds after ``since`` until next_offsets[key] went past ``start`` (None: never)."""
        for t, body in self.samples:
            if t >= since and body.get("next_offsets", {}).get(key, -1) > start:
                return t - since
        return None

    def longest_stall(self, since: float, until: float) -> float:
        """Longest time within [since, until] that the worker's applied_records did not grow."""
        longest, last_t, last_n = 0.0, since, None
        for t, body in self.samples:
            if t < since or t > until:
                continue
            n = body.get("applied_records")
            if n != last_n:
                last_t, last_n = t, n
            longest = max(longest, t - last_t)
        return longest


async def kill_and_restore(
    watch: Watch, settings: HubSettings, info: BrokerInfo, node: int, why: str, down: float, led: list[str]
) -> None:
    """SIGKILL ``node``, keep it down ``down`` seconds, bring it back, wait until every replica is in
    sync; note how long the worker took to move each partition the node led."""
    before = watch.latest()
    offsets = dict(before.get("next_offsets", {}))
    in_flight = watch.published - int(before.get("ingested_records", 0))
    unapplied = watch.published - int(before.get("applied_records", 0))
    pid = await asyncio.to_thread(broker.kill_node, settings, PORT, node)
    killed_at = watch.now()
    watch.note(f"SIGKILL node {node} (pid {pid}, {why}); {in_flight} published records not yet ingested")
    await asyncio.sleep(down)
    up = await asyncio.to_thread(broker.ensure_up, settings, PORT, nodes=3)
    watch.note(f"node {node} started again after {down:.1f}s down (back={up.started})")
    synced = await wait_in_sync(info.bootstrap, await all_topics(info.bootstrap))
    watch.note(f"every replica in sync {synced:.1f}s later")
    moves = {}
    for key in sorted(offsets):
        topic, _, partition = key.rpartition("[")
        if f"{topic}[{partition}" in led:
            moves[key] = watch.resumed(killed_at, key, offsets[key])
    stall = watch.longest_stall(killed_at, watch.now())
    shown = ", ".join(f"{k} {'never' if v is None else f'{v:.1f}s'}" for k, v in moves.items())
    watch.figures.append(
        f"node {node} ({why}) SIGKILLed at {killed_at:.0f}s, down {down:.1f}s; in flight: {in_flight} "
        f"published not ingested, {unapplied} not applied; the worker resumed the partitions it led: "
        f"{shown or 'none read by stage one'}; longest stall of stage one {stall:.1f}s"
    )


async def all_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


def most_led(parts: dict[tuple[str, int], dict[str, Any]]) -> tuple[int, list[str]]:
    """The node leading the most canonical and changelog partitions (ties: canonical[0]'s leader)."""
    counts = Counter(int(p["leader"]) for p in parts.values())
    top = max(counts.values())
    first = int(parts[(CANONICAL, 0)]["leader"])
    node = first if counts[first] == top else min(n for n, c in counts.items() if c == top)
    return node, sorted(f"{t}[{p}]" for (t, p), v in parts.items() if int(v["leader"]) == node)


# --- the test -----------------------------------------------------------------------------------------


async def test_leader_and_controller_loss_lose_nothing(
    cluster: BrokerInfo, cluster_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    n = len(sent)
    first_at, hold_at = int(n * FIRST_FAULT_AT), int(n * HOLD_AT)
    print(f"\nseed {SEED}: {summary(sent)} at {RATE:.0f}/s; first fault before record {first_at}")
    settings = HubSettings(state_dir=cluster_dir)
    hub = cluster.hub_settings()
    topology = checked_topology(hub)
    declared = {s.name for s in hub_topic_specs(topology)}
    declared |= {s.name for m in MEMBERS for s in member_topic_specs(topology, m)}

    await create_topics(hub, MEMBERS)
    problems = await settled_replication_problems(cluster.bootstrap, declared)
    assert not problems, "the hub's topics are not RF 3 / min.insync.replicas 2:\n" + "\n".join(problems)

    worker = Worker(cluster.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV)
    worker.start()
    watch = Watch()
    reached_first = asyncio.Event()
    nemesis_done = asyncio.Event()

    async def before(i: int) -> None:
        watch.published = i
        if i == first_at:
            reached_first.set()
        if i == hold_at and not nemesis_done.is_set():
            watch.note(f"publishing holds at record {i} until both nodes are back")
            await nemesis_done.wait()
            watch.note("publishing goes on")

    async def nemesis() -> None:
        try:
            await reached_first.wait()
            parts = await describe(cluster.bootstrap, [CANONICAL, *CHANGELOGS])
            victim, led = most_led(parts)
            await kill_and_restore(
                watch, settings, cluster, victim, "leader of " + ", ".join(led), rng.uniform(2.0, 5.0), led
            )
            controller = await asyncio.to_thread(broker.quorum_leader, settings, PORT)
            parts = await describe(cluster.bootstrap, await all_topics(cluster.bootstrap))
            led = sorted(f"{t}[{p}]" for (t, p), v in parts.items() if int(v["leader"]) == controller)
            await kill_and_restore(
                watch, settings, cluster, controller, "active controller", rng.uniform(2.0, 5.0), led
            )
            after = await asyncio.to_thread(broker.quorum_leader, settings, PORT)
            watch.note(f"the metadata quorum is led by node {after} now")
            # a Raft leader that is killed does not get its leadership back by returning
            assert after != controller, f"node {controller} still leads the quorum: was it the controller?"
        finally:
            nemesis_done.set()

    try:
        await worker.wait_ready()
        assert worker.proc is not None
        pid = worker.proc.pid
        sampler = asyncio.create_task(watch.sample(worker))
        chaos = asyncio.create_task(nemesis())
        placed = await publish(cluster.bootstrap, sent, rate=RATE, before=before)
        watch.note(f"all {n} records acknowledged")
        await chaos  # raises what the nemesis raised
        await wait_for_quiet(worker, received_by_member(sent), timeout=120)
        watch.note("member-activity balances")
        sampler.cancel()
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        topic_diffs = await wait_for_view_topics(hub, expected, timeout=30)
        dead = await read_dlqs(hub, MEMBERS)
        acked = await unacknowledged_or_changed(cluster.bootstrap, sent, placed)
        problems = await settled_replication_problems(cluster.bootstrap, declared)
        same_process = worker.alive() and worker.proc.pid == pid and worker.starts == 1
        watch.note("checked")
    finally:
        worker.stop()
        print("\n".join(watch.log))
        print("\n".join(watch.figures))

    assert len(watch.figures) == 2, "both faults must have struck"
    assert same_process, f"the worker did not ride out the node losses in one process:\n{worker.tail()}"
    assert not acked, "acknowledged records lost or changed:\n" + "\n".join(acked[:30])
    report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, "views differ from the oracle after the node losses:\n" + "\n".join(report)
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    letters = check_dead_letters(sent, placed, dead, exactly_once=False)
    assert not letters, f"dead letters wrong ({len(dead)} read back):\n" + "\n".join(letters[:30])
    assert not problems, "after the faults, topics are not RF 3 / min ISR 2:\n" + "\n".join(problems)
