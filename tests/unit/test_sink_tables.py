"""The sink's tables and batch plan, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from schemas.serde import encode_record
from streams.sink.tables import Message, json_text, plan_batch, row_of, table_of, tables
from streams.views.records import record_of, schema_name
from topologies.naming import VIEWS, view_topic

SPEND = {
    "category": "fleet",
    "name": "Fleet",
    "total_net": "10.50",
    "order_count": 1,
    "by_month": {"2026-01": "10.50"},
    "by_member": {"kent-police": "10.50"},
    "supplier_count": 1,
}


def spend(total: str) -> bytes:
    item = {**SPEND, "total_net": total}
    return encode_record(schema_name("category-spend"), record_of("category-spend", item))


def test_every_view_has_a_table_keyed_by_its_first_field() -> None:
    keys = {view: table_of(view).key for view in VIEWS}
    assert keys == {
        "category-spend": "category",
        "supplier-exposure": "supplier_key",
        "contract-pipeline": "category",
        "price-benchmark": "key",
        "member-activity": "member_id",
        "supplier-diversity": "category",
        "contract-coverage": "category",
    }
    pipeline = {c.name: (c.sql_type, c.nested) for c in table_of("contract-pipeline").columns}
    assert pipeline["as_of"] == ("date", False)
    assert pipeline["live_value"] == ("numeric(18,2)", False)
    assert pipeline["contracts"] == ("jsonb", True)
    activity = {c.name: c.sql_type for c in table_of("member-activity").columns}
    assert activity["last_event_at"] == "timestamptz" and activity["accepted"] == "bigint"
    assert set(tables()) == {view_topic(v) for v in VIEWS}


def test_json_text_keeps_decimals_exact_and_dates_as_text() -> None:
    text = json_text(
        {"a": Decimal("0.10"), "b": [date(2027, 1, 2), None], "c": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    assert json.loads(text, parse_float=Decimal) == {
        "a": Decimal("0.10"),
        "b": ["2027-01-02", None],
        "c": "2026-01-01T00:00:00+00:00",
    }
    assert "0.10" in text


def test_a_batch_keeps_the_last_change_of_each_key_and_the_next_offsets() -> None:
    topic = view_topic("category-spend")
    batch = plan_batch(
        [
            Message(topic, 0, 5, b"fleet", spend("1.00")),
            Message(topic, 0, 6, b"fleet", spend("2.00")),
            Message(topic, 1, 9, b"fleet-gone", None),
            Message(topic, 1, 10, b"broken", b"\x00garbage"),
            Message(topic, 1, 11, b"fleet2", spend("3.00")),  # the record says fleet: not its key
        ],
        tables(),
    )
    changes = batch.changes["category_spend"]
    assert set(changes) == {"fleet", "fleet-gone"}
    assert changes["fleet"].offset == 6 and changes["fleet"].row is not None
    assert changes["fleet"].row[2] == Decimal("2.00")
    assert changes["fleet-gone"].row is None
    assert [(e.key, e.offset) for e in batch.errors] == [("broken", 10), ("fleet2", 11)]
    assert "Confluent" in batch.errors[0].error and "not its key" in batch.errors[1].error
    assert batch.next_offsets == {(topic, 0): 7, (topic, 1): 12}
    assert batch.records == 5


def test_a_row_holds_nested_fields_as_json() -> None:
    table = table_of("category-spend")
    record = record_of("category-spend", SPEND)
    row = row_of(table, record)
    assert row[0] == "fleet" and row[1] == "Fleet"
    assert json.loads(row[4]) == {"2026-01": 10.5}
