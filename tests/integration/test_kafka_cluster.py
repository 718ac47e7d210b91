"""Three nodes (`kafka up --nodes 3`): an RF-3, min-ISR-2 topic loses nothing when a node is killed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import HubSettings
from deploy import broker
from deploy.broker import BrokerInfo
from tests import ports

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# A free block of ports (nodes on the port, +100, +200; controllers on +1) and a state dir of the
# test's own: the cluster is killed and wiped at the end, so it must never be one a developer
# runs (docs/kafka.md suggests `kafka up --nodes 3` on the default state dir and port 9592).


@pytest.fixture
def port() -> int:
    """Picked when the test starts, not at collection: a block free at collection time can be
    taken by the time this test runs, minutes later."""
    return ports.free_block()


@pytest.fixture
def settings(tmp_path: Path) -> HubSettings:
    return HubSettings(state_dir=tmp_path / "state")


@pytest.fixture
def cluster(settings: HubSettings, port: int) -> Iterator[BrokerInfo]:
    """This test's own cluster: started here, always taken down (and wiped: next run starts fresh) after."""
    try:
        info = broker.ensure_up(settings, port, nodes=3)
    except Exception as exc:  # DeployError carries the log tails
        pytest.fail(f"the 3-node cluster did not start: {exc}", pytrace=False)
    try:
        yield info
    finally:
        broker.stop(settings, port, wipe=True)


async def produce(producer: AIOKafkaProducer, topic: str, keys: range) -> None:
    futures = [await producer.send(topic, f"v{i}".encode(), key=f"k{i}".encode()) for i in keys]
    await asyncio.gather(*futures)  # acks=all: each one is on at least min.insync.replicas nodes


async def partitions(admin: AIOKafkaAdminClient, topic: str) -> list[dict[str, object]]:
    for _ in range(50):  # metadata of a new topic reaches every broker a moment after creation
        (described,) = await admin.describe_topics([topic])
        if described["error_code"] == 0 and described["partitions"]:
            return list(described["partitions"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"{topic} never appeared in the metadata")


async def test_a_killed_node_loses_no_acknowledged_record(
    settings: HubSettings, port: int, cluster: BrokerInfo
) -> None:
    assert cluster.bootstrap == f"127.0.0.1:{port},127.0.0.1:{port + 100},127.0.0.1:{port + 200}"
    assert [n.port for n in cluster.nodes] == [port, port + 100, port + 200]
    topic = f"test.kafka.cluster.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        min_isr_2 = {"min.insync.replicas": "2"}
        await admin.create_topics([NewTopic(topic, 3, replication_factor=3, topic_configs=min_isr_2)])
        parts = await partitions(admin, topic)
        assert all(sorted(p["replicas"]) == [1, 2, 3] for p in parts)
        await produce(producer, topic, range(0, 300))

        # kill -9 the leader of partition 0: no controlled shutdown, no chance to hand over
        victim = next(int(p["leader"]) for p in parts if p["partition"] == 0)
        broker.kill_node(settings, port, victim)
        args = ["--state-dir", str(settings.state_dir), "kafka", "status", "--port", str(port)]
        status = CliRunner().invoke(cli, args)
        assert status.exit_code == 1
        assert "DEGRADED" in status.output
        assert f"node {victim}: 127.0.0.1:{port + 100 * (victim - 1)} not running" in status.output

        # two replicas are left, which min.insync.replicas=2 accepts: writes go on after failover
        await produce(producer, topic, range(300, 600))
    finally:
        await producer.stop()
        await admin.close()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=cluster.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(120):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values += [r.value for r in records if r.value is not None]
            if len(values) >= 600:
                break
    finally:
        await consumer.stop()
    assert sorted(values) == sorted(f"v{i}".encode() for i in range(600))  # all of them, once each

    # `kafka up` brings the dead node back, and it catches up into every ISR
    again = broker.ensure_up(settings, port, nodes=3)
    assert again.started
    assert all(n.pid is not None for n in again.nodes)
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        for _ in range(100):
            parts = await partitions(admin, topic)
            if all(sorted(p["isr"]) == [1, 2, 3] for p in parts):
                break
            await asyncio.sleep(0.3)
        else:
            raise AssertionError(f"the restarted node {victim} never rejoined the ISR: {parts}")
    finally:
        await admin.close()
