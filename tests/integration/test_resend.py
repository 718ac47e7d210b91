"""Matrix row 6: an adapter that lost its checkpoint republishes everything, with a new producer.

Kafka's idempotent producer only dedupes the retries of one producer session: a new process gets
a new producer id, so every record of the resend is a new record to the broker and to the hub.
The hub must absorb it through its versioned state: the views stay as they were, no view topic
or alert topic gets a record, member-activity counts every valid resend as a duplicate, and each
rejected record is dead-lettered once more (it is a new record the sender sent again).

Two adapters resend: the oracle's seeded stream of every family (published again by a second
producer, which is what any adapter does after losing its place), and the real CSV adapter with
its checkpoint deleted.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import HubSettings
from deploy.broker import BrokerInfo
from tests import ports
from tests.hub_run import (
    Worker,
    check_dead_letters,
    create_topics,
    fresh_broker,
    publish,
    read_dlqs,
    served_views,
    wait_for_quiet,
    wait_for_views,
)
from tests.oracle import Categories, expected_views, received_by_member
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate
from topologies.admin import connect
from topologies.naming import ALERT_PREFIX, VIEW_PREFIX, view_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.RESEND
SEED = 6
PLAN = Plan(members=DEFAULT_MEMBERS, orders=80, contracts=25, suppliers=12, invalid_per_member=10)
ROOT = Path(__file__).parent.parent.parent
SPEND = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
CSV_MEMBER = "greater-london-csv"
CSV_ROWS = 317  # events in SPEND (test_csv_pipeline checks the adapter's reading of it)
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}


@pytest.fixture(scope="module")
def resend_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path_factory.mktemp("resend-broker"), PORT) as info:
        yield info


def run_csv(bootstrap: str, state: Path) -> None:
    """The real CSV adapter, publishing SPEND for CSV_MEMBER with its checkpoints in ``state``."""
    args = ["--bootstrap", bootstrap, "--state-dir", str(state), "adapter", "csv", "--member", CSV_MEMBER]
    result = CliRunner().invoke(cli, [*args, "--config", str(GLA_CONFIG), str(SPEND)])
    assert result.exit_code == 0, result.output
    assert f"{CSV_ROWS} events, 0 rejected" in result.stdout, result.stdout


async def end_offsets_of(settings: HubSettings, prefixes: tuple[str, ...]) -> dict[TopicPartition, int]:
    """The end offset of every partition of every topic whose name starts with one of ``prefixes``."""
    async with connect(settings.kafka) as admin:
        topics = await admin.topics(None, configs=False)
    tps = [
        TopicPartition(name, p)
        for name, t in topics.items()
        if name.startswith(prefixes)
        for p in range(t.partitions)
    ]
    assert tps, f"no topics start with {prefixes}: comparing their end offsets would prove nothing"
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **settings.kafka.to_aiokafka_kwargs())
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def after_resend(activity: dict[str, Any]) -> dict[str, Any]:
    """member-activity's items once everything was sent a second time: every valid record of the
    resend is a duplicate, every rejected one is rejected again, nothing more is accepted."""
    out = {}
    for item in activity["items"]:
        out[item["member_id"]] = {
            "accepted": item["accepted"],
            "duplicates": item["duplicates"] + item["accepted"] + item["duplicates"],
            "rejected": {kind: 2 * n for kind, n in item["rejected"].items()},
        }
    return out


def counts(activity: dict[str, Any]) -> dict[str, Any]:
    """member-activity's counts per member (its timestamps move with each record, resends included)."""
    return {
        i["member_id"]: {"accepted": i["accepted"], "duplicates": i["duplicates"], "rejected": i["rejected"]}
        for i in activity["items"]
    }


async def test_a_resend_of_everything_by_a_new_producer_changes_nothing(
    resend_broker: BrokerInfo, tmp_path: Path
) -> None:
    settings = resend_broker.hub_settings()
    sent = generate(SEED, PLAN)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    members = (*DEFAULT_MEMBERS, CSV_MEMBER)
    await create_topics(settings, members)
    worker = Worker(
        resend_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV
    )
    worker.start()
    try:
        await worker.wait_ready()
        first = await publish(resend_broker.bootstrap, sent)
        await wait_for_quiet(worker, received_by_member(sent), timeout=180)
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        assert not diffs, f"the first pass already differs from the oracle: {diffs}"

        adapter_state = tmp_path / "adapter-state"
        await asyncio.to_thread(run_csv, resend_broker.bootstrap, adapter_state)
        once = received_by_member(sent) | {CSV_MEMBER: CSV_ROWS}
        await wait_for_quiet(worker, once, timeout=120)
        await asyncio.sleep(5)  # the joins' 2 s ticks: every output of the first pass is out
        before = await served_views(worker, PLAN.as_of)
        offsets_before = await end_offsets_of(settings, (VIEW_PREFIX, ALERT_PREFIX))

        # the adapters lose their place: everything again, each from a new producer
        t0 = time.monotonic()
        second = await publish(resend_broker.bootstrap, sent)
        shutil.rmtree(adapter_state)
        await asyncio.to_thread(run_csv, resend_broker.bootstrap, adapter_state)
        await wait_for_quiet(worker, {m: 2 * n for m, n in once.items()}, timeout=180)
        resent_in = time.monotonic() - t0
        await asyncio.sleep(5)  # two more ticks, for any output the resend would (wrongly) cause
        after = await served_views(worker, PLAN.as_of)
        offsets_after = await end_offsets_of(settings, (VIEW_PREFIX, ALERT_PREFIX))
        dead = await read_dlqs(settings, DEFAULT_MEMBERS)
        assert worker.starts == 1 and worker.alive(), "the worker restarted during the resend"
    finally:
        worker.stop()
    print(f"\nresent {len(sent) + CSV_ROWS} records by new producers; absorbed in {resent_in:.1f}s")

    for view in before:
        if view != "member-activity":  # data_as_of says when the worker last took in a record: it moves
            was, now = (
                {k: v for k, v in b.items() if k != "data_as_of"} for b in (before[view], after[view])
            )
            assert now == was, f"{view} changed after the resend"
    assert counts(after["member-activity"]) == after_resend(before["member-activity"])

    activity = view_topic("member-activity")
    grew = {f"{tp.topic}[{tp.partition}]": (offsets_before[tp], n) for tp, n in offsets_after.items()}
    grew = {k: v for k, v in grew.items() if v[0] != v[1] and not k.startswith(activity)}
    assert not grew, f"the resend wrote to view or alert topics (before, after): {grew}"

    problems = check_dead_letters([*sent, *sent], [*first, *second], dead, exactly_once=True)
    assert not problems, "dead letters wrong after the resend:\n" + "\n".join(problems[:30])
