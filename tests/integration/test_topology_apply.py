"""`bluelight topology plan | apply` against the real secured broker: idempotent, deletes opt-in.

The broker is shared, so each test applies a topology of its own (the shipped hub.yaml and a
unique member) and only ever executes deletes of its own making.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from click.testing import CliRunner
from topology_support import as_user, make_topology, produce, uid

from bluelight.cli import cli
from bluelight.settings import read_env_file
from deploy.broker import BrokerInfo
from topologies import acl, naming
from topologies.admin import connect
from topologies.apply import apply_topology, issue_credentials, plan_cluster
from topologies.model import Member, TopologyError
from topologies.plan import Plan

pytestmark = [pytest.mark.kafka, pytest.mark.secure]


def run_cli(info: BrokerInfo, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=info.env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_apply_then_plan_shows_nothing(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    member = f"t-{uid()}"
    directory = make_topology(tmp_path, [Member(id=member, name="Test Police", sector="police")])

    creds = tmp_path / "credentials"
    first = run_cli(secure_kafka, "topology", "--dir", str(directory), "apply", "--env-dir", str(creds))
    for topic in (*naming.member_topics(member), naming.dlq_topic(member)):
        assert f"+ CreateTopic {topic} " in first
    assert f"+ CreateUser {acl.member_user(member)}" in first
    user, prefix = acl.member_user(member), naming.member_topic_prefix(member)
    assert f"CreateAcl User:{user} ALLOW WRITE on TOPIC prefixed '{prefix}'" in first
    env_file = creds / f"{user}.env"
    assert f"  {user}: settings in {env_file} (mode 0600)" in first
    assert env_file.stat().st_mode & 0o777 == 0o600
    written = read_env_file(env_file)
    assert written["sasl_username"] == user and written["sasl_password"] not in first  # never printed
    member_conn = as_user(secure_kafka.connection, user, written["sasl_password"])
    assert asyncio.run(produce(member_conn, naming.member_topic(member, "contract"), b"logged in")) >= 0

    second = run_cli(secure_kafka, "topology", "--dir", str(directory), "plan")
    assert "Nothing to do: the cluster matches the topology." in second
    planned = asyncio.run(plan_cluster(secure_kafka.hub_settings(topology_dir=directory)))
    assert planned.actions == ()
    assert "CreateTopic" not in second and "UpdateConfig" not in second and "CreateAcl" not in second


def test_drift_and_growth_are_reconciled(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    member = f"t-{uid()}"
    directory = make_topology(tmp_path, [Member(id=member, name="Test Fire", sector="fire")])
    settings = secure_kafka.hub_settings(topology_dir=directory)
    asyncio.run(apply_topology(settings))

    # the member-input plan changes: more partitions and a shorter retention
    hub = yaml.safe_load((directory / "hub.yaml").read_text())
    hub["plans"]["member-input"]["partitions"] = 4
    hub["plans"]["member-input"]["config"]["retention.ms"] = 1_209_600_000
    (directory / "hub.yaml").write_text(yaml.safe_dump(hub, sort_keys=False))

    planned = asyncio.run(plan_cluster(settings))
    described = [a.describe() for a in planned.actions]
    for topic in naming.member_topics(member):
        assert f"AddPartitions {topic} 3 -> 4" in described
        assert f"UpdateConfig {topic} retention.ms: 2592000000 -> 1209600000" in described
    assert all(member in d for d in described), described  # nothing else changes

    applied, _ = asyncio.run(apply_topology(settings))
    assert applied.actions == planned.actions
    assert asyncio.run(plan_cluster(settings)).actions == ()

    async def sizes() -> dict[str, tuple[int, str]]:
        async with connect(settings.kafka) as admin:
            found = await admin.topics(naming.member_topics(member))
        return {t: (s.partitions, s.config["retention.ms"]) for t, s in found.items()}

    assert asyncio.run(sizes()) == {t: (4, "1209600000") for t in naming.member_topics(member)}


def test_deletes_only_with_allow_delete(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    keep, drop = f"t-{uid()}", f"t-{uid()}"
    members = [Member(id=keep, name="Kept", sector="police"), Member(id=drop, name="Dropped", sector="fire")]
    directory = make_topology(tmp_path, members)
    settings = secure_kafka.hub_settings(topology_dir=directory)
    asyncio.run(apply_topology(settings))
    make_topology(directory, members[:1])  # `drop` leaves the topology

    dropped = {*naming.member_topics(drop), naming.dlq_topic(drop)}
    text = run_cli(secure_kafka, "topology", "--dir", str(directory), "plan")
    for topic in dropped:
        assert f"- would delete (skipped, use --allow-delete): DeleteTopic {topic}" in text
    assert f"- would delete (skipped, use --allow-delete): DeleteUser {acl.member_user(drop)}" in text
    applied, _ = asyncio.run(apply_topology(settings))  # without --allow-delete: nothing is deleted
    assert applied.actions == ()

    full = asyncio.run(plan_cluster(settings, allow_delete=True))
    # the broker is shared: run only this test's own deletes (others' test members are there too)
    ours = Plan(tuple(a for a in full.actions if drop in a.describe()))
    assert {a.describe() for a in ours.actions} >= {f"DeleteTopic {t}" for t in dropped} | {
        f"DeleteUser {acl.member_user(drop)}"
    }
    assert sum(a.describe().startswith("DeleteAcl") for a in ours.actions) == len(acl.member_acls(drop))
    assert not any(keep in a.describe() for a in full.actions)

    async def run_and_check() -> None:
        async with connect(settings.kafka) as admin:
            await admin.apply(ours)
            state = await admin.state()
        assert not dropped & set(state.topics)
        assert state.users is not None and acl.member_user(drop) not in state.users
        assert state.acls is not None and not {b for b in state.acls if drop in b.principal}
        assert set(naming.member_topics(keep)) <= set(state.topics)

    asyncio.run(run_and_check())


def test_created_user_logs_in_and_a_new_password_replaces_the_old(
    secure_kafka: BrokerInfo, tmp_path: Path
) -> None:
    member = f"t-{uid()}"
    directory = make_topology(tmp_path, [Member(id=member, name="Test Police", sector="police")])
    settings = secure_kafka.hub_settings(topology_dir=directory)
    _, result = asyncio.run(apply_topology(settings))
    user = acl.member_user(member)
    first = result.passwords[user]
    topic = naming.member_topic(member, "supplier")
    assert asyncio.run(produce(as_user(settings.kafka, user, first), topic, b"hello")) >= 0

    env_file = tmp_path / "member.secret.env"
    out = run_cli(
        secure_kafka, "topology", "--dir", str(directory), "credentials", user, "--env-file", str(env_file)
    )
    assert "wrote" in out and (env_file.stat().st_mode & 0o777) == 0o600
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert env["BLUELIGHT_SASL_USERNAME"] == user and env["BLUELIGHT_SASL_PASSWORD"] != first
    assert (
        asyncio.run(produce(as_user(settings.kafka, user, env["BLUELIGHT_SASL_PASSWORD"]), topic, b"again"))
        >= 0
    )
    with pytest.raises(KafkaConnectionError):
        asyncio.run(produce(as_user(settings.kafka, user, first), topic, b"old password"))
    with pytest.raises(TopologyError, match="not a user of the topology"):
        asyncio.run(issue_credentials(settings, "admin"))
