"""`bluelight members add | list`: a partner plugged in with one command, settings printed once."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from topology_support import as_user, consume, make_topology, produce, uid

from bluelight.cli import cli
from bluelight.settings import KafkaConnection, load_settings, read_env_file
from deploy.broker import BrokerInfo
from topologies import naming
from topologies.admin import connect
from topologies.apply import add_members, ensure_member_topics
from topologies.model import Member, load_topology

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).parent.parent.parent
GLA = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
FIELDS = {"member_id", "bootstrap_servers", "security_protocol", "sasl_mechanism", "username", "password"}


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.secure
def test_add_on_a_secured_cluster(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    directory = make_topology(tmp_path, [Member(id="kent-police", name="Kent Police", sector="police")])
    member = f"t-{uid()}-fire"
    args = ["--name", "Test Fire and Rescue", "--sector", "fire", "--contact", "ops@fire.example", "--json"]
    code, out = invoke(secure_kafka.env, "members", "--dir", str(directory), "add", member, *args)
    assert code == 0, out
    settings = json.loads(out)
    assert FIELDS <= set(settings)
    assert settings["member_id"] == member
    assert settings["bootstrap_servers"] == secure_kafka.bootstrap
    assert (settings["security_protocol"], settings["sasl_mechanism"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert settings["username"] == f"member-{member}" and len(settings["password"]) >= 24
    assert settings["topics"]["contract"] == naming.member_topic(member, "contract")

    # the printed settings are enough to publish, and to read back one's own rejections
    conn = KafkaConnection(
        bootstrap=settings["bootstrap_servers"],
        security_protocol=settings["security_protocol"],
        sasl_mechanism=settings["sasl_mechanism"],
        sasl_username=settings["username"],
        sasl_password=SecretStr(settings["password"]),
    )
    assert asyncio.run(produce(conn, settings["topics"]["purchase-order"], b"first order")) >= 0
    assert asyncio.run(produce(secure_kafka.connection, settings["dead_letter_topic"], b"a rejection")) >= 0
    got = asyncio.run(consume(conn, settings["dead_letter_topic"], settings["consumer_group_prefix"] + "dlq"))
    assert [r.value for r in got] == [b"a rejection"]

    # recorded in members.yaml, with no secret in it; listed; a second add is refused
    assert load_topology(directory).member(member) == Member(
        id=member, name="Test Fire and Rescue", sector="fire", contact="ops@fire.example"
    )
    assert settings["password"] not in (directory / "members.yaml").read_text()
    code, out = invoke(secure_kafka.env, "members", "--dir", str(directory), "list", "--json")
    assert code == 0 and [m["id"] for m in json.loads(out)] == ["kent-police", member]
    code, out = invoke(
        secure_kafka.env, "members", "--dir", str(directory), "add", member, "--name", "X", "--sector", "fire"
    )
    assert code != 0 and "is already a member" in out

    # the human form prints the same settings once
    other = f"t-{uid()}-police"
    code, out = invoke(
        secure_kafka.env,
        "members",
        "--dir",
        str(directory),
        "add",
        other,
        "--name",
        "Test Police",
        "--sector",
        "police",
    )
    assert code == 0, out
    assert f"username:          member-{other}" in out and "password:          " in out
    assert naming.member_topic(other, "supplier") in out


def test_add_on_an_unsecured_cluster(kafka_bootstrap: str, tmp_path: Path) -> None:
    directory = make_topology(tmp_path, [])
    member = f"t-{uid()}"
    args = ["add", member, "--name", "Plain Police", "--sector", "police", "--json"]
    code, out = invoke({"BLUELIGHT_BOOTSTRAP": kafka_bootstrap}, "members", "--dir", str(directory), *args)
    assert code == 0, out
    settings = json.loads(out)
    assert settings["security_protocol"] == "PLAINTEXT"
    assert settings["username"] == settings["password"] == settings["sasl_mechanism"] == ""

    async def topics() -> set[str]:
        async with connect(KafkaConnection(bootstrap=kafka_bootstrap)) as admin:
            return set(await admin.topics([*naming.member_topics(member), naming.dlq_topic(member)]))

    wanted = {*naming.member_topics(member), naming.dlq_topic(member)}
    for _ in range(40):  # a new topic reaches the metadata a moment after CreateTopics returns
        if (found := asyncio.run(topics())) == wanted:
            break
        time.sleep(0.25)
    assert found == wanted
    assert "contact" not in (directory / "members.yaml").read_text()  # none given: none written


def test_bad_input_is_refused_before_anything_changes(tmp_path: Path) -> None:
    directory = make_topology(tmp_path, [])
    before = (directory / "members.yaml").read_text()
    # no broker is contacted: these fail on the arguments (an unreachable bootstrap proves it)
    env = {"BLUELIGHT_BOOTSTRAP": "127.0.0.1:1"}
    code, out = invoke(
        env, "members", "--dir", str(directory), "add", "Kent_Police", "--name", "K", "--sector", "police"
    )
    assert code == 2 and "is not a slug" in out
    code, out = invoke(
        env,
        "members",
        "--dir",
        str(directory),
        "add",
        "kent-ambulance",
        "--name",
        "K",
        "--sector",
        "ambulance",
    )
    assert code == 2 and "'ambulance' is not one of 'police', 'fire', 'national'" in out
    assert (directory / "members.yaml").read_text() == before


@pytest.mark.secure
def test_many_members_in_one_apply(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    directory = make_topology(tmp_path, [])
    new = [Member(id=f"t-{uid()}", name=f"Force {i}", sector="police") for i in range(3)]
    settings = secure_kafka.hub_settings(topology_dir=directory)
    connections = asyncio.run(add_members(settings, new))
    assert [c.member_id for c in connections] == [m.id for m in new]
    assert len({c.password for c in connections}) == 3
    for c in connections:
        conn = as_user(secure_kafka.connection, c.username, c.password)
        assert asyncio.run(produce(conn, c.topics["supplier"], b"hello")) >= 0
    assert [m.id for m in load_topology(directory).members] == [m.id for m in new]


def test_ensure_member_topics_creates_only_what_is_missing(kafka_bootstrap: str, tmp_path: Path) -> None:
    member = f"t-{uid()}"
    settings = load_settings(bootstrap=kafka_bootstrap).model_copy(
        update={"topology_dir": make_topology(tmp_path, [])}
    )
    expected = {*naming.member_topics(member), naming.dlq_topic(member), naming.alert_topic(member)}
    assert set(asyncio.run(ensure_member_topics(settings, member))) == expected
    assert asyncio.run(ensure_member_topics(settings, member)) == []


@pytest.mark.secure
def test_add_writes_the_members_env_file_and_the_partner_publishes_with_it(
    secure_kafka: BrokerInfo, tmp_path: Path
) -> None:
    directory = make_topology(tmp_path / "topology", [])
    member = f"t-{uid()}-police"
    env_file = tmp_path / f"{member}.env"
    code, out = invoke(
        secure_kafka.env, "members", "add", member, "--name", "Test Police", "--sector", "police",
        "--env-file", str(env_file), "--dir", str(directory),
    )  # fmt: skip
    assert code == 0, out
    assert env_file.stat().st_mode & 0o777 == 0o600
    written = read_env_file(env_file)
    assert written["sasl_username"] == f"member-{member}" and written["bootstrap"] == secure_kafka.bootstrap
    assert written["sasl_password"] not in out  # the password is in the file only
    assert f"password:          (in {env_file})" in out

    # the partner's command: the admin's settings are exported in this shell, the member's file wins
    code, out = invoke(
        secure_kafka.env, "--env-file", str(env_file), "--state-dir", str(tmp_path / "state"),
        "adapter", "csv", "--member", member, "--config", str(GLA_CONFIG), str(GLA),
    )  # fmt: skip
    assert code == 0, out
    assert "317 events published" in out
    assert "warning: BLUELIGHT_SASL_USERNAME" in out and f"Using {env_file}" in out
    assert written["sasl_password"] not in out and secure_kafka.password not in out

    # another member's topic with the same file: refused, naming who may not do what, exit 2
    code, out = invoke(
        secure_kafka.env, "--env-file", str(env_file), "--state-dir", str(tmp_path / "state2"),
        "adapter", "csv", "--member", "kent-police", "--config", str(GLA_CONFIG), str(GLA),
    )  # fmt: skip
    assert code == 2, out
    kent = naming.member_topic("kent-police", "purchase-order")
    assert f"not authorised: member-{member} may not write to {kent}" in out
