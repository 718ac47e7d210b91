"""Test sessions share brokers: the last one out stops what a session started, never a `kafka up` broker."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bluelight.settings import HubSettings, load_settings
from deploy import broker, process
from tests import ports

pytestmark = pytest.mark.kafka

PORT = ports.DEPLOY  # a deploy-test port; this test's own state dir


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[HubSettings]:
    settings = load_settings(state_dir=tmp_path / "state")
    yield settings
    broker.stop(settings, PORT, wipe=True)


def running(settings: HubSettings) -> bool:
    return broker.status(settings, PORT).healthy


def test_last_session_out_stops_a_session_started_broker(settings: HubSettings) -> None:
    other_session = subprocess.Popen(["sleep", "300"])  # stands in for another pytest process
    try:
        with broker.borrowed(settings, PORT) as first:
            assert first.started and first.temporary
            lease = first.root / "leases" / f"{other_session.pid}-{process.start_time(other_session.pid)}-x"
            lease.touch()
        assert running(settings), "stopped while another session still held a lease"

        other_session.kill()
        other_session.wait()
        with broker.borrowed(settings, PORT) as second:
            assert second.started  # nobody alive held it: started afresh, not reused
        assert not running(settings), "the last session out should have stopped it"
        assert not lease.exists()  # a dead session's lease is cleared
    finally:
        other_session.kill()


def test_sessions_never_stop_a_broker_kafka_up_started(settings: HubSettings) -> None:
    started = broker.ensure_up(settings, PORT)  # what `bluelight kafka up` calls
    assert not started.temporary
    with broker.borrowed(settings, PORT) as borrowed:
        assert not borrowed.started
    assert running(settings)


def test_the_last_session_out_wipes_a_session_started_broker(settings: HubSettings) -> None:
    """Each run starts from an empty broker: no topics, groups or offsets left by the last one."""
    topic = "test.left.behind"
    with broker.borrowed(settings, PORT) as first:
        asyncio.run(_create(first.bootstrap, topic))
        assert topic in asyncio.run(_topics(first.bootstrap))  # the check below can see it
    with broker.borrowed(settings, PORT) as second:
        assert second.started
        assert topic not in asyncio.run(_topics(second.bootstrap))


@pytest.mark.parametrize("broker_killed_too", [False, True])
def test_a_killed_sessions_broker_is_wiped_by_the_next(
    settings: HubSettings, broker_killed_too: bool
) -> None:
    """A CI run killed midway leaves its broker's data (and maybe the broker): the next starts clean."""
    topic = "test.left.by.a.killed.session"
    killed_session = subprocess.Popen(["sleep", "300"])  # stands in for the killed pytest process
    left = broker.ensure_up(settings, PORT, temporary=True)  # what its borrow started
    lease = left.root / "leases" / f"{killed_session.pid}-{process.start_time(killed_session.pid)}-x"
    lease.parent.mkdir(parents=True, exist_ok=True)
    lease.touch()
    asyncio.run(_create(left.bootstrap, topic))
    killed_session.kill()
    killed_session.wait()
    if broker_killed_too:
        broker.kill_node(settings, PORT, 1)

    with broker.borrowed(settings, PORT) as next_session:
        assert next_session.started
        assert topic not in asyncio.run(_topics(next_session.bootstrap))


async def _create(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, replication_factor=1)])
    finally:
        await admin.close()


async def _topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()
