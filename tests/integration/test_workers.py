"""Several workers on one cluster: kills, a wiped state dir, scaling up and down, and every
worker's answers (and the view topics) equal to the independent recomputation in tests/oracle.py.

Each test has a broker of its own; each worker its own state dir and HTTP port, as three
`bluelight worker` processes on three machines would. Records are published at a steady rate
while a seeded nemesis kills, wipes, stops and starts workers.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
from tests.oracle import Categories, expected_views, received_by_member
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.WORKERS
MEMBERS = (*DEFAULT_MEMBERS, "london-fire")
PLAN = Plan(members=MEMBERS, orders=90, contracts=30, suppliers=12, invalid_per_member=12)
RATE = 100.0  # records per second while publishing


@pytest.fixture()
def workers_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    """A broker of each test's own: the oracle must see only that test's records."""
    with fresh_broker(tmp_path_factory.mktemp("workers-broker"), PORT) as info:
        yield info


def make_workers(info: BrokerInfo, base: Path, n: int) -> list[Worker]:
    return [Worker(info.bootstrap, base / f"w{i}-state", base / f"w{i}.log") for i in range(n)]


async def check_every_worker(
    live: list[Worker], expected: dict[str, dict[str, object]], received: dict[str, int], plan: Plan
) -> None:
    """Each live worker has received everything and serves views equal to the oracle."""
    for w in live:
        await wait_for_quiet(w, received, timeout=240)
    for w in live:
        # the joined views settle after the counts: each join key's owner sends its whole output on
        # its next 2 s tick, and after the kills those owners are still folding (slow under load)
        diffs = await wait_for_views(w, expected, plan.as_of, timeout=90)  # type: ignore[arg-type]
        report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
        assert not diffs, f"worker {w.http} serves views that differ from the oracle:\n" + "\n".join(report)


async def test_three_workers_survive_kills_and_a_wiped_state_dir(
    workers_broker: BrokerInfo, tmp_path: Path
) -> None:
    """Five SIGKILLs of one of three workers and one wiped state dir while records flow."""
    seed = 9
    rng = random.Random(seed)
    sent = generate(seed, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    received = received_by_member(sent)
    n = len(sent)
    print(f"\nseed {seed}: {summary(sent)}")
    settings = workers_broker.hub_settings()
    await create_topics(settings, MEMBERS)
    workers = make_workers(workers_broker, tmp_path, 3)
    for w in workers:
        w.start()
    for w in workers:
        await w.wait_ready()

    # six faults at seeded points: five SIGKILLs (restarted 0-2 s later), then one worker killed
    # with its state dir wiped before it starts again
    points = sorted(rng.sample(range(n // 10, n * 9 // 10), 6))
    plan = {p: ("kill" if k < 5 else "wipe", rng.randrange(3)) for k, p in enumerate(points)}
    events: list[str] = []
    takeovers: list[asyncio.Task[tuple[float, list[int]]]] = []

    async def fault(i: int) -> None:
        if i not in plan:
            return
        what, victim = plan[i]
        w = workers[victim]
        w.kill()
        if what == "wipe":
            shutil.rmtree(w.state_dir)
        events.append(f"before record {i}: {what} worker {victim}")
        takeovers.append(asyncio.create_task(takeover(time.monotonic(), [o for o in workers if o is not w])))
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        w.start()

    async def takeover(since: float, others: list[Worker]) -> tuple[float, list[int]]:
        """Seconds from a fault until every contribution partition is folded by a live worker
        again, and what the survivors (the others that were serving when it struck) answered
        that was not a 200 meanwhile: they must answer throughout."""
        serving = [w for w in others if (await w.aget("/views/member-activity"))[0] == 200]
        survivors = {id(w): w.starts for w in serving}  # a later fault may take one of them down
        unanswered: list[int] = []
        while time.monotonic() - since < 180:
            owned: set[int] = set()
            for w in workers:
                status, body = await w.aget("/health")
                if status == 200 and isinstance(body, dict) and body.get("folded"):
                    owned |= set(body.get("owned_partitions", []))
            for w in serving:
                status, _ = await w.aget("/views/member-activity")
                if status != 200 and w.alive() and w.starts == survivors[id(w)]:
                    unanswered.append(status)
            if owned >= {0, 1, 2}:
                return time.monotonic() - since, unanswered
            await asyncio.sleep(0.5)
        return float("inf"), unanswered

    try:
        placed = await publish(workers_broker.bootstrap, sent, rate=RATE, before=fault)
        taken = list(await asyncio.gather(*takeovers))
        await check_every_worker(workers, expected, received, PLAN)
        topic_diffs = await wait_for_view_topics(settings, expected, timeout=30)
        dead = await read_dlqs(settings, MEMBERS)
    finally:
        for w in workers:
            w.stop()
    print("\n".join(events))
    print("every partition folded again after each fault: " + ", ".join(f"{t:.1f}s" for t, _ in taken))
    assert len(events) == 6 and sum(w.starts for w in workers) == 3 + 6
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    problems = check_dead_letters(sent, placed, dead, exactly_once=False)
    assert not problems, "dead letters wrong:\n" + "\n".join(problems[:30])
    assert not any(u for _, u in taken), f"a surviving worker did not answer the views: {taken}"
    # the group notices a dead worker within its 10 s session; the rest is the rebalance and a
    # restore, which a loaded CI machine stretches: a minute means something is wrong
    assert all(t < 60 for t, _ in taken), f"partitions without a live worker for a minute or more: {taken}"


async def test_scaling_from_one_to_three_workers_and_back(workers_broker: BrokerInfo, tmp_path: Path) -> None:
    """One worker, then three, then one again (the first two stopped cleanly) while records flow."""
    seed = 21
    sent = generate(seed, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    received = received_by_member(sent)
    n = len(sent)
    settings = workers_broker.hub_settings()
    await create_topics(settings, MEMBERS)
    first, *more = make_workers(workers_broker, tmp_path, 3)
    first.start()
    await first.wait_ready()
    steps = {n // 4: "up", n * 3 // 5: "down"}
    log: list[str] = []
    owned: list[list[int]] = []

    async def folds(w: Worker) -> list[int]:
        status, body = await w.aget("/health")
        return body.get("owned_partitions", []) if status == 200 and isinstance(body, dict) else []

    async def scale(i: int) -> None:
        if steps.get(i) == "up":
            for w in more:
                w.start()
            began = time.monotonic()
            while not all([await folds(w) for w in more]) and time.monotonic() - began < 120:
                await asyncio.sleep(0.5)  # the stream waits until the group has shared the work out
            shared = time.monotonic() - began
            log.append(f"before record {i}: started two more workers ({shared:.1f}s until each folds)")
        elif steps.get(i) == "down":
            for w in more:
                owned.append(await folds(w))
                w.stop()
            log.append(f"before record {i}: stopped them again (they folded partitions {owned})")

    try:
        await publish(workers_broker.bootstrap, sent, rate=RATE, before=scale)
        await check_every_worker([first], expected, received, PLAN)
        topic_diffs = await wait_for_view_topics(settings, expected, timeout=30)
    finally:
        for w in (first, *more):
            w.stop()
    print("\n" + "\n".join(log))
    assert len(log) == 2
    assert all(owned), f"an extra worker never folded a partition of the views: {owned}"
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
