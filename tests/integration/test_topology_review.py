"""Reviewable topology changes on the secured broker: plan to a file, apply exactly that file,
refuse it once the cluster drifted, an exit code that tells CI whether there is drift, and
members leaving (suspend: access revoked, data kept; remove --allow-delete: data deleted)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from click.testing import CliRunner, Result
from topology_support import as_user, make_topology, produce, uid

from bluelight.cli import cli
from bluelight.settings import HubSettings
from deploy.broker import BrokerInfo
from topologies import acl, naming
from topologies.admin import connect
from topologies.apply import apply_topology, plan_cluster
from topologies.desired import TopicSpec
from topologies.model import Member, load_topology
from topologies.plan_file import EXIT_DRIFT

pytestmark = [pytest.mark.kafka, pytest.mark.secure]


def run(info: BrokerInfo, directory: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["topology", "--dir", str(directory), *args], env=info.env)


def test_plan_file_applied_as_reviewed_and_refused_after_drift(
    secure_kafka: BrokerInfo, tmp_path: Path
) -> None:
    member = f"t-{uid()}"
    directory = make_topology(
        tmp_path / "topology", [Member(id=member, name="Review Police", sector="police")]
    )
    plan_file = tmp_path / "plan.json"

    planned = run(secure_kafka, directory, "plan", "--json", "-o", str(plan_file), "--exit-code")
    assert planned.exit_code == EXIT_DRIFT, planned.output
    doc = json.loads(plan_file.read_text())
    assert doc["drift"] is True and f"CreateUser {acl.member_user(member)}" in doc["actions"]

    # drift after the review: someone makes one of the member's topics by hand, differently
    topic = naming.member_topic(member, "contract")
    settings = secure_kafka.hub_settings(topology_dir=directory)

    async def by_hand() -> None:
        async with connect(settings.kafka) as admin:
            await admin.create_topics([TopicSpec(topic, "member-input", member, 1, 1, {})])

    asyncio.run(by_hand())
    refused = run(secure_kafka, directory, "apply", "--plan", str(plan_file))
    assert refused.exit_code == EXIT_DRIFT, refused.output
    assert f"no longer planned: CreateTopic {topic}" in refused.output
    assert "Nothing was changed" in refused.output
    still = asyncio.run(plan_cluster(settings))
    assert f"CreateUser {acl.member_user(member)}" in [a.describe() for a in still.actions], (
        "refused yet applied"
    )

    # a fresh plan, reviewed, is applied as it is
    replanned = run(secure_kafka, directory, "plan", "-o", str(plan_file))
    assert replanned.exit_code == 0, replanned.output
    applied = run(secure_kafka, directory, "apply", "--plan", str(plan_file))
    assert applied.exit_code == 0, applied.output
    assert f"+ CreateUser {acl.member_user(member)}" in applied.output

    # the reviewed plan grew the hand-made topic and set its configs: in sync now
    clean = run(secure_kafka, directory, "plan", "--exit-code")
    assert clean.exit_code == 0, clean.output
    assert "Nothing to do: the cluster matches the topology." in clean.output


def test_a_file_that_is_not_a_plan_is_a_usage_error(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    bogus = tmp_path / "plan.json"
    bogus.write_text("{}")
    out = run(secure_kafka, make_topology(tmp_path / "t", []), "apply", "--plan", str(bogus))
    assert out.exit_code == 2 and "bluelight-plan/1" in out.output


async def _topics(settings: HubSettings, names: list[str]) -> set[str]:
    async with connect(settings.kafka) as admin:
        return set(await admin.topics(names, configs=False))


def test_members_suspend_and_remove(secure_kafka: BrokerInfo, tmp_path: Path) -> None:
    a, b = f"t-{uid()}-police", f"t-{uid()}-fire"
    directory = make_topology(
        tmp_path / "topology",
        [
            Member(id=a, name="Leaving Police", sector="police"),
            Member(id=b, name="Leaving Fire", sector="fire"),
        ],
    )
    settings = secure_kafka.hub_settings(topology_dir=directory)
    _, result = asyncio.run(apply_topology(settings))
    conn = {
        m: as_user(settings.kafka, acl.member_user(m), result.passwords[acl.member_user(m)]) for m in (a, b)
    }
    asyncio.run(produce(settings.kafka, naming.dlq_topic(a), b"a dead letter of A"))
    assert asyncio.run(produce(conn[a], naming.member_topic(a, "contract"), b"before")) >= 0

    suspended = CliRunner().invoke(
        cli, ["members", "--dir", str(directory), "suspend", a], env=secure_kafka.env
    )
    assert suspended.exit_code == 0, suspended.output
    assert f"DeleteUser {acl.member_user(a)}" in suspended.output
    with pytest.raises(KafkaConnectionError):  # its user is gone: it cannot even log in
        asyncio.run(produce(conn[a], naming.member_topic(a, "contract"), b"after"))
    assert asyncio.run(produce(conn[b], naming.member_topic(b, "contract"), b"B unaffected")) >= 0
    mine = [*naming.member_topics(a), naming.dlq_topic(a)]
    assert asyncio.run(_topics(settings, mine)) == set(mine), "history and dead letters must stay"
    assert load_topology(directory).member(a).status == "suspended"  # type: ignore[union-attr]
    # the topology agrees with the cluster: no drift, and a plain apply does not let A back in
    in_sync = run(secure_kafka, directory, "plan", "--exit-code")
    assert in_sync.exit_code == 0, in_sync.output

    removed = CliRunner().invoke(
        cli,
        ["members", "--dir", str(directory), "remove", b, "--allow-delete", "--yes"],
        env=secure_kafka.env,
    )
    assert removed.exit_code == 0, removed.output
    theirs = [*naming.member_topics(b), naming.dlq_topic(b)]
    assert asyncio.run(_topics(settings, theirs)) == set()
    assert load_topology(directory).member(b) is None
    listed = CliRunner().invoke(cli, ["members", "--dir", str(directory), "list"], env=secure_kafka.env)
    assert f"{a}" in listed.output and "[suspended]" in listed.output and b not in listed.output
