"""The secure broker (`kafka up --secure`): SCRAM logins, deny-by-default ACLs, private passwords."""

from __future__ import annotations

import stat
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, UnknownTopicOrPartitionError
from click.testing import CliRunner
from pydantic import SecretStr

from bluelight.cli import cli
from bluelight.settings import KafkaConnection, load_settings
from deploy.broker import BrokerInfo
from deploy.health import probe_node
from tests import ports

pytestmark = [pytest.mark.kafka, pytest.mark.secure]


def test_fixture_gives_the_admin_connection(secure_kafka: BrokerInfo) -> None:
    assert secure_kafka.bootstrap == f"127.0.0.1:{ports.SECURE}"
    assert secure_kafka.username == "admin"
    assert len(secure_kafka.password) >= 32
    assert secure_kafka.env == {
        "BLUELIGHT_BOOTSTRAP": f"127.0.0.1:{ports.SECURE}",
        "BLUELIGHT_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "BLUELIGHT_SASL_MECHANISM": "SCRAM-SHA-512",
        "BLUELIGHT_SASL_USERNAME": "admin",
        "BLUELIGHT_SASL_PASSWORD": secure_kafka.password,
    }
    settings = secure_kafka.hub_settings()
    assert settings.kafka == secure_kafka.connection


async def test_wrong_password_is_rejected(secure_kafka: BrokerInfo) -> None:
    wrong = secure_kafka.connection.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    answer = await probe_node(wrong, secure_kafka.bootstrap, timeout=10)
    assert not answer.ok
    assert "SaslAuthenticationFailed" in str(answer.error)

    producer = AIOKafkaProducer(**wrong.to_aiokafka_kwargs())
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()


async def test_plaintext_client_gets_nothing(secure_kafka: BrokerInfo) -> None:
    plaintext = KafkaConnection(bootstrap=secure_kafka.bootstrap)
    answer = await probe_node(plaintext, secure_kafka.bootstrap, timeout=10)
    assert not answer.ok


async def test_admin_creates_produces_and_consumes(secure_kafka: BrokerInfo) -> None:
    kwargs = secure_kafka.connection.to_aiokafka_kwargs()
    topic = f"test.kafka.secure.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**kwargs)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**kwargs, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i in range(20):
            await producer.send(topic, f"v{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **kwargs, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(40):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values += [r.value for r in records if r.value is not None]
            if len(values) >= 20:
                break
    finally:
        await consumer.stop()
    assert values == [f"v{i}".encode() for i in range(20)]


async def test_topics_are_not_auto_created(secure_kafka: BrokerInfo) -> None:
    kwargs = secure_kafka.connection.to_aiokafka_kwargs()
    typo = f"test.kafka.typo.{uuid4().hex[:8]}"
    producer = AIOKafkaProducer(**kwargs, request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises(UnknownTopicOrPartitionError):
            await producer.send_and_wait(typo, b"x")
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(**kwargs)
    await admin.start()
    try:
        assert typo not in await admin.list_topics()
    finally:
        await admin.close()


def test_passwords_stay_private(secure_kafka: BrokerInfo) -> None:
    root = secure_kafka.root
    for private in (root / "secrets.json", root / "admin.properties", root / "node-1" / "server.properties"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    assert secure_kafka.password not in secure_kafka.node(1).log.read_text(errors="replace")


def test_up_secure_prints_and_writes_the_admin_settings(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    env_file = tmp_path / "admin.env"
    args = ["kafka", "up", "--secure", "--port", str(ports.SECURE), "--env-file", str(env_file)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"already running on 127.0.0.1:{ports.SECURE}" in result.output
    assert f"BLUELIGHT_SASL_PASSWORD={secure_kafka.password}" in result.output
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = load_settings(env_file)  # what `bluelight --env-file admin.env ...` does
    assert settings.kafka == secure_kafka.connection


def test_secure_port_refuses_a_plaintext_up(secure_kafka: BrokerInfo) -> None:
    result = CliRunner().invoke(cli, ["kafka", "up", "--port", str(ports.SECURE)])
    assert result.exit_code == 1
    assert "not 1 node, PLAINTEXT" in result.output
