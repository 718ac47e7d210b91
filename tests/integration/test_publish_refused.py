"""Nobody outside the topology gets in: publishing as a member never plugged in fails, exit 2,
and creates nothing, even on the dev broker that auto-creates topics on a metadata request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from adapter_kafka import create_member_topics, new_member
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import KafkaConnection
from topologies.admin import connect
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).parent.parent.parent
GLA = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
GLA_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"


async def existing(bootstrap: str, topic: str) -> set[str]:
    async with connect(KafkaConnection(bootstrap=bootstrap)) as admin:  # metadata without auto-create
        return set(await admin.topics([topic], configs=False))


def csv_publish(bootstrap: str, state: Path, member: str) -> tuple[int, str]:
    args = ["--bootstrap", bootstrap, "--state-dir", str(state), "adapter", "csv", "--member", member]
    result = CliRunner().invoke(cli, [*args, "--config", str(GLA_CONFIG), str(GLA)])
    return result.exit_code, result.output


def test_unknown_member_is_refused_and_no_topic_is_created(kafka_bootstrap: str, tmp_path: Path) -> None:
    stranger = new_member()
    topic = member_topic(stranger, "purchase-order")
    code, output = csv_publish(kafka_bootstrap, tmp_path, stranger)
    assert code == 2, output
    assert f"{stranger} is not a member of this hub: topic {topic} does not exist" in output
    assert "run again" not in output.lower()
    assert asyncio.run(existing(kafka_bootstrap, topic)) == set()


def test_plugged_in_member_publishes_the_same_file(kafka_bootstrap: str, tmp_path: Path) -> None:
    member = new_member()  # the positive twin: same command, topics made first
    asyncio.run(create_member_topics(kafka_bootstrap, member))
    code, output = csv_publish(kafka_bootstrap, tmp_path, member)
    assert code == 0, output
    assert "317 events published" in output
