"""The shared plaintext broker that `bluelight kafka up` starts: clients can use it, the CLI reports it."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import load_settings
from deploy import broker
from deploy.broker import BrokerInfo
from tests import ports

pytestmark = pytest.mark.kafka


async def test_plaintext_round_trip(kafka_bootstrap: str) -> None:
    assert kafka_bootstrap == f"127.0.0.1:{ports.PLAINTEXT}"
    topic = f"test.kafka.roundtrip.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    sent = {f"k{i}".encode(): f"v{i}".encode() for i in range(200)}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in sent.items():
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    received: dict[bytes, bytes] = {}
    partitions = set()
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                partitions.add(tp.partition)
                received.update({r.key: r.value for r in records if r.key and r.value})
            if len(received) >= len(sent):
                break
    finally:
        await consumer.stop()
    assert received == sent
    assert partitions == {0, 1, 2}  # keyed records spread over the topic's partitions


def test_status_reports_the_broker_up(kafka_broker: BrokerInfo) -> None:
    result = CliRunner().invoke(cli, ["kafka", "status", "--port", str(ports.PLAINTEXT)])
    assert result.exit_code == 0, result.output
    assert f"port {ports.PLAINTEXT}: up - Kafka 4.1.1, 1 node, PLAINTEXT" in result.output
    assert "answers, sees brokers [1]" in result.output
    assert str(kafka_broker.node(1).log) in result.output


def test_up_again_is_a_no_op(kafka_broker: BrokerInfo) -> None:
    before = kafka_broker.node(1).pid
    again = broker.ensure_up(load_settings(), ports.PLAINTEXT)
    assert not again.started
    assert again.node(1).pid == before
    result = CliRunner().invoke(cli, ["kafka", "up", "--port", str(ports.PLAINTEXT)])
    assert result.exit_code == 0, result.output
    assert f"already running on 127.0.0.1:{ports.PLAINTEXT}" in result.output


def test_broker_log_is_where_up_says(kafka_broker: BrokerInfo) -> None:
    log = kafka_broker.node(1).log
    assert log.is_file()
    assert "Kafka Server started" in log.read_text(errors="replace")  # logging really works (log4j2 binding)


def test_status_fails_where_no_broker_runs(tmp_path: Path) -> None:
    args = ["--state-dir", str(tmp_path), "kafka", "status", "--port", str(ports.DEPLOY)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert f"port {ports.DEPLOY}: no cluster" in result.output
