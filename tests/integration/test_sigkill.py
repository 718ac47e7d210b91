"""Killed with SIGKILL again and again while the stream is flowing, the worker still ends up exact.

Same set-up as test_oracle.py (a fresh broker of this module's own, the real worker in a
subprocess, a seeded messy stream), but the stream is published at a steady pace and the
worker is SIGKILLed at seeded random points (no shutdown, no final commit): four times while
records are being published (three of them just after it consumes again following the
previous crash), once more right after the last record, each time restarted after a seeded
pause. At-least-once delivery means records are read again after each crash; the versioned
state must make that exact: every view (HTTP and view topic) equals the oracle, every member
balances (received = sent), and every rejected record is in its member's DLQ (a crash may
dead-letter a record twice, which is allowed, but never lose one).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.broker import BrokerInfo
from tests import ports
from tests.hub_run import (
    Worker,
    activity_received,
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
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, join_cases, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.ORACLE
SEED = 606
MEMBERS = (*DEFAULT_MEMBERS, "london-fire")
PLAN = Plan(members=MEMBERS, orders=110, contracts=35, suppliers=15, invalid_per_member=16)
RATE = 120.0  # records per second while publishing
# faust's default group session timeout is 60 s: after a SIGKILL the restarted worker waits that
# long for its dead predecessor to leave the group. 10 s keeps five crashes inside the CI budget;
# correctness must not depend on it (it only decides how soon processing resumes).
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}


@pytest.fixture(scope="module")
def sigkill_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path_factory.mktemp("sigkill-broker"), PORT) as info:
        yield info


async def test_sigkill_during_the_stream_changes_nothing(sigkill_broker: BrokerInfo, tmp_path: Path) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    received = received_by_member(sent)
    cases = join_cases(sent)  # what the joined views must get right, in this very stream
    assert all(n > 0 for n in cases.values()), cases
    n = len(sent)
    # Four crashes while publishing, at a seeded point in each quarter of the stream, plus one
    # after the last record. "busy": as soon as the restarted worker consumes again, i.e. while
    # it drains what arrived during its downtime; "restarting": whatever it is doing, usually
    # still rejoining the groups and restoring its tables from the changelogs.
    kill_at = [rng.randrange(n * k // 4 + n // 25, n * (k + 1) // 4 - n // 25) for k in range(4)]
    modes = dict(zip(kill_at, rng.sample(["busy", "busy", "busy", "restarting"], 4), strict=True))
    print(f"\nseed {SEED}: {summary(sent)}; SIGKILL before records {modes} and after the last")

    await create_topics(sigkill_broker.hub_settings(), MEMBERS)
    worker = Worker(
        sigkill_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV
    )
    worker.start()
    kills: list[tuple[str, int | None]] = []

    seen = 0  # the most the worker was seen to have received

    async def total() -> int | None:
        status, body = await worker.aget("/views/member-activity")
        return sum(activity_received(body).values()) if status == 200 else None

    async def crash(where: str, mode: str, published: int) -> None:
        nonlocal seen
        before = seen  # restored views already show this much: only more proves it was processing
        if mode == "busy":  # wait until it consumes again (it serves its restored views before that)
            await worker.wait_ready()
            deadline = time.monotonic() + 120
            while ((await total()) or 0) <= seen and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(rng.uniform(0.0, 0.3))
        progress = await total()
        seen = max(seen, progress or 0)
        worker.kill()
        advance = None if progress is None else progress - before
        kills.append((f"{where} ({mode}): worker had received {progress} of {published} published", advance))
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        worker.start()

    async def nemesis(i: int) -> None:
        if i in modes:
            await crash(f"before record {i}", modes[i], i)

    try:
        await worker.wait_ready()
        t0 = time.monotonic()
        placed = await publish(sigkill_broker.bootstrap, sent, rate=RATE, before=nemesis)
        await crash("after the last record", "busy", n)
        await worker.wait_ready()
        await wait_for_quiet(worker, received, timeout=240)
        quiet = time.monotonic() - t0
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        topic_diffs = await wait_for_view_topics(sigkill_broker.hub_settings(), expected, timeout=30)
        dead = await read_dlqs(sigkill_broker.hub_settings(), MEMBERS)
    finally:
        worker.stop()
    print("\n".join(line for line, _ in kills))
    print(f"all received {quiet:.1f}s after publishing began; whole test {time.monotonic() - began:.1f}s")

    assert len(kills) == 5 and worker.starts == 6
    busy = [p for _, p in kills[:4] if p is not None and p > 0]
    assert len(busy) >= 3, f"fewer than three crashes hit a worker processing the stream: {kills}"
    report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, (
        f"views differ from the oracle after {len(kills)} SIGKILLs (seed {SEED}):\n" + "\n".join(report)
    )
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    problems = check_dead_letters(sent, placed, dead, exactly_once=False)
    assert not problems, f"dead letters wrong ({len(dead)} read back):\n" + "\n".join(problems[:30])
