"""`bluelight demo --exit`, run twice as a user would, against a broker of its own.

The demo starts that broker itself (port 9892, state under tmp_path) so it never touches the
shared 9092 broker or the team's workers; the test stops it at the end. The checks read
Kafka directly, not through the demo's code: the view topics must hold the views, and the
member-activity topic must account for every event the generator produced.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bluelight.settings import HubSettings, load_settings
from demo.synthetic import MEMBERS, expected_activity, generate
from deploy import broker
from schemas.serde import decode_record
from tests import ports
from topologies.admin import connect
from topologies.naming import VIEWS, view_topic

PORT = ports.DEMO  # the demo's own broker (9092 is shared, 9392 secure, 9492/9692 other tests)
SEED, SCALE, TODAY = 11, 0.1, date(2026, 3, 31)
BLUELIGHT = str(Path(sys.executable).with_name("bluelight"))
HEADINGS = (
    "Category spend",
    "Supplier exposure",
    f"Contract pipeline (as of {TODAY.isoformat()})",
    "Price benchmark",
    "Member activity",
    "SME and VCSE share (supplier-diversity)",
    "Contract and framework coverage (contract-coverage)",
    "Supplier alerts",
    "Where to look next",
)
BALANCED = re.compile(
    r"Balanced: all 55 partners, received ([\d,]+) = accepted ([\d,]+) "
    r"\+ duplicates ([\d,]+) \+ rejected ([\d,]+)"
)

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], HubSettings]]:
    state = tmp_path / "state"
    http = f"127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUELIGHT_")}
    env.update(
        BLUELIGHT_STATE_DIR=str(state),
        BLUELIGHT_BOOTSTRAP=f"127.0.0.1:{PORT}",
        BLUELIGHT_HTTP=http,
    )
    settings = load_settings(state_dir=state, bootstrap=f"127.0.0.1:{PORT}", http=http)
    try:
        yield env, settings
    finally:
        broker.stop(settings, PORT, wipe=True)


def _demo(env: dict[str, str]) -> str:
    args = ["demo", "--exit", "--seed", str(SEED), "--scale", str(SCALE), "--today", TODAY.isoformat()]
    done = subprocess.run([BLUELIGHT, *args], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _section(out: str, title: str) -> str:
    start = out.index(title)
    end = out.find("\n\n", out.index("\n", start) + 1)
    return out[start:end]


async def _latest_records(settings: HubSettings, topic: str) -> dict[bytes, bytes | None]:
    # partitions from the admin: a consumer's topics() does not fill what partitions_for_topic reads
    async with connect(settings.kafka) as admin:
        found = await admin.topics([topic], configs=False)
    assert topic in found, f"{topic} does not exist"
    tps = [TopicPartition(topic, p) for p in range(found[topic].partitions)]
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **settings.kafka.to_aiokafka_kwargs())
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        latest: dict[bytes, bytes | None] = {}
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            for records in (await consumer.getmany(*pending, timeout_ms=1000)).values():
                for r in records:
                    assert r.key is not None
                    latest[r.key] = r.value
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return latest
    finally:
        await consumer.stop()


def test_demo_twice_shows_the_views_and_balances(demo_env: tuple[dict[str, str], HubSettings]) -> None:
    env, settings = demo_env
    events = generate(SEED, TODAY, SCALE)
    expected = expected_activity(events)
    sent = len(events)

    first = _demo(env)
    for title in HEADINGS:
        assert title in first, f"no {title!r} section in:\n{first}"
    match = BALANCED.search(first)
    assert match, f"no balanced member-activity line in:\n{_section(first, 'Member activity')}"
    received, accepted, duplicates, rejected = (int(g.replace(",", "")) for g in match.groups())
    assert received == sent == accepted + duplicates + rejected
    assert accepted == sum(e["accepted"] for e in expected.values())
    assert "As expected: for 55 partners" in first
    assert "worker: stopped" in first
    assert f"The overview page, in a browser: http://{settings.http}/" in first
    alerts = _section(first, "Supplier alerts")
    assert "went into administration" in alerts and "partner alerted" in alerts, alerts

    # The worker is gone: nothing answers on its address any more.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://{settings.http}/health", timeout=3)  # noqa: S310

    # The view topics hold the views; member-activity accounts for every event, per member.
    for view in VIEWS:
        latest = asyncio.run(_latest_records(settings, view_topic(view)))
        assert any(v is not None for v in latest.values()), f"{view_topic(view)} holds no items"
    activity = asyncio.run(_latest_records(settings, view_topic("member-activity")))
    by_member = {}
    for key, value in activity.items():
        assert value is not None
        record = decode_record(value).record
        by_member[key.decode()] = record
    # the national team's supplier statuses are not member traffic: the counts are the partners' own
    assert set(by_member) == {m.id for m in MEMBERS}
    for member, want in expected.items():
        got = by_member[member]
        assert (got["accepted"], got["duplicates"], got["rejected"]) == (
            want["accepted"],
            want["duplicates"],
            want["rejected"],
        ), member

    # A second run resends everything: only duplicates and the same rejections; the views stay.
    second = _demo(env)
    match = BALANCED.search(second)
    assert match, f"no balanced member-activity line in:\n{_section(second, 'Member activity')}"
    received, accepted_again, duplicates, rejected_again = (int(g.replace(",", "")) for g in match.groups())
    assert received == 2 * sent
    assert accepted_again == accepted
    assert rejected_again == 2 * rejected
    assert "As expected: for 55 partners" in second
    for title in HEADINGS[:4]:
        assert _section(second, title) == _section(first, title), f"{title} changed on a resend"
