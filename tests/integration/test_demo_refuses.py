"""The demo keeps to itself: on a cluster that holds other members it stops before touching it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from adapter_kafka import create_member_topics, new_member
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import KafkaConnection
from demo.synthetic.members import MEMBERS
from topologies.admin import connect
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka


async def topic_exists(bootstrap: str, topic: str) -> bool:
    async with connect(KafkaConnection(bootstrap=bootstrap)) as admin:
        return topic in await admin.topics([topic], configs=False)


def test_demo_refuses_a_cluster_with_other_members(kafka_bootstrap: str, tmp_path: Path) -> None:
    # the refusal names the first five others in order; on the shared broker other tests' members
    # (t-...) are there too, so this one is named to sort first
    stranger = "a0-" + new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, stranger))
    absent = [
        m.id
        for m in MEMBERS[:10]
        if not asyncio.run(topic_exists(kafka_bootstrap, member_topic(m.id, "contract")))
    ]
    result = CliRunner().invoke(
        cli, ["--bootstrap", kafka_bootstrap, "--state-dir", str(tmp_path), "demo", "--exit"]
    )
    assert result.exit_code == 1, result.output
    assert "holds members that are not the demo's synthetic partners" in result.output
    assert stranger in result.output and "--share-cluster" in result.output
    # stopped before the topics step: none of the synthetic partners' topics was made
    assert absent  # the shared broker had some synthetic partner without topics before the run
    assert not any(asyncio.run(topic_exists(kafka_bootstrap, member_topic(m, "contract"))) for m in absent)
    assert not (tmp_path / "demo" / "worker.log").exists()
