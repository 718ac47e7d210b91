"""Ingest's decision per record: forward with facts, or dead-letter with the right headers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from schemas.models import (
    Classification,
    ClassificationScheme,
    Contract,
    ContractStatus,
    OrderLine,
    OrderStatus,
    PurchaseOrder,
    SupplierRef,
    to_avro,
)
from schemas.serde import encode_event, encode_record
from streams import dlq
from streams.canonical import EventRecord, RejectedRecord, SourceRef, decode, encode
from streams.categories import map_classification, normalise_code
from streams.facts import ContractFacts, OrderFacts
from streams.route import NotAMemberTopic, Routed, route
from topologies.naming import dlq_topic, member_topic

MEMBER = "kent-police"
T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def order(
    member: str = MEMBER, currency: str = "GBP", code: str = "33735100-7", scheme: str = "CPV"
) -> PurchaseOrder:
    line = OrderLine(
        line_id="1",
        description="goggles",
        quantity=Decimal("3"),
        unit="EA",
        unit_price=Decimal("2.5"),
        line_total=Decimal("7.50"),
        classification=Classification(scheme=ClassificationScheme(scheme), code=code),
    )
    return PurchaseOrder(
        event_id=str(uuid.uuid4()),
        member_id=member,
        source_system="sap-s4",
        entity_id="PO-1",
        entity_version=3,
        occurred_at=T,
        published_at=T,
        status=OrderStatus.CANCELLED,
        order_date=date(2026, 2, 27),
        currency=currency,
        supplier=SupplierRef(member_supplier_id="S1", name="Acme (UK) Ltd.", vat_number="GB 123 4567 89"),
        lines=[line],
        total_net=Decimal("7.50"),
    )


def run(value: bytes | None, family: str = "purchase-order", key: bytes | None = b"PO-1") -> Routed:
    source = SourceRef(member_topic(MEMBER, family), 1, 42)
    return route(source, key, value, map_classification, normalise_code)


def test_a_valid_order_is_forwarded_with_its_facts() -> None:
    routed = run(encode_event(order()))
    assert routed.dead_letter is None and routed.rejection is None
    record = routed.canonical
    assert isinstance(record, EventRecord)
    assert (record.ref.member, record.ref.family, record.ref.entity_id, record.version) == (
        MEMBER,
        "purchase-order",
        "PO-1",
        3,
    )
    facts = record.facts
    assert isinstance(facts, OrderFacts)
    assert facts.live is False  # cancelled
    assert facts.supplier_key == "VAT:GB123456789"
    assert facts.lines[0].category == "ppe"
    assert facts.lines[0].price_key == "CPV:33735100|EA"
    assert decode(encode(record)) == record


def test_local_and_unknown_codes() -> None:
    local = run(encode_event(order(scheme="LOCAL", code="nothing-maps-this")))
    assert isinstance(local.canonical, EventRecord)
    assert isinstance(local.canonical.facts, OrderFacts)
    assert local.canonical.facts.lines[0].price_key is None
    assert local.canonical.facts.lines[0].category == "unclassified"
    assert local.unclassified == 1
    bad_cpv = run(encode_event(order(code="3373510")))  # 7 digits: malformed, not guessed
    assert isinstance(bad_cpv.canonical, EventRecord)
    assert isinstance(bad_cpv.canonical.facts, OrderFacts)
    assert bad_cpv.canonical.facts.lines[0].price_key is None
    assert bad_cpv.unclassified == 1


def test_a_contract_is_forwarded() -> None:
    event = Contract(
        event_id=str(uuid.uuid4()),
        member_id=MEMBER,
        source_system="oracle",
        entity_id="C-1",
        entity_version=1,
        occurred_at=T,
        published_at=T,
        status=ContractStatus.PENDING,
        title="Vehicles",
        supplier=SupplierRef(member_supplier_id="S2", name="Fleet Co", companies_house_number="1234567"),
        classification=Classification(scheme=ClassificationScheme.CPV, code="34100000"),
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        value=Decimal("10.00"),
        currency="GBP",
    )
    routed = run(encode_event(event), family="contract", key=b"C-1")
    assert isinstance(routed.canonical, EventRecord)
    facts = routed.canonical.facts
    assert isinstance(facts, ContractFacts)
    assert facts.live and facts.supplier_key == "CH:01234567" and facts.value == Decimal("10.00")


def bad_total() -> bytes:
    record = to_avro(order())
    record["total_net"] = Decimal("9.99")
    return encode_record("purchase-order", record)


@pytest.mark.parametrize(
    ("value", "family", "kind", "field", "readable"),
    [
        (b"garbage", "purchase-order", "decode", None, False),
        (None, "purchase-order", "decode", None, False),
        (b"\xc3\x01" + bytes(8) + b"\x00", "purchase-order", "decode", None, False),
        (encode_event(order(member="essex-police")), "purchase-order", "tenant", "member_id", True),
        (encode_event(order(currency="NOK")), "purchase-order", "unsupported", "currency", True),
        (bad_total(), "purchase-order", "validation", "total_net", True),
        (encode_event(order()), "contract", "schema", None, True),  # an order on the contracts topic
    ],
)
def test_rejects_go_to_the_members_dlq_with_headers(
    value: bytes | None, family: str, kind: str, field: str | None, readable: bool
) -> None:
    routed = run(value, family=family)
    marker, letter = routed.canonical, routed.dead_letter
    assert isinstance(marker, RejectedRecord) and letter is not None
    assert marker.kind == kind and marker.member == MEMBER
    assert (marker.published_at == T) is readable
    assert letter.topic == dlq_topic(MEMBER)
    assert letter.value == value and letter.key == b"PO-1"
    headers = letter.headers
    assert dlq.header(headers, dlq.KIND) == kind
    assert dlq.header(headers, dlq.FIELD) == field
    assert dlq.header(headers, dlq.ORIGINAL_TOPIC) == member_topic(MEMBER, family)
    assert dlq.header(headers, dlq.ORIGINAL_PARTITION) == "1"
    assert dlq.header(headers, dlq.ORIGINAL_OFFSET) == "42"
    assert dlq.header(headers, dlq.MEMBER) == MEMBER
    reason = dlq.header(headers, dlq.REASON)
    assert reason
    if field:
        assert field in reason
    assert decode(encode(marker)) == marker


def test_only_member_topics_are_routed() -> None:
    with pytest.raises(NotAMemberTopic):
        route(
            SourceRef("bluelight.view.category-spend.v1", 0, 0), None, b"", map_classification, normalise_code
        )


@pytest.mark.parametrize("partitions", [[0], [0, 1, 2], list(range(12))])
def test_canonical_partition_is_the_one_the_clients_default_partitioner_picks(partitions: list[int]) -> None:
    # ingest writes canonical batches per partition itself; an entity must land where a keyed
    # send would have put it, or its records would split across partitions after an upgrade
    from aiokafka.partitioner import DefaultPartitioner

    from streams.canonical import entity_key, partition_of
    from streams.facts import EntityRef

    keys = [entity_key(EntityRef(f"member-{i % 7}", "purchase-order", f"PO-{i}")) for i in range(500)]
    for key in keys:
        assert partition_of(key, partitions) == DefaultPartitioner()(key, partitions, partitions)
    if len(partitions) > 1:
        assert len({partition_of(k, partitions) for k in keys}) == len(partitions)
