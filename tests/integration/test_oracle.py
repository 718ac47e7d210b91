"""The worker's five views equal the oracle's recomputation of a seeded, messy stream.

A fresh broker of this module's own (the shared one holds everyone's data) and the real
``bluelight worker`` in a subprocess. A few thousand records go in: several police and fire
members, orders, contracts and supplier records with amendments, cancellations, versions out
of order, exact resends and invalid records of every rejection kind. When member-activity has
received everything, every view served over HTTP must equal tests/oracle.py's answer, each
member must balance, and each rejected record must sit in its own member's DLQ with the right
kind and its bytes unchanged.
"""

from __future__ import annotations

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
from tests.oracle import Categories, expected_views, received_by_member, replay
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, join_cases, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.ORACLE
SEED = 20261128
MEMBERS = (*DEFAULT_MEMBERS, "london-fire")  # london-fire: a LOCAL map, though not in members.yaml
PLAN = Plan(members=MEMBERS, orders=170, contracts=50, suppliers=20, invalid_per_member=20)


@pytest.fixture(scope="module")
def oracle_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path_factory.mktemp("oracle-broker"), PORT) as info:
        yield info


async def test_views_equal_the_oracle(oracle_broker: BrokerInfo, tmp_path: Path) -> None:
    began = time.monotonic()
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    received = received_by_member(sent)
    cases = join_cases(sent)  # what the joined views must get right, in this very stream
    assert all(n > 0 for n in cases.values()), cases
    print(f"\nseed {SEED}: {summary(sent)}")

    await create_topics(oracle_broker.hub_settings(), MEMBERS)
    worker = Worker(oracle_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log")
    worker.start()
    try:
        ready = await worker.wait_ready()
        t0 = time.monotonic()
        placed = await publish(oracle_broker.bootstrap, sent)
        published = time.monotonic() - t0
        await wait_for_quiet(worker, received, timeout=180)
        quiet = time.monotonic() - t0
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        topic_diffs = await wait_for_view_topics(oracle_broker.hub_settings(), expected, timeout=30)
        dead = await read_dlqs(oracle_broker.hub_settings(), MEMBERS)
    finally:
        worker.stop()
    print(
        f"worker ready {ready:.1f}s; published {len(sent)} in {published:.1f}s; "
        f"all received after {quiet:.1f}s; whole test {time.monotonic() - began:.1f}s"
    )

    report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, f"views differ from the oracle (seed {SEED}):\n" + "\n".join(report)

    acts = replay(sent).activity
    for member in MEMBERS:
        assert acts[member].received == received[member]  # the oracle itself balances

    assert not topic_diffs, "view topics differ from the oracle:\n" + "\n".join(topic_diffs[:30])
    problems = check_dead_letters(sent, placed, dead, exactly_once=True)
    assert not problems, f"dead letters wrong ({len(dead)} read back):\n" + "\n".join(problems[:30])
