"""A partner's map published while the worker runs classifies its next order, without a restart,
and places what the hub already holds again.

On the plain broker: an order with a LOCAL code the hub has no map for lands in
``unclassified``; ``bluelight categories publish`` sends the partner's map and the reclassify
orders; the partner's next order with the same code lands in the category the map names, and
the first one moves there too, counted once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from adapter_kafka import create_member_topics
from aiokafka import AIOKafkaProducer
from click.testing import CliRunner
from topology_support import running_worker, uid

from adapters.sdk.prepare import prepare
from bluelight.cli import cli
from schemas.serde import encode_event
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka


def order(member: str, entity: str, amount: str) -> bytes:
    data: dict[str, Any] = {
        "source_system": "gla-sap",
        "entity_id": entity,
        "entity_version": 1,
        "occurred_at": "2026-11-02T09:00:00Z",
        "status": "ISSUED",
        "order_date": "2026-11-02",
        "currency": "GBP",
        "supplier": {"member_supplier_id": "18000062", "name": "SOUTHERN HOUSING GROUP LIMITED"},
        "lines": [
            {
                "line_id": "2",
                "description": "HSG Grants to Registered Providers",
                "quantity": "1",
                "unit": "LS",
                "unit_price": amount,
                "line_total": amount,
                "classification": {"scheme": "LOCAL", "code": "544076"},
            }
        ],
        "total_net": amount,
    }
    return encode_event(prepare("purchase-order", data, member))


async def send(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await (await producer.send(topic, value=value, key=b"k"))
    finally:
        await producer.stop()


def test_published_map_classifies_the_next_order_and_what_is_held(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    member = f"t-{uid()}-police"
    asyncio.run(create_member_topics(kafka_bootstrap, member))
    topic = member_topic(member, "purchase-order")
    with running_worker({"BLUELIGHT_BOOTSTRAP": kafka_bootstrap}, tmp_path) as worker:
        asyncio.run(send(kafka_bootstrap, topic, order(member, "DOC-1", "100.00")))
        worker.wait_for(
            "/views/category-spend/unclassified",
            lambda status, body: status == 200 and body["by_member"].get(member) == "100.00",
            timeout=400,
        )
        mapping = tmp_path / "mapping.yaml"
        own = {"version": 1, "codes": {"544076": "professional-services"}}
        mapping.write_text(yaml.safe_dump({"source_system": "gla-sap", "categories": own}))
        result = CliRunner().invoke(
            cli, ["--bootstrap", kafka_bootstrap, "categories", "publish", "--member", member, str(mapping)]
        )
        assert result.exit_code == 0, result.output
        assert f"published {member}'s map v1 (1 codes, 0 prefixes)" in result.output
        assert "ordered the workers to place" in result.output
        # the next order lands where the map says, and the first one, held, moves there too
        asyncio.run(send(kafka_bootstrap, topic, order(member, "DOC-2", "250.00")))
        worker.wait_for(
            "/views/category-spend/professional-services",
            lambda status, body: status == 200 and body["by_member"].get(member) == "350.00",
            timeout=120,
        )
        worker.wait_for(
            "/views/category-spend/unclassified",
            lambda status, body: status == 404 or member not in body["by_member"],
            timeout=60,
        )
        status, activity = worker.get(f"/views/member-activity/{member}")
        assert status == 200 and activity["accepted"] == 2, activity  # moved, not counted again
    assert f"{member}'s own map v1 in force (1 rules)" in worker.log.read_text()
