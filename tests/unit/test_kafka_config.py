"""What `bluelight kafka up` writes: server.properties, format arguments, client settings."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from deploy import config
from deploy.config import ClusterSpec, Secrets
from deploy.jars import KAFKA_VERSION, POM
from deploy.tools import java_major

KEYS = Secrets(admin_password="adm1n", broker_password="br0ker", controller_password="c0ntr0ller")


def props(text: str) -> dict[str, str]:
    """Parse rendered properties; a key written twice is a bug, so fail on it."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        assert key not in out, f"{key} written twice"
        out[key] = value
    return out


def test_single_plaintext_node_is_a_dev_broker() -> None:
    spec = ClusterSpec(port=9092)
    p = props(config.server_properties(spec, 1, Path("/s/data"), None))
    assert p["process.roles"] == "broker,controller"
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in p
    assert p["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    assert p["log.dirs"] == "/s/data"
    # one node cannot host Kafka's default RF-3 internal topics
    assert p["offsets.topic.replication.factor"] == "1"
    assert p["transaction.state.log.replication.factor"] == "1"
    assert p["transaction.state.log.min.isr"] == "1"
    assert p["share.coordinator.state.topic.replication.factor"] == "1"
    assert p["num.partitions"] == "3"
    assert p["auto.create.topics.enable"] == "true"
    assert p["group.initial.rebalance.delay.ms"] == "0"
    assert "authorizer.class.name" not in p


def test_secure_node_authenticates_every_listener_and_denies_by_default() -> None:
    spec = ClusterSpec(port=9392, secure=True)
    p = props(config.server_properties(spec, 1, Path("/d"), KEYS))
    assert p["listeners"] == "SASL_PLAINTEXT://127.0.0.1:9392,CONTROLLER://127.0.0.1:9393"
    assert p["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert p["listener.security.protocol.map"] == "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    assert p["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert p["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    broker_jaas = p["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert 'username="broker" password="br0ker"' in broker_jaas
    assert p["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert 'user_controller="c0ntr0ller"' in p["listener.name.controller.plain.sasl.jaas.config"]
    assert p["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert p["allow.everyone.if.no.acl.found"] == "false"
    assert p["auto.create.topics.enable"] == "false"
    supers = p["super.users"].split(";")
    assert "User:admin" in supers
    assert "User:ANONYMOUS" not in supers  # the hardened controller listener needs no anonymous super user
    # the admin's password is not in the broker's config
    assert "adm1n" not in config.server_properties(spec, 1, Path("/d"), KEYS)


def test_secure_config_needs_its_secrets() -> None:
    with pytest.raises(ValueError, match="Secrets"):
        config.server_properties(ClusterSpec(port=9392, secure=True), 1, Path("/d"), None)


def test_three_nodes_share_a_static_quorum_and_replicate_for_fault_tests() -> None:
    spec = ClusterSpec(port=9592, nodes=3)
    assert spec.bootstrap == "127.0.0.1:9592,127.0.0.1:9692,127.0.0.1:9792"
    assert spec.ports() == (9592, 9593, 9692, 9693, 9792, 9793)
    assert spec.heap == "512m"
    rendered = [props(config.server_properties(spec, n, Path(f"/d{n}"), None)) for n in (1, 2, 3)]
    voters = "1@127.0.0.1:9593,2@127.0.0.1:9693,3@127.0.0.1:9793"
    for n, p in zip((1, 2, 3), rendered, strict=True):
        assert p["node.id"] == str(n)
        assert p["controller.quorum.voters"] == voters
        assert "controller.quorum.bootstrap.servers" not in p
        client, controller = spec.client_port(n), spec.controller_port(n)
        assert p["listeners"] == f"PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}"
        assert p["default.replication.factor"] == "3"
        assert p["min.insync.replicas"] == "2"
        assert p["offsets.topic.replication.factor"] == "3"
        assert p["transaction.state.log.min.isr"] == "2"
        assert p["unclean.leader.election.enable"] == "false"


@pytest.mark.parametrize(("port", "nodes"), [(80, 1), (65535, 1), (65400, 3)])
def test_spec_refuses_ports_it_cannot_use(port: int, nodes: int) -> None:
    with pytest.raises(ValueError, match="port"):
        ClusterSpec(port=port, nodes=nodes)


def test_spec_refuses_a_two_node_quorum() -> None:
    with pytest.raises(ValueError, match="1 or 3"):
        ClusterSpec(nodes=2)


def test_format_arguments_match_the_quorum_kind() -> None:
    single = config.format_args(ClusterSpec(port=9092), "CID", Path("/p"), None)
    assert single == ["format", "--cluster-id", "CID", "--config", "/p", "--standalone"]
    three = config.format_args(ClusterSpec(port=9592, nodes=3), "CID", Path("/p"), None)
    assert "--standalone" not in three  # an error with controller.quorum.voters
    secure = config.format_args(ClusterSpec(port=9392, secure=True), "CID", Path("/p"), KEYS)
    scram = [secure[i + 1] for i, arg in enumerate(secure) if arg == "--add-scram"]
    assert scram == [
        "SCRAM-SHA-512=[name=admin,password=adm1n]",
        "SCRAM-SHA-512=[name=broker,password=br0ker]",
    ]


def test_generated_passwords_cannot_break_scram_or_jaas_syntax() -> None:
    for _ in range(50):
        keys = Secrets.generate()
        for password in keys.as_dict().values():
            assert len(password) >= 32
            assert not set(password) & set(',="; []\\')
    assert Secrets.generate() != Secrets.generate()


def test_cluster_ids_are_kafka_uuids() -> None:
    for _ in range(200):
        cid = config.new_cluster_id()
        assert len(cid) == 22
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_client_env_is_what_hub_settings_reads() -> None:
    plain = config.client_env(ClusterSpec(port=9092), None)
    assert plain == {"BLUELIGHT_BOOTSTRAP": "127.0.0.1:9092", "BLUELIGHT_SECURITY_PROTOCOL": "PLAINTEXT"}
    secure = config.client_env(ClusterSpec(port=9392, secure=True), KEYS)
    assert secure == {
        "BLUELIGHT_BOOTSTRAP": "127.0.0.1:9392",
        "BLUELIGHT_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "BLUELIGHT_SASL_MECHANISM": "SCRAM-SHA-512",
        "BLUELIGHT_SASL_USERNAME": "admin",
        "BLUELIGHT_SASL_PASSWORD": "adm1n",
    }
    assert config.env_file_text(secure).splitlines()[-1] == "BLUELIGHT_SASL_PASSWORD=adm1n"


def test_broker_command_runs_kafka_with_its_config_and_logging() -> None:
    cmd = config.broker_command("/usr/bin/java", "/lib/*", Path("/n1"), "768m")
    assert cmd[0] == "/usr/bin/java"
    assert "-Xmx768m" in cmd
    assert "-Dlog4j2.configurationFile=/n1/log4j2.properties" in cmd  # without it log4j2 logs only ERRORs
    assert cmd[-2:] == ["kafka.Kafka", "/n1/server.properties"]
    assert cmd[cmd.index("-cp") + 1] == "/lib/*"


def test_tool_logging_keeps_stdout_clean() -> None:
    text = config.log4j_properties(to_stderr=True, level="WARN")
    assert "appender.out.target=SYSTEM_ERR" in text
    assert "rootLogger.level=WARN" in text
    assert "SYSTEM_ERR" not in config.log4j_properties(to_stderr=False, level="INFO")


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.22" 2024-01-16', 11),
        ("no version here", None),
    ],
)
def test_java_major_version(output: str, major: int | None) -> None:
    assert java_major(output) == major


def test_pom_pins_the_version_the_code_expects() -> None:
    pom = POM.read_text()
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom
    assert "<log4j.version>2.24.3</log4j.version>" in pom
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom  # slf4j 1.7.36: the 1.x binding
    assert "<artifactId>log4j-slf4j2-impl</artifactId>" not in pom
    core, tools = "<artifactId>kafka_2.13</artifactId>", "<artifactId>kafka-tools</artifactId>"
    assert pom.index(core) < pom.index(tools)  # Maven keeps the first version it meets
