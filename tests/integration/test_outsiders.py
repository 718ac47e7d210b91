"""The worker reads only members of the topology, even on the dev broker that auto-creates topics.

An outsider's records (a member id on no list, whose topics the broker made on request) are
ignored, counted in ``bluelight_outsider_records_total`` and logged; the insider's identical
records, in the same run, reach the views.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from pathlib import Path

import pytest
from adapter_kafka import create_member_topics
from aiokafka import AIOKafkaProducer
from topology_support import make_topology, purchase_order, running_worker, uid

from topologies.model import Member
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka


async def send(bootstrap: str, records: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for topic, value in records:
            await (await producer.send(topic, value=value, key=b"PO-1"))
    finally:
        await producer.stop()


def test_outsider_records_are_ignored_counted_and_logged(kafka_bootstrap: str, tmp_path: Path) -> None:
    u = uid()
    insider, outsider = f"t-{u}-in", f"t-{u}-out"
    topology = make_topology(tmp_path / "topology", [Member(id=insider, name="Insider", sector="police")])
    for member in (insider, outsider):
        asyncio.run(create_member_topics(kafka_bootstrap, member))
    asyncio.run(
        send(
            kafka_bootstrap,
            [
                (member_topic(outsider, "purchase-order"), purchase_order(outsider, "PO-1")),
                (member_topic(insider, "purchase-order"), purchase_order(insider, "PO-1")),
            ],
        )
    )
    env = {
        "BLUELIGHT_BOOTSTRAP": kafka_bootstrap,
        "BLUELIGHT_MEMBERS_ONLY": "true",
        "BLUELIGHT_TOPOLOGY_DIR": str(topology),
    }
    with running_worker(env, tmp_path) as worker:
        worker.wait_for(
            f"/views/member-activity/{insider}",
            lambda status, body: status == 200 and body.get("accepted") == 1,
            timeout=400,
        )
        status, _ = worker.get(f"/views/member-activity/{outsider}")
        assert status == 404
        with urllib.request.urlopen(f"http://{worker.http}/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        counted = re.search(rf'bluelight_outsider_records_total{{member="{outsider}"}} (\S+)', metrics)
        assert counted is not None and float(counted.group(1)) == 1.0, metrics[-2000:]
        assert f'bluelight_outsider_records_total{{member="{insider}"}}' not in metrics
    assert f"{outsider} is not a member of the topology" in worker.log.read_text()
