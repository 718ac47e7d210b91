"""Reviewable topology changes on the secured broker: plan to a file, apply exactly that file,
refuse it once the cluster drifted, and an exit code that tells CI whether there is drift."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from topology_support import make_topology, uid

from bluelight.cli import cli
from deploy.broker import BrokerInfo
from topologies import acl, naming
from topologies.admin import connect
from topologies.apply import plan_cluster
from topologies.desired import TopicSpec
from topologies.model import Member
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
