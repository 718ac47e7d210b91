"""Supplier alerts on the real broker: a status change into distress reaches every exposed member.

A seeded stream (test_oracle's generator) is taken in; then the national supplier-status feed
says three shared suppliers change status. The alerts read back from every member's alert topic
and the national one must be exactly those the oracle expects (tests/oracle.py,
``expected_alerts``): one per exposed member and one national per change into distress, none for
a first ``active``, a repeat or a duplicate, and the same ``alert_id`` again if a replay sends
one twice; the whole feed resent (a producer that lost its place) writes no alert at all. The
worker is SIGKILLed just after one status change is published, before its alerts can have left,
and restarted.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from adapters.topic_read import read_to_end
from deploy.broker import BrokerInfo
from schemas.status import PUBLISHER, SupplierStatusEvent, encode_status, event_id_for
from tests import ports
from tests.hub_run import (
    BLUELIGHT,
    Worker,
    create_topics,
    fresh_broker,
    publish,
    wait_for_quiet,
    wait_for_views,
)
from tests.oracle import Categories, expected_alerts, expected_views, received_by_member, replay
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate
from topologies.naming import NATIONAL_ALERTS, SUPPLIER_STATUS, alert_topic, ref_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SEED = 1103
PLAN = Plan(members=DEFAULT_MEMBERS, orders=120, contracts=40, suppliers=12, invalid_per_member=4)
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def alerts_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path_factory.mktemp("alerts-broker"), ports.ALERTS) as info:
        yield info


def status(key: str, name: str, version: int, word: str) -> SupplierStatusEvent:
    """Version ``version`` of a supplier's registered status (the feed's timepoint)."""
    at = T0 + timedelta(hours=version)
    return SupplierStatusEvent(
        event_id=event_id_for(key, version),
        member_id=PUBLISHER,
        source_system="companies-house",
        entity_id=key,
        entity_version=version,
        occurred_at=at,
        published_at=at,
        supplier_key=key,
        name=name,
        status=word,
        status_at=at,
        source="companies-house",
    )


async def send_statuses(bootstrap: str, events: list[SupplierStatusEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                ref_topic(SUPPLIER_STATUS), encode_status(e), key=e.supplier_key.encode()
            )
    finally:
        await producer.stop()


async def alert_records(info: BrokerInfo) -> int:
    """How many records the alert topics hold (raw: a replay's repeats included)."""
    topics = [NATIONAL_ALERTS, *(alert_topic(m) for m in PLAN.members)]
    kafka = info.hub_settings().kafka
    return sum([len(await read_to_end(kafka, t, "test-alert-count")) for t in topics])


def change(e: SupplierStatusEvent, previous: str) -> dict[str, Any]:
    """The status fields of the alerts a change makes."""
    return {
        "supplier_key": e.supplier_key,
        "name": e.name,
        "status": e.status,
        "previous_status": previous or None,
        "status_at": e.status_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def read_alerts(info: BrokerInfo, topic: str) -> list[dict[str, Any]]:
    """Every alert on a topic, as ``bluelight alerts`` prints them (one per alert_id)."""
    env = {**os.environ, "BLUELIGHT_BOOTSTRAP": info.bootstrap}
    args = ["--national"] if topic == NATIONAL_ALERTS else ["--member", topic.split(".")[2]]
    done = subprocess.run(
        [BLUELIGHT, "alerts", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def test_alerts_reach_the_exposed_members_once_even_after_a_sigkill(
    alerts_broker: BrokerInfo, tmp_path: Path
) -> None:
    sent = generate(SEED, PLAN)
    received = received_by_member(sent)
    cats = Categories()
    states = replay(sent).states
    exposure = expected_views(sent, cats, PLAN.as_of)["supplier-exposure"]["items"]
    shared = sorted(
        (i for i in exposure if len(i["members"]) >= 2), key=lambda i: (-len(i["members"]), i["supplier_key"])
    )
    assert len(shared) >= 3, "the seed must give three suppliers used by several members"
    a, b, c = shared[:3]

    await create_topics(alerts_broker.hub_settings(), PLAN.members)
    worker = Worker(alerts_broker.bootstrap, tmp_path / "state", tmp_path / "worker.log", env=WORKER_ENV)
    worker.start()
    try:
        await worker.wait_ready()
        await publish(alerts_broker.bootstrap, sent)
        await wait_for_quiet(worker, received, timeout=180)
        # the alerts carry the exposure "at that moment": let every view settle first (the category
        # join's standings follow the orders by one more hop)
        diffs = await wait_for_views(worker, expected_views(sent, cats, PLAN.as_of), PLAN.as_of, timeout=90)
        assert not diffs, diffs

        # a: first heard of as active (nothing), then in administration (alerts)
        a1, a2 = (
            status(a["supplier_key"], a["name"], 1, "active"),
            status(a["supplier_key"], a["name"], 2, "administration"),
        )
        await send_statuses(alerts_broker.bootstrap, [a1, a2])
        # b: straight into liquidation; the worker is killed at once, before the alerts can leave
        b1 = status(b["supplier_key"], b["name"], 5, "liquidation")
        await send_statuses(alerts_broker.bootstrap, [b1])
        worker.kill()
        worker.start()
        await worker.wait_ready()
        # a again: a repeat (v3) and a duplicate of v2 send nothing; liquidation (v4) is news
        a3 = status(a["supplier_key"], a["name"], 3, "administration")
        a4 = status(a["supplier_key"], a["name"], 4, "liquidation")
        # c: leaves distress (nothing), after entering it (alerts)
        c1, c2 = (
            status(c["supplier_key"], c["name"], 7, "receivership"),
            status(c["supplier_key"], c["name"], 8, "active"),
        )
        await send_statuses(alerts_broker.bootstrap, [a3, a2, a4, c1, c2])

        want = [
            *expected_alerts(states, cats, change(a2, "active")),
            *expected_alerts(states, cats, change(b1, "")),
            *expected_alerts(states, cats, change(a4, "administration")),
            *expected_alerts(states, cats, change(c1, "")),
        ]
        national_wanted = sum(1 for w in want if w["member_id"] is None)
        began = time.monotonic()
        while time.monotonic() - began < 90:
            st, body = await worker.aget("/alerts")
            if st == 200 and body["count"] >= national_wanted:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(5)  # time for anything unexpected to show too
        st, served = await worker.aget("/alerts")
        # the feed resent whole by a producer that lost its place (reliability row "resend by a
        # new producer"): every version is a duplicate, so not one more alert record is written
        before = await alert_records(alerts_broker)
        await send_statuses(alerts_broker.bootstrap, [a1, a2, b1, a3, a4, c1, c2])
        await asyncio.sleep(8)
        after = await alert_records(alerts_broker)
    finally:
        worker.stop()
    assert after == before, f"a resent feed wrote alerts: {before} -> {after}"

    members = sorted({w["member_id"] for w in want if w["member_id"] is not None})
    got = [alert for m in members for alert in read_alerts(alerts_broker, alert_topic(m))]
    got += read_alerts(alerts_broker, NATIONAL_ALERTS)
    ids = [g.pop("alert_id") for g in got]
    assert len(ids) == len(set(ids)), "each alert is listed once per id"

    def by_reader(alerts: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(x["supplier_key"], x["status"], x["member_id"] or "national"): x for x in alerts}

    mine, theirs = by_reader(got), by_reader(want)
    problems = [f"missing {k}" for k in sorted(set(theirs) - set(mine))]
    problems += [f"unexpected {k}" for k in sorted(set(mine) - set(theirs))]
    for k in sorted(set(mine) & set(theirs)):
        problems += [
            f"{k} {f}: expected {theirs[k].get(f)!r}, got {mine[k].get(f)!r}"
            for f in sorted(set(mine[k]) | set(theirs[k]))
            if mine[k].get(f) != theirs[k].get(f)
        ]
    assert len(got) == len(want) and not problems, "\n".join(problems)[:6000]
    assert st == 200 and served["count"] == national_wanted
    assert {x["supplier_key"] for x in served["alerts"]} == {
        a["supplier_key"],
        b["supplier_key"],
        c["supplier_key"],
    }


def test_the_same_change_gives_the_same_alert_id() -> None:
    from streams.alerts import StatusPart, alert_id

    part = StatusPart("Acme", "administration", T0, "active")
    assert alert_id("CH:00000001", part, "kent-police") == alert_id("CH:00000001", part, "kent-police")
    assert alert_id("CH:00000001", part, "kent-police") != alert_id("CH:00000001", part, "essex-police")
    assert alert_id("CH:00000001", part, None) != alert_id("CH:00000001", part, "kent-police")
    later = StatusPart("Acme", "administration", T0 + timedelta(days=1), "active")
    assert alert_id("CH:00000001", part, None) != alert_id("CH:00000001", later, None)
