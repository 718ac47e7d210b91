"""The five view item functions, the index that keeps them current, and their Avro records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from schemas.serde import decode_record, encode_record
from streams.facts import ContractFacts, Current, EntityRef, LineFacts, OrderFacts
from streams.views.category_spend import category_spend_item, spend_parts
from streams.views.contract_pipeline import bucket_of, contract_pipeline_item, pipeline_parts
from streams.views.index import ViewIndex
from streams.views.member_activity import ActivityPart, ActivityTotals, member_activity_item
from streams.views.price_benchmark import price_benchmark_item, price_parts
from streams.views.records import item_of, record_of, schema_name
from streams.views.render import add_months, money, price, timestamp
from streams.views.supplier_exposure import exposure_parts, supplier_exposure_item

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
D = Decimal


def line(category: str, total: str, unit_price: str, key: str | None = "CPV:33735100|EA") -> LineFacts:
    return LineFacts(category, category.upper(), D(total), D(unit_price), key)


def po(
    member: str,
    entity: str,
    lines: list[LineFacts],
    *,
    live: bool = True,
    supplier: str = "CH:01234567",
    name: str = "Acme Ltd",
    day: date = date(2026, 2, 10),
    minutes: int = 0,
) -> Current:
    total = sum((ln.line_total for ln in lines), D("0.00"))
    facts = OrderFacts(live, day, supplier, name, total, tuple(lines))
    return Current(EntityRef(member, "purchase-order", entity), 1, T0 + timedelta(minutes=minutes), facts)


def contract(
    member: str,
    entity: str,
    end: date,
    value: str = "1000.00",
    *,
    category: str = "fleet",
    live: bool = True,
    supplier: str = "CH:01234567",
    name: str = "Acme Ltd",
    minutes: int = 0,
    extent: date | None = None,
) -> Current:
    facts = ContractFacts(live, supplier, name, category, category.upper(), end, extent, D(value))
    return Current(EntityRef(member, "contract", entity), 1, T0 + timedelta(minutes=minutes), facts)


# --- rendering ---------------------------------------------------------------------------------------


def test_rendering() -> None:
    assert money(D("1234.5")) == "1234.50"
    assert money(D("0")) == "0.00"
    assert money(D("1E+3")) == "1000.00"
    assert price(D("12.5")) == "12.5000"
    assert timestamp(datetime(2026, 3, 1, 9, 30, tzinfo=UTC)) == "2026-03-01T09:30:00Z"
    assert timestamp(datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)) == "2026-03-01T09:30:00.123Z"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2026, 11, 30), 24, date(2028, 11, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


# --- category-spend ----------------------------------------------------------------------------------


def test_category_spend_sums_lines_per_category_and_counts_orders_once() -> None:
    a = po(
        "kent-police",
        "PO-1",
        [line("ppe", "10.00", "5"), line("ppe", "2.50", "2.5"), line("fleet", "7", "7")],
    )
    b = po(
        "essex-police",
        "PO-2",
        [line("ppe", "1.25", "1.25")],
        supplier="VAT:GB123456789",
        day=date(2026, 3, 2),
    )
    cancelled = po("kent-police", "PO-3", [line("ppe", "99.00", "99")], live=False)
    parts = [spend_parts(c).get("ppe") for c in (a, b, cancelled)]
    assert parts[2] is None  # a cancelled order contributes nothing
    item = category_spend_item("ppe", [p for p in parts if p is not None])
    assert item == {
        "category": "ppe",
        "name": "PPE",
        "total_net": "13.75",
        "order_count": 2,
        "by_month": {"2026-02": "12.50", "2026-03": "1.25"},
        "by_member": {"essex-police": "1.25", "kent-police": "12.50"},
        "supplier_count": 2,
    }
    assert category_spend_item("ppe", []) is None


# --- supplier-exposure --------------------------------------------------------------------------------


def test_supplier_exposure_takes_the_newest_name_ties_to_the_smallest() -> None:
    order = po("kent-police", "PO-1", [line("ppe", "10.00", "5")], name="ACME LTD", minutes=5)
    c1 = contract("essex-police", "C-1", date(2027, 1, 1), "500.00", name="Acme Limited", minutes=9)
    c2 = contract("kent-police", "C-2", date(2027, 1, 1), "250.00", name="Acme", minutes=9, category="ppe")
    ended = contract("west-midlands-police", "C-3", date(2027, 1, 1), live=False, minutes=60)
    parts = [p for c in (order, c1, c2, ended) for p in exposure_parts(c).values()]
    assert len(parts) == 3
    assert supplier_exposure_item("CH:01234567", parts) == {
        "supplier_key": "CH:01234567",
        "name": "Acme",
        "order_total": "10.00",
        "live_contract_value": "750.00",
        "members": ["essex-police", "kent-police"],
        "categories": ["fleet", "ppe"],
        "category_share": {},  # from the category join (streams/standings.py), not the entities
        "alternatives": {},
    }


# --- contract-pipeline --------------------------------------------------------------------------------


def test_pipeline_buckets_edges() -> None:
    as_of = date(2026, 8, 31)
    assert bucket_of(as_of, as_of) == "past_end"
    assert bucket_of(date(2026, 9, 1), as_of) == "within_6m"
    assert bucket_of(date(2027, 2, 28), as_of) == "within_6m"  # +6 months, clamped
    assert bucket_of(date(2027, 3, 1), as_of) == "6_to_12m"
    assert bucket_of(date(2027, 8, 31), as_of) == "6_to_12m"
    assert bucket_of(date(2027, 9, 1), as_of) == "12_to_24m"
    assert bucket_of(date(2028, 8, 31), as_of) == "12_to_24m"
    assert bucket_of(date(2028, 9, 1), as_of) is None


def test_contract_pipeline_item_sorts_buckets_and_collaboration() -> None:
    as_of = date(2026, 8, 31)
    rows = [
        contract("kent-police", "K-2", date(2027, 3, 1), "300.00", extent=date(2028, 3, 1)),
        contract("essex-police", "E-1", date(2026, 6, 30), "100.00"),  # past end, still live
        contract("kent-police", "K-1", date(2026, 12, 1), "200.00"),
        contract("wiltshire-fire", "W-1", date(2030, 1, 1), "400.00"),  # beyond 24 months
    ]
    parts = [pipeline_parts(c)["fleet"] for c in rows]
    item = contract_pipeline_item("fleet", parts, as_of)
    assert item is not None
    assert [c["entity_id"] for c in item["contracts"]] == ["E-1", "K-1", "K-2", "W-1"]
    assert item["contracts"][2] == {
        "member_id": "kent-police",
        "entity_id": "K-2",
        "supplier_key": "CH:01234567",
        "end_date": "2027-03-01",
        "max_extent_date": "2028-03-01",
        "value": "300.00",
    }
    assert item["live_value"] == "1000.00"
    assert item["expiring"] == {
        "past_end": {"count": 1, "value": "100.00"},
        "within_6m": {"count": 1, "value": "200.00"},
        "6_to_12m": {"count": 1, "value": "300.00"},
        "12_to_24m": {"count": 0, "value": "0.00"},
    }
    assert item["collaboration"] == []  # only kent-police ends within 12 months
    parts.append(pipeline_parts(contract("essex-police", "E-2", date(2027, 8, 31), "50.00"))["fleet"])
    again = contract_pipeline_item("fleet", parts, as_of)
    assert again is not None and again["collaboration"] == ["essex-police", "kent-police"]


# --- price-benchmark ----------------------------------------------------------------------------------


def test_price_benchmark_uses_lower_median_and_four_places() -> None:
    a = po(
        "kent-police",
        "PO-1",
        [line("ppe", "10.00", "10"), line("ppe", "12.00", "12"), line("x", "1", "1", None)],
    )
    b = po("essex-police", "PO-2", [line("ppe", "11.00", "11"), line("ppe", "13.00", "13")])
    parts = [p for c in (a, b) for k, p in price_parts(c).items() if k == "CPV:33735100|EA"]
    assert all(None not in price_parts(c) for c in (a, b))  # LOCAL lines are left out
    assert price_benchmark_item("CPV:33735100|EA", parts) == {
        "key": "CPV:33735100|EA",
        "count": 4,
        "min": "10.0000",
        "max": "13.0000",
        "median": "11.0000",
        "by_member": {
            "essex-police": {"count": 2, "min": "11.0000", "max": "13.0000"},
            "kent-police": {"count": 2, "min": "10.0000", "max": "12.0000"},
        },
    }


# --- member-activity -----------------------------------------------------------------------------------


def test_member_activity_replaces_parts_and_keeps_the_newest_time() -> None:
    totals = ActivityTotals()
    first = ActivityPart(accepted=1, newest=T0)
    totals.replace(None, first)
    second = ActivityPart(accepted=2, duplicates=1, newest=T0 + timedelta(seconds=1))
    totals.replace(first, second)
    rejected = ActivityPart(rejected=(("decode", 2), ("tenant", 1)), newest=None)
    totals.replace(None, rejected)
    assert member_activity_item("kent-police", totals) == {
        "member_id": "kent-police",
        "accepted": 2,
        "duplicates": 1,
        "rejected": {"decode": 2, "tenant": 1},
        "last_event_at": "2026-03-01T09:00:01Z",
    }
    assert member_activity_item("x", ActivityTotals())["rejected"] == {}


# --- the index -------------------------------------------------------------------------------------------


def test_index_replaces_an_entitys_contribution() -> None:
    index = ViewIndex()
    key = '["kent-police","purchase-order","PO-1"]'
    index.set_entity(key, po("kent-police", "PO-1", [line("ppe", "10.00", "10")]))
    assert index.take_dirty()["category-spend"] == {"ppe"}
    index.set_entity(key, po("kent-police", "PO-1", [line("fleet", "20.00", "20")]))
    dirty = index.take_dirty()
    assert dirty["category-spend"] == {"ppe", "fleet"}
    assert index.item("category-spend", "ppe", date.today()) is None
    fleet = index.item("category-spend", "fleet", date.today())
    assert fleet is not None and fleet["total_net"] == "20.00"
    index.set_entity(key, po("kent-police", "PO-1", [line("fleet", "20.00", "20")], live=False))
    assert index.keys("category-spend") == []
    assert index.keys("supplier-exposure") == []
    assert index.take_dirty()["supplier-exposure"] == {"CH:01234567"}


def test_index_clear_keeps_served_keys_dirty_for_tombstones() -> None:
    index = ViewIndex()
    index.set_entity("k", po("kent-police", "PO-1", [line("ppe", "10.00", "10")]))
    index.set_activity("k", "kent-police", ActivityPart(accepted=1, newest=T0))
    index.take_dirty()
    index.clear()
    dirty = index.take_dirty()
    assert dirty["category-spend"] == {"ppe"}
    assert dirty["member-activity"] == {"kent-police"}
    assert index.item("category-spend", "ppe", date.today()) is None


# --- Avro records ----------------------------------------------------------------------------------------


def _items() -> list[tuple[str, dict[str, object]]]:
    index = ViewIndex()
    index.set_entity("a", po("kent-police", "PO-1", [line("ppe", "10.00", "10"), line("ppe", "2.00", "2")]))
    index.set_entity("b", contract("essex-police", "C-1", date(2027, 1, 1), extent=date(2028, 1, 1)))
    index.set_entity("c", contract("kent-police", "C-2", date(2026, 12, 1)))
    index.set_activity("a", "kent-police", ActivityPart(accepted=3, duplicates=1, newest=T0))
    index.set_activity("r", "kent-police", ActivityPart(rejected=(("decode", 1),)))
    index.set_activity("z", "essex-police", ActivityPart(rejected=(("tenant", 1),)))
    as_of = date(2026, 8, 31)
    return [(view, item) for view in index.dirty for item in index.items(view, as_of)]


@pytest.mark.parametrize(("view", "item"), _items())
def test_view_records_round_trip_through_avro(view: str, item: dict[str, object]) -> None:
    as_of = date(2026, 8, 31)
    data = encode_record(schema_name(view), record_of(view, item, as_of))
    decoded = decode_record(data)
    assert decoded.name == schema_name(view)
    if view == "contract-pipeline":
        assert decoded.record["as_of"] == as_of
    assert item_of(view, decoded.record) == item
