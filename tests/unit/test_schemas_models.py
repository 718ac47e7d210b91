"""The models enforce the contract's rules, and say which field broke which rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from schema_examples import contract, events, line, order, supplier

from schemas.models import (
    MODEL_BY_FAMILY,
    Contract,
    Event,
    OrderStatus,
    PurchaseOrder,
    Supplier,
    family_of,
)
from schemas.validate import Rejection, check_supported, check_tenant, field_path, validate_event


def rejected(family: str, data: dict[str, Any]) -> Rejection:
    with pytest.raises(Rejection) as caught:
        validate_event(family, data)
    return caught.value


# --- accepted events and their canonical form --------------------------------------------------------


def test_valid_order_is_canonicalised() -> None:
    po = validate_event("purchase-order", order())
    assert isinstance(po, PurchaseOrder)
    assert po.status is OrderStatus.ISSUED
    assert po.lines[1].quantity == Decimal("2.5") and str(po.lines[1].quantity) == "2.5000"
    assert str(po.lines[1].line_total) == "100.00"
    assert po.supplier.companies_house_number == "01234567"
    assert po.published_at == datetime(2026, 3, 1, 9, 30, 5, 250000, tzinfo=UTC)
    assert family_of(po) == "purchase-order"


def test_json_form_uses_spec_names_and_fixed_places() -> None:
    dumped = validate_event("purchase-order", order()).model_dump(mode="json")
    assert dumped["total_net"] == "110.00"
    assert dumped["lines"][0]["quantity"] == "3.0000"
    assert dumped["lines"][0]["unit_price"] == "3.3333"
    assert dumped["lines"][1]["line_total"] == "100.00"
    assert dumped["occurred_at"] == "2026-03-01T09:30:00.000Z"
    assert dumped["published_at"] == "2026-03-01T09:30:05.250Z"
    assert dumped["order_date"] == "2026-03-01"
    assert dumped["status"] == "ISSUED"
    assert dumped["lines"][0]["classification"] == {"scheme": "CPV", "code": "18110000-3"}
    assert dumped["buyer_reference"] is None


def test_timestamps_become_utc_at_millisecond_precision() -> None:
    po = validate_event("purchase-order", order(occurred_at="2026-03-01T10:30:00.123999+01:00"))
    assert po.occurred_at == datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)
    assert po.occurred_at.tzinfo is UTC


def test_contract_and_supplier_canonical_identifiers() -> None:
    c = validate_event("contract", contract())
    assert isinstance(c, Contract) and c.supplier.vat_number == "GB123456789"
    assert c.model_dump(mode="json")["value"] == "250000.00"
    s = validate_event("supplier", supplier(duns="15-048-3782", vat_number="NO 123456789 MVA"))
    assert isinstance(s, Supplier)
    assert (s.companies_house_number, s.duns, s.vat_number) == ("SC012345", "150483782", "NO123456789MVA")


def test_models_accept_any_iso_currency_and_check_supported_refuses_non_gbp() -> None:
    po = validate_event("purchase-order", order(currency="NOK"))
    with pytest.raises(Rejection) as caught:
        check_supported(po)
    assert caught.value.kind == "unsupported" and caught.value.field == "currency"
    assert "NOK" in caught.value.reason and "GBP" in caught.value.reason
    check_supported(validate_event("purchase-order", order()))
    check_supported(validate_event("supplier", supplier()))  # no currency, nothing to refuse


def test_check_tenant() -> None:
    po = validate_event("purchase-order", order())
    check_tenant(po, "kent-police")
    with pytest.raises(Rejection) as caught:
        check_tenant(po, "essex-police")
    assert caught.value.kind == "tenant" and caught.value.field == "member_id"
    assert "kent-police" in caught.value.reason and "essex-police" in caught.value.reason


@settings(max_examples=150, deadline=None)
@given(events())
def test_json_round_trip(event: Event) -> None:
    again = validate_event(family_of(event), event.model_dump(mode="json"))
    assert again == event
    assert again.model_dump(mode="json") == event.model_dump(mode="json")


# --- rule errors: kind "validation", the field named, what was wrong ----------------------------------


@pytest.mark.parametrize(
    ("family", "data", "field", "words"),
    [
        (
            "purchase-order",
            order(**line(0, line_total="9.99")),
            "lines[0].line_total",
            ["9.99 is not quantity 3.0000 × unit_price 3.3333 = 9.9999, which rounds half-up to 10.00"],
        ),
        # 0.005 rounds half-up to 0.01 (banker's rounding would give 0.00)
        (
            "purchase-order",
            order(**line(0, quantity="1", unit_price="0.005", line_total="0.00"), total_net="100.00"),
            "lines[0].line_total",
            ["half-up to 0.01"],
        ),
        (
            "purchase-order",
            order(**line(0, quantity="1", unit_price="2.675", line_total="2.67"), total_net="102.67"),
            "lines[0].line_total",
            ["half-up to 2.68"],
        ),
        (
            "purchase-order",
            order(**line(0, quantity="3", unit_price="0.0050", line_total="0.01"), total_net="100.01"),
            "lines[0].line_total",
            ["0.015, which rounds", "0.02"],
        ),
        ("purchase-order", order(total_net="110.01"), "total_net", ["110.01", "sum", "110.00"]),
        ("purchase-order", order(**line(1, line_id="1")), "lines", ["lines[1].line_id '1' repeats lines[0]"]),
        ("purchase-order", order(lines=[]), "lines", ["at least one line"]),
        ("purchase-order", order(**line(0, quantity="0", line_total="0.00")), "lines[0].quantity", ["> 0"]),
        ("purchase-order", order(**line(0, quantity="-1")), "lines[0].quantity", ["> 0"]),
        ("purchase-order", order(**line(0, unit_price="-0.01")), "lines[0].unit_price", [">= 0"]),
        ("purchase-order", order(**line(0, quantity="1.00001")), "lines[0].quantity", ["than 4 decimal"]),
        ("purchase-order", order(total_net="110.001"), "total_net", ["more than 2 decimal places"]),
        ("purchase-order", order(total_net="1e16"), "total_net", ["too large"]),
        ("purchase-order", order(**line(0, unit="each")), "lines[0].unit", ["Rec 20"]),
        ("purchase-order", order(currency="gbp"), "currency", ["ISO 4217"]),
        ("purchase-order", order(currency="POUND"), "currency", ["ISO 4217"]),
        ("purchase-order", order(member_id="Kent_Police"), "member_id", ["not a slug"]),
        ("purchase-order", order(member_id="k"), "member_id", ["not a slug"]),
        ("purchase-order", order(event_id="not-a-uuid"), "event_id", ["not a UUID"]),
        ("purchase-order", order(entity_id="  "), "entity_id", ["blank"]),
        ("purchase-order", order(occurred_at="2026-03-01T09:30:00"), "occurred_at", ["no time zone"]),
        ("purchase-order", order(entity_version=0), "entity_version", ["must be > 0"]),
        (
            "purchase-order",
            order(supplier={"member_supplier_id": "V", "name": "X", "companies_house_number": "11111111.0"}),
            "supplier.companies_house_number",
            ["'11111111.0' is not a Companies House number", "spreadsheet"],
        ),
        (
            "purchase-order",
            order(supplier={"member_supplier_id": "V-77", "name": "X", "vat_number": "GB12345"}),
            "supplier.vat_number",
            ["not a UK VAT number"],
        ),
        (
            "purchase-order",
            order(supplier={"member_supplier_id": "V-77", "name": "!!", "duns": "1"}),
            "supplier.name",
            ["no letters or digits"],
        ),
        ("contract", contract(end_date="2026-01-31"), "end_date", ["2026-01-31 is before start_date"]),
        ("contract", contract(max_extent_date="2028-01-30"), "max_extent_date", ["before end_date"]),
        ("contract", contract(value="-1"), "value", ["negative"]),
        ("supplier", supplier(companies_house_number="SC1234567"), "companies_house_number", ["two letters"]),
        ("supplier", supplier(duns="12345"), "duns", ["not a DUNS number"]),
        ("supplier", supplier(published_at=datetime(2026, 1, 1)), "published_at", ["no time zone"]),  # noqa: DTZ001
    ],
)
def test_rule_errors(family: str, data: dict[str, Any], field: str, words: list[str]) -> None:
    rejection = rejected(family, data)
    assert rejection.kind == "validation", rejection.reason
    assert rejection.field == field
    assert rejection.reason.startswith(f"{field}: ")
    for word in words:
        assert word in rejection.reason


def test_equal_line_totals_pass_at_the_rounding_edge() -> None:
    edge = order(**line(0, quantity="1", unit_price="0.005", line_total="0.01"), total_net="100.01")
    po = validate_event("purchase-order", edge)
    assert isinstance(po, PurchaseOrder) and po.lines[0].line_total == Decimal("0.01")


def test_dates_may_be_equal() -> None:
    same = contract(start_date="2026-02-01", end_date="2026-02-01", max_extent_date="2026-02-01")
    c = validate_event("contract", same)
    assert isinstance(c, Contract) and c.max_extent_date == c.end_date == c.start_date


def test_several_rule_errors_are_all_reported() -> None:
    rejection = rejected("purchase-order", order(currency="gbp", member_id="X"))
    assert rejection.kind == "validation"
    assert "member_id:" in rejection.reason and "currency:" in rejection.reason


# --- shape errors: kind "schema" ---------------------------------------------------------------------------


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("family", "data", "field", "words"),
    [
        ("purchase-order", _without(order(), "total_net"), "total_net", ["missing"]),
        ("purchase-order", order(**line(1, quantity="lots")), "lines[1].quantity", ["decimal", "'lots'"]),
        ("purchase-order", order(status="SHIPPED"), "status", ["'SHIPPED'"]),
        ("purchase-order", order(order_date="01/03/2026"), "order_date", ["date"]),
        ("purchase-order", order(entity_version="3"), "entity_version", ["integer"]),
        ("purchase-order", order(entity_id=1001), "entity_id", ["string"]),
        ("purchase-order", order(colour="blue"), "colour", ["not a field of a purchase-order event"]),
        ("contract", contract(supplier="Air Safety PLC"), "supplier", ["'Air Safety PLC'"]),
        ("supplier", supplier(sme="yes"), "sme", ["boolean"]),
        ("purchase-order", order(total_net="NaN"), "total_net", ["finite"]),
    ],
)
def test_shape_errors(family: str, data: dict[str, Any], field: str, words: list[str]) -> None:
    rejection = rejected(family, data)
    assert rejection.kind == "schema", rejection.reason
    assert rejection.field == field
    assert rejection.reason.startswith(f"{field}: ")
    for word in words:
        assert word in rejection.reason


def test_shape_errors_win_over_rule_errors() -> None:
    rejection = rejected("purchase-order", _without(order(currency="gbp"), "status"))
    assert rejection.kind == "schema" and rejection.field == "status"


def test_unknown_family_and_non_mapping() -> None:
    assert rejected("invoice", order()).kind == "schema"
    with pytest.raises(Rejection) as caught:
        validate_event("contract", ["not", "a", "record"])  # type: ignore[arg-type]
    assert caught.value.kind == "schema"


def test_field_path() -> None:
    assert field_path(("lines", 2, "line_total")) == "lines[2].line_total"
    assert field_path(("supplier", "duns")) == "supplier.duns"
    assert field_path(()) == ""


def test_models_are_immutable_and_every_family_has_one() -> None:
    po = validate_event("purchase-order", order())
    with pytest.raises(ValueError, match="frozen"):
        po.entity_version = 4
    assert sorted(MODEL_BY_FAMILY) == ["contract", "purchase-order", "supplier"]
