"""The broker killed with SIGKILL and restarted while the stream flows: the views still come out exact.

Matrix row T8 (notes/reliability-matrix.md): a single-node broker dies without a controlled
shutdown, twice, while records are published at a steady rate and the worker processes them;
each time it is restarted on the same data after a seeded pause. The producer, ingest, faust
and the view publisher all lose their connections at once. Nothing may be lost or counted
twice: every view (HTTP and view topic) equals the oracle, every member balances, and every
rejected record is in its member's DLQ (at least once: a batch retried after the outage may
dead-letter a record again).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluelight.settings import load_settings
from deploy import broker
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

PORT = ports.BOUNCE
SEED = 8
MEMBERS = DEFAULT_MEMBERS
PLAN = Plan(members=MEMBERS, orders=80, contracts=25, suppliers=10, invalid_per_member=12)
RATE = 120.0
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}


@pytest.fixture(scope="module")
def bounce_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bounce-broker")


@pytest.fixture(scope="module")
def bounce_broker(bounce_dir: Path) -> Iterator[BrokerInfo]:
    with fresh_broker(bounce_dir, PORT) as info:
        yield info


async def test_broker_sigkill_and_restart_changes_nothing(
    bounce_broker: BrokerInfo, bounce_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    n = len(sent)
    bounce_at = {rng.randrange(n * k // 3, n * (k + 1) // 3) for k in (1, 2)}
    print(f"\nseed {SEED}: {summary(sent)}; broker SIGKILLed before records {sorted(bounce_at)}")
    settings = load_settings(state_dir=bounce_dir)

    await create_topics(bounce_broker.hub_settings(), MEMBERS)
    worker = Worker(
        bounce_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV
    )
    worker.start()
    bounces: list[str] = []

    async def nemesis(i: int) -> None:
        if i not in bounce_at:
            return
        pid = broker.kill_node(settings, PORT, bounce_broker.nodes[0].node_id)
        down = rng.uniform(1.0, 4.0)
        # the test's producer stops too (its sends wait in its buffer); the worker, a process of
        # its own, goes on without a broker until it is back
        time.sleep(down)
        info = broker.ensure_up(settings, PORT)
        bounces.append(f"before record {i}: broker {pid} SIGKILLed, down {down:.1f}s, back={info.started}")

    try:
        await worker.wait_ready()
        placed = await publish(bounce_broker.bootstrap, sent, rate=RATE, before=nemesis)
        await wait_for_quiet(worker, received_by_member(sent), timeout=240)
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        topic_diffs = await wait_for_view_topics(bounce_broker.hub_settings(), expected, timeout=30)
        dead = await read_dlqs(bounce_broker.hub_settings(), MEMBERS)
        alive = worker.proc is not None and worker.proc.poll() is None
    finally:
        worker.stop()
    print("\n".join(bounces))

    assert len(bounces) == 2
    assert alive and worker.starts == 1, "the worker did not ride out the broker's restarts"
    report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, "views differ from the oracle after broker restarts:\n" + "\n".join(report)
    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    problems = check_dead_letters(sent, placed, dead, exactly_once=False)
    assert not problems, f"dead letters wrong ({len(dead)} read back):\n" + "\n".join(problems[:30])
