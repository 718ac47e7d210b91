"""`bluelight publish` against the real broker: all or nothing per file, then a faithful round trip."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from adapter_kafka import create_member_topics, end_offsets, new_member, read_topic
from click.testing import CliRunner, Result

from adapters.sdk.envelope import event_id_for
from bluelight.cli import cli
from schemas.models import PurchaseOrder
from schemas.serde import event_from_bytes
from topologies.naming import Family, member_topic

pytestmark = pytest.mark.kafka

FAMILY: Family = "purchase-order"


def order(member: str, entity_id: str, version: int = 1, price: str = "12.3457") -> dict[str, Any]:
    return {
        "member_id": member,
        "source_system": "sap-s4",
        "entity_id": entity_id,
        "entity_version": version,
        "occurred_at": "2026-03-01T09:30:00Z",
        "status": "ISSUED" if version == 1 else "AMENDED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": {
            "member_supplier_id": "V-0042",
            "name": "Acme Protective Ltd",
            "vat_number": "GB107328000",
        },
        "lines": [
            {
                "line_id": "1",
                "description": "Ballistic goggles, anti-fog",
                "quantity": "3",
                "unit": "EA",
                "unit_price": price,
                "line_total": "37.04",
                "classification": {"scheme": "CPV", "code": "33735100"},
            }
        ],
        "total_net": "37.04",
    }


def publish(bootstrap: str, state: Path, member: str, path: Path, *extra: str) -> Result:
    args = ["--bootstrap", bootstrap, "--state-dir", str(state), "publish", "--member", member]
    return CliRunner().invoke(cli, [*args, "--family", FAMILY, *extra, str(path)])


@pytest.fixture
def member(kafka_bootstrap: str) -> str:
    m = new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, m))
    return m


def test_one_invalid_line_and_nothing_is_published(kafka_bootstrap: str, member: str, tmp_path: Path) -> None:
    events = [order(member, f"PO-{i}") for i in range(1, 11)]
    events[6]["lines"][0]["line_total"] = "37.00"  # line 7: not 3 x 12.3457 rounded
    events[6]["total_net"] = "37.00"
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))

    result = publish(kafka_bootstrap, tmp_path / "state", member, path)

    assert result.exit_code == 1, result.output
    assert "orders.jsonl:7: lines[0].line_total: 37.00 is not quantity 3" in result.stderr
    assert "nothing from this file was published" in result.stderr
    assert asyncio.run(end_offsets(kafka_bootstrap, member_topic(member, FAMILY))) == {0: 0, 1: 0, 2: 0}


def test_invalid_json_names_its_line_and_nothing_is_published(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(order(member, "PO-1")) + "\n\n" + '{"entity_id": "PO-2", }\n')

    result = publish(kafka_bootstrap, tmp_path / "state", member, path)

    assert result.exit_code == 1
    assert "orders.jsonl:3: invalid JSON at column 23" in result.stderr
    assert sum(asyncio.run(end_offsets(kafka_bootstrap, member_topic(member, FAMILY))).values()) == 0


def test_round_trip_every_event_acknowledged_keyed_and_decodable(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    sent = [order(member, f"PO-{i}") for i in range(1, 31)]
    sent += [order(member, f"PO-{i}", version=2, price="12.3400") for i in range(1, 6)]
    for e in sent[-5:]:
        e["lines"][0]["line_total"] = e["total_net"] = "37.02"
    del sent[0]["member_id"]  # filled from --member
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in sent))

    result = publish(kafka_bootstrap, tmp_path / "state", member, path)

    assert result.exit_code == 0, result.output
    topic = member_topic(member, FAMILY)
    assert f"published 35 purchase-order event(s) from orders.jsonl to {topic}" in result.stdout
    records = asyncio.run(read_topic(kafka_bootstrap, topic))
    assert len(records) == 35
    decoded: dict[tuple[str, int], tuple[PurchaseOrder, int]] = {}
    for r in records:
        event = event_from_bytes(r.value, member, FAMILY)
        assert isinstance(event, PurchaseOrder) and r.key == event.entity_id.encode()
        decoded[(event.entity_id, event.entity_version)] = (event, r.partition)
    assert set(decoded) == {(e["entity_id"], e["entity_version"]) for e in sent}
    po1v2, partition_v2 = decoded[("PO-1", 2)]
    assert partition_v2 == decoded[("PO-1", 1)][1]  # every version of an entity on one partition
    assert po1v2.event_id == event_id_for(member, FAMILY, "PO-1", 2)
    assert str(po1v2.lines[0].unit_price) == "12.3400" and str(po1v2.total_net) == "37.02"
    assert po1v2.supplier.vat_number == "GB107328000" and po1v2.status == "AMENDED"
    assert {partition for _, partition in decoded.values()} == {0, 1, 2}
    assert all(e.published_at > e.occurred_at for e, _ in decoded.values())


def test_sharing_policy_keeps_withheld_fields_off_the_topic(
    kafka_bootstrap: str, member: str, tmp_path: Path
) -> None:
    policy = tmp_path / "kent-sharing.yaml"
    policy.write_text(
        "withhold:\n"
        "  purchase-order:\n"
        "    - lines[].unit_price\n"
        "    - lines[].description\n"
        "    - supplier.vat_number\n"
        "    - supplier.member_supplier_id\n"
    )
    events = [order(member, f"PO-{i}", price="12.3457") for i in range(1, 6)]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))

    result = publish(kafka_bootstrap, tmp_path / "state", member, path, "--policy", str(policy))

    assert result.exit_code == 0, result.output
    records = asyncio.run(read_topic(kafka_bootstrap, member_topic(member, FAMILY)))
    assert len(records) == 5
    raw = b"".join(r.value or b"" for r in records)
    # unit_price 12.3457 is Avro decimal(18,4): unscaled 123457 = 0x01E241, big-endian two's complement
    secrets = (
        b"Ballistic",
        b"anti-fog",
        b"GB107328000",
        b"107328000",
        b"V-0042",
        (123457).to_bytes(3, "big"),
    )
    for secret in secrets:
        assert secret not in raw
    for r in records:
        event = event_from_bytes(r.value, member, FAMILY)
        assert isinstance(event, PurchaseOrder)
        line = event.lines[0]
        assert (str(line.quantity), line.unit, str(line.unit_price)) == ("1.0000", "LS", "37.0400")
        assert line.description == "[withheld]" and event.supplier.vat_number is None
        assert str(event.total_net) == "37.04"  # the spend still counts
    # the negative control: the same events published without the policy put every secret on
    # the topic, so the byte search above finds what it looks for when it is there
    other = new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, other))
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps({**e, "member_id": other}) + "\n" for e in events))
    assert publish(kafka_bootstrap, tmp_path / "state", other, plain).exit_code == 0
    unshared = b"".join(
        r.value or b"" for r in asyncio.run(read_topic(kafka_bootstrap, member_topic(other, FAMILY)))
    )
    assert [secret for secret in secrets if secret not in unshared] == []
