"""Example events for the schema tests: hand-written ones, and hypothesis strategies.

The hand-written ones are the JSON a partner would send (override any field by keyword).
Generated events are built the same way and then validated, so what the tests get is exactly
what the hub accepts (normalised identifiers, UTC timestamps). ``avro_data`` generates data for
any Avro schema, so the evolution tests cover schemas added later (views) too.
"""

from __future__ import annotations

import copy
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from schemas.limits import MAX_ENTITY_VERSION
from schemas.models import (
    ClassificationScheme,
    Contract,
    ContractStatus,
    Event,
    OrderStatus,
    PurchaseOrder,
    Supplier,
    SupplierStatus,
)
from schemas.vocabulary import MEMBER_ID_RE

PENNY = Decimal("0.01")


def order(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": "0b6f1f8e-1d8a-5c3e-9d0e-3a1f4c2b7e10",
        "member_id": "kent-police",
        "source_system": "sap-s4",
        "entity_id": "PO-1001",
        "entity_version": 3,
        "occurred_at": "2026-03-01T09:30:00Z",
        "published_at": "2026-03-01T09:30:05.250Z",
        "status": "ISSUED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": {
            "member_supplier_id": "V-77",
            "name": "Bluelight Uniforms Ltd",
            "companies_house_number": "1234567",
        },
        "lines": [
            {
                "line_id": "1",
                "description": "Hi-vis jacket",
                "quantity": "3",
                "unit": "EA",
                "unit_price": "3.3333",
                "line_total": "10.00",
                "classification": {"scheme": "CPV", "code": "18110000-3"},
            },
            {
                "line_id": "2",
                "description": "Boots",
                "quantity": "2.5",
                "unit": "H87",
                "unit_price": "40",
                "line_total": "100",
                "classification": {"scheme": "LOCAL", "code": "UNIF-02"},
                "item_id": "05012345678900",
            },
        ],
        "total_net": "110.00",
    }
    data.update(changes)
    return data


def contract(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": "9a1c7b52-0a57-4b77-8f0e-5d2f0e0b9c11",
        "member_id": "wiltshire-fire",
        "source_system": "contracts-finder",
        "entity_id": "C-42",
        "entity_version": 1,
        "occurred_at": "2026-01-10T12:00:00+00:00",
        "published_at": "2026-01-10T12:00:01+00:00",
        "status": "ACTIVE",
        "title": "Breathing apparatus maintenance",
        "supplier": {"member_supplier_id": "S-9", "name": "Air Safety PLC", "vat_number": "GB 123 4567 89"},
        "classification": {"scheme": "CPV", "code": "50000000-5"},
        "start_date": "2026-02-01",
        "end_date": "2028-01-31",
        "max_extent_date": "2030-01-31",
        "value": "250000",
        "currency": "GBP",
    }
    data.update(changes)
    return data


def supplier(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": "5d0c2d1e-6f5b-4a57-9b3d-0c7a9e3f2b44",
        "member_id": "bluelight-national",
        "source_system": "oracle-fusion",
        "entity_id": "SUP-1",
        "entity_version": 7,
        "occurred_at": "2026-01-10T12:00:00Z",
        "published_at": "2026-01-10T12:00:01Z",
        "status": "ACTIVE",
        "legal_name": "Air Safety PLC",
        "companies_house_number": "sc12345",
        "sme": True,
    }
    data.update(changes)
    return data


def line(index: int, **changes: Any) -> dict[str, Any]:
    lines = copy.deepcopy(order()["lines"])
    lines[index].update(changes)
    return {"lines": lines}


member_ids = st.from_regex(MEMBER_ID_RE, fullmatch=True)
# text the contract accepts in names and ids: no controls, surrogates or bidi overrides (schemas.limits)
letters = st.characters(
    blacklist_categories=("Cs", "Cc"),
    blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
)
texts = st.text(letters, min_size=1, max_size=30).filter(lambda s: s.strip() != "")
optional_texts = st.none() | texts
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
timestamps = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2090, 1, 1), timezones=st.just(UTC) | offsets
)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1))


def fixed(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimals with ``places`` places between low and high units."""
    scale = 10**places
    return st.integers(low * scale, high * scale).map(lambda n: Decimal(n).scaleb(-places))


ch_numbers = st.one_of(
    st.integers(1, 99_999_999).map(str),
    st.tuples(st.sampled_from(["SC", "NI", "OC", "so", "nc"]), st.integers(1, 999_999)).map(
        lambda t: f"{t[0]}{t[1]}"
    ),
)
vat_numbers = st.one_of(
    st.integers(0, 999_999_999).map(lambda n: f"GB{n:09d}"),
    st.integers(0, 999_999_999).map(lambda n: f"{n:09d}"[:3] + " " + f"{n:09d}"[3:]),
    st.just("NO123456789MVA"),
)
duns_numbers = st.integers(0, 999_999_999).map(lambda n: f"{n:09d}")
supplier_names = st.text(string.ascii_letters + " &.-'", min_size=1, max_size=20).filter(
    lambda s: any(c.isalnum() for c in s)
) | st.sampled_from(["ACME Ltd.", "Bluelight Uniforms Limited", "Smith & Sons (UK) PLC", "Zeta LLP"])


@st.composite
def envelopes(draw: st.DrawFn, member: str | None = None) -> dict[str, Any]:
    """The common envelope fields."""
    return {
        "event_id": str(draw(st.uuids())),
        "member_id": member or draw(member_ids),
        "source_system": draw(st.sampled_from(["sap-s4", "oracle-fusion", "unit4", "peppol"]) | texts),
        "entity_id": draw(texts),
        "entity_version": draw(st.integers(1, MAX_ENTITY_VERSION)),
        "occurred_at": draw(timestamps),
        "published_at": draw(timestamps),
    }


@st.composite
def supplier_refs(draw: st.DrawFn) -> dict[str, Any]:
    """A supplier as an order or contract names it."""
    return {
        "member_supplier_id": draw(texts),
        "name": draw(supplier_names),
        "companies_house_number": draw(st.none() | ch_numbers),
        "vat_number": draw(st.none() | vat_numbers),
        "duns": draw(st.none() | duns_numbers),
        "ppon": draw(optional_texts),
    }


classifications = st.fixed_dictionaries(
    {"scheme": st.sampled_from([s.value for s in ClassificationScheme]), "code": texts}
)
currencies = st.sampled_from(["GBP", "GBP", "EUR", "NOK"])


@st.composite
def order_lines(draw: st.DrawFn, line_id: str) -> dict[str, Any]:
    """One line whose total is its quantity times price, rounded half-up."""
    quantity = draw(fixed(4, 0, 100_000).filter(lambda d: d > 0))
    unit_price = draw(fixed(4, 0, 1_000_000))
    return {
        "line_id": line_id,
        "description": draw(st.text(letters, max_size=40)),
        "quantity": quantity,
        "unit": draw(st.sampled_from(["EA", "H87", "KGM", "C62", "LTR"])),
        "unit_price": unit_price,
        "line_total": (quantity * unit_price).quantize(PENNY, rounding=ROUND_HALF_UP),
        "classification": draw(classifications),
        "item_id": draw(optional_texts),
    }


@st.composite
def purchase_orders(draw: st.DrawFn, member: str | None = None) -> PurchaseOrder:
    """A valid purchase order."""
    ids = draw(st.lists(texts, min_size=1, max_size=5, unique=True))
    lines = [draw(order_lines(i)) for i in ids]
    data = draw(envelopes(member)) | {
        "status": draw(st.sampled_from([s.value for s in OrderStatus])),
        "order_date": draw(dates),
        "currency": draw(currencies),
        "supplier": draw(supplier_refs()),
        "contract_ref": draw(optional_texts),
        "lines": lines,
        "total_net": sum((line["line_total"] for line in lines), Decimal("0.00")),
        "buyer_reference": draw(optional_texts),
    }
    return PurchaseOrder.model_validate(data)


@st.composite
def contracts(draw: st.DrawFn, member: str | None = None) -> Contract:
    """A valid contract."""
    start = draw(dates)
    end = start + timedelta(days=draw(st.integers(0, 3650)))
    extent = draw(st.none() | st.integers(0, 1500).map(lambda d: end + timedelta(days=d)))
    data = draw(envelopes(member)) | {
        "status": draw(st.sampled_from([s.value for s in ContractStatus])),
        "title": draw(texts),
        "supplier": draw(supplier_refs()),
        "classification": draw(classifications),
        "start_date": start,
        "end_date": end,
        "max_extent_date": extent,
        "value": draw(fixed(2, 0, 10**12)),
        "currency": draw(currencies),
        "framework_ref": draw(optional_texts),
        "ocid": draw(optional_texts),
    }
    return Contract.model_validate(data)


@st.composite
def suppliers(draw: st.DrawFn, member: str | None = None) -> Supplier:
    """A valid supplier record."""
    data = draw(envelopes(member)) | {
        "status": draw(st.sampled_from([s.value for s in SupplierStatus])),
        "legal_name": draw(supplier_names),
        "companies_house_number": draw(st.none() | ch_numbers),
        "vat_number": draw(st.none() | vat_numbers),
        "duns": draw(st.none() | duns_numbers),
        "ppon": draw(optional_texts),
        "postcode": draw(st.none() | st.sampled_from(["ME14 1XX", "SN10 2DD"])),
        "sme": draw(st.none() | st.booleans()),
        "vcse": draw(st.none() | st.booleans()),
    }
    return Supplier.model_validate(data)


EVENTS: dict[str, Any] = {
    "purchase-order": purchase_orders,
    "contract": contracts,
    "supplier": suppliers,
}


def events(member: str | None = None) -> st.SearchStrategy[Event]:
    """A valid event of any family."""
    return st.one_of(purchase_orders(member), contracts(member), suppliers(member))


# --- data for any Avro schema (so evolution tests cover view schemas added later too) ----------


def avro_data(schema: Any, named: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values fastavro can write with ``schema`` (a raw, unparsed schema)."""
    named = {} if named is None else named
    if isinstance(schema, list):
        non_null = [s for s in schema if s != "null"]
        if len(non_null) != 1:
            raise NotImplementedError(f"unions other than [null, T] are not generated: {schema}")
        inner = avro_data(non_null[0], named)
        return st.none() | inner if "null" in schema else inner
    if isinstance(schema, str):
        if schema in named:
            return avro_data(named[schema], named)
        return _primitive(schema)
    logical = schema.get("logicalType")
    kind = schema["type"]
    if logical == "decimal":
        digits = 10 ** schema["precision"] - 1
        return st.integers(-digits, digits).map(lambda n: Decimal(n).scaleb(-schema.get("scale", 0)))
    if logical == "date":
        return st.dates()
    if logical == "timestamp-millis":
        return st.datetimes(min_value=datetime(1900, 1, 1), timezones=st.just(UTC)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        )
    if kind == "record":
        named[schema["name"]] = schema
        if "namespace" in schema:
            named[f"{schema['namespace']}.{schema['name']}"] = schema
        return st.fixed_dictionaries({f["name"]: avro_data(f["type"], named) for f in schema["fields"]})
    if kind == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if kind == "array":
        return st.lists(avro_data(schema["items"], named), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=5), avro_data(schema["values"], named), max_size=3)
    if kind == "fixed":
        return st.binary(min_size=schema["size"], max_size=schema["size"])
    return avro_data(kind, named)


def _primitive(name: str) -> st.SearchStrategy[Any]:
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False),
        "bytes": st.binary(max_size=20),
        "string": st.text(max_size=20),
    }[name]
