"""The wire format: single-object encoding, the catalogue, typed decode errors, rejections."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from schema_examples import contract, order, supplier

from schemas import serde
from schemas.models import PurchaseOrder, to_avro
from schemas.serde import (
    HEADER_SIZE,
    MAX_MESSAGE_BYTES,
    BadMagic,
    CatalogueError,
    DecodeError,
    EncodeError,
    MalformedBody,
    Oversized,
    SchemaMismatch,
    TrailingBytes,
    Truncated,
    UnknownFingerprint,
    catalogue,
    decode_event,
    decode_record,
    encode_event,
    encode_record,
    event_from_bytes,
    load_catalogue,
)
from schemas.validate import Rejection, validate_event


def zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def po_event(**changes: Any) -> PurchaseOrder:
    event = validate_event("purchase-order", order(**changes))
    assert isinstance(event, PurchaseOrder)
    return event


# --- catalogue ------------------------------------------------------------------------------------


def test_catalogue_by_fingerprint_and_by_name_version() -> None:
    cat = catalogue()
    assert cat is catalogue(), "parsed once"
    latest = cat.latest("purchase-order")
    assert latest.version == 2 and cat.get("purchase-order") is latest
    assert cat.get("purchase-order", 1).version == 1
    assert cat.by_fingerprint[latest.fingerprint] is latest
    assert cat.by_name_version[("contract", 1)] is cat.latest("contract")
    assert {"purchase-order", "contract", "supplier"} <= set(cat.names())
    assert [v.version for v in cat.history("purchase-order")] == [1, 2]
    with pytest.raises(KeyError, match="no version 9"):
        cat.get("purchase-order", 9)
    with pytest.raises(KeyError, match="no schema named 'invoice'"):
        cat.get("invoice")


def test_schemas_are_not_parsed_at_import() -> None:
    code = (
        "import schemas.serde, schemas.models, schemas.validate, schemas.identity;"
        "assert schemas.serde.catalogue.cache_info().currsize == 0;"
        "schemas.serde.catalogue(); assert schemas.serde.catalogue.cache_info().currsize == 1"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def _write(root: Path, name: str, version: int, schema: dict[str, Any]) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / f"v{version}.avsc").write_text(json.dumps(schema))


MONEY = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}
VIEW_V1 = {
    "type": "record",
    "name": "CategorySpend",
    "namespace": "uk.bluelight.views",
    "fields": [
        {"name": "category", "type": "string"},
        {"name": "total_net", "type": MONEY},
        {"name": "by_month", "type": {"type": "map", "values": MONEY}},
        {"name": "as_of", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
        {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}


def test_generic_records_with_a_catalogue_of_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "view/category-spend", 1, VIEW_V1)
    cat = load_catalogue(tmp_path)
    monkeypatch.setattr(serde, "catalogue", lambda: cat)
    record = {
        "category": "uniform",
        "total_net": Decimal("12.50"),
        "by_month": {"2026-03": Decimal("12.50")},
        "as_of": date(2026, 3, 31),
        "updated_at": datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
    }
    data = encode_record("view/category-spend", record)
    assert data[:HEADER_SIZE] == cat.latest("view/category-spend").header
    assert decode_record(data) == ("view/category-spend", record)
    with pytest.raises(UnknownFingerprint, match="not an event"):
        decode_event(data)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"total_net": Decimal("1.005")}, "total_net: 1.005 does not fit decimal(18, 2)"),
        ({"total_net": 1.5}, "total_net: 1.5 is not a Decimal"),
        ({"by_month": {"2026-03": Decimal("1e20")}}, "by_month['2026-03']: "),
        ({"updated_at": datetime(2026, 1, 1)}, "updated_at: 2026-01-01T00:00:00 has no time zone"),  # noqa: DTZ001
        ({"as_of": datetime(2026, 1, 1, tzinfo=UTC)}, "as_of: "),
        ({"category": 5}, "record does not fit view/category-spend v1"),
        ({"surprise": 1}, "more fields"),
    ],
)
def test_encode_errors_name_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: dict[str, Any], words: str
) -> None:
    _write(tmp_path, "view/category-spend", 1, VIEW_V1)
    cat = load_catalogue(tmp_path)
    monkeypatch.setattr(serde, "catalogue", lambda: cat)
    record = {"category": "c", "total_net": Decimal(1), "by_month": {}, "updated_at": datetime.now(UTC)} | bad
    with pytest.raises(EncodeError) as caught:
        encode_record("view/category-spend", record)
    assert words in str(caught.value)


def test_catalogue_refuses_a_version_that_only_changes_docs(tmp_path: Path) -> None:
    _write(tmp_path, "x", 1, VIEW_V1)
    _write(tmp_path, "x", 2, VIEW_V1 | {"doc": "same fields"})
    with pytest.raises(CatalogueError, match="same canonical form"):
        load_catalogue(tmp_path)


def test_catalogue_refuses_a_changed_logical_type(tmp_path: Path) -> None:
    v2 = json.loads(json.dumps(VIEW_V1))
    v2["fields"][1]["type"]["scale"] = 4
    v2["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
    _write(tmp_path, "x", 1, VIEW_V1)
    _write(tmp_path, "x", 2, v2)
    with pytest.raises(CatalogueError, match="changes the logical type of total_net"):
        load_catalogue(tmp_path)


@pytest.mark.parametrize(
    ("file_name", "text", "words"),
    [
        ("version1.avsc", json.dumps(VIEW_V1), "named v<N>.avsc"),
        ("v1.avsc", "{not json", "not a usable Avro schema"),
        (
            "v1.avsc",
            json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}),
            "not a usable Avro schema",
        ),
        (
            "v1.avsc",
            json.dumps(
                {
                    "type": "record",
                    "name": "R",
                    "fields": [{"name": "a", "type": {"type": "string", "logicalType": "uuid"}}],
                }
            ),
            "'uuid' on 'string'",
        ),
    ],
)
def test_catalogue_errors_name_the_file(tmp_path: Path, file_name: str, text: str, words: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / file_name).write_text(text)
    with pytest.raises(CatalogueError, match="x/") as caught:
        load_catalogue(tmp_path)
    assert words in str(caught.value)


# --- events on the wire ---------------------------------------------------------------------------


def test_event_header_and_round_trip() -> None:
    event = po_event(buyer_reference="REQ-1")
    data = encode_event(event)
    assert data[:2] == b"\xc3\x01"
    assert data[2:HEADER_SIZE] == catalogue().latest("purchase-order").fingerprint
    family, record = decode_event(data)
    assert family == "purchase-order" and record == to_avro(event)
    assert event_from_bytes(data, "kent-police") == event
    assert event_from_bytes(data, "kent-police", family="purchase-order") == event


@pytest.mark.parametrize("make", [contract, supplier])
def test_other_families_round_trip(make: Any) -> None:
    data = make()
    event = validate_event("contract" if make is contract else "supplier", data)
    assert event_from_bytes(encode_event(event), event.member_id) == event


def test_old_writer_version_is_read_as_latest() -> None:
    event = po_event()
    old = {k: v for k, v in to_avro(event).items() if k != "buyer_reference"}
    data = encode_record("purchase-order", old, version=1)
    assert data[2:HEADER_SIZE] == catalogue().get("purchase-order", 1).fingerprint
    assert event_from_bytes(data, "kent-police") == event


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", Truncated, "empty"),
        (b"\xc3", Truncated, "inside the C3 01 marker"),
        (b"\xc3\x01\x00\x01", Truncated, "inside the 10-byte header"),
        (b"\x00\x00\x00\x00\x07abc", BadMagic, "Confluent framing"),
        (b'{"json": true}', BadMagic, "7b 22"),
        (b"\xc3\x01" + bytes(8) + b"abc", UnknownFingerprint, "0000000000000000"),
        (b"\xc3\x01" + bytes(MAX_MESSAGE_BYTES), Oversized, "larger than"),
    ],
)
def test_header_errors(data: bytes, error: type[DecodeError], words: str) -> None:
    with pytest.raises(error, match=words):
        decode_record(data)
    with pytest.raises(Rejection) as caught:
        event_from_bytes(data, "kent-police")
    assert caught.value.kind == "decode" and words in caught.value.reason


def test_body_errors() -> None:
    data = encode_event(po_event())
    with pytest.raises(Truncated, match="ends early"):
        decode_record(data[:-3])
    with pytest.raises(TrailingBytes, match="2 bytes are left after the purchase-order v2 record"):
        decode_record(data + b"\x00\x00")
    # a string whose length prefix claims far more than the message holds
    header = catalogue().latest("purchase-order").header
    with pytest.raises(Truncated):
        decode_record(header + zigzag(2**62) + b"abc")
    # a negative length
    with pytest.raises(DecodeError):
        decode_record(header + zigzag(-5) + b"abc")
    # invalid UTF-8 in event_id
    with pytest.raises(MalformedBody, match="purchase-order v2"):
        decode_record(header + zigzag(2) + b"\xff\xfe" + data[HEADER_SIZE + 37 :])


def test_huge_decimal_is_refused_quickly() -> None:
    """fastavro's own decimal reader is quadratic in the length; ours refuses long ones first."""
    event = po_event()
    data = encode_event(event)
    total = b"\x2a\xf8"  # 110.00 as the unscaled two's-complement bytes
    tail = zigzag(len(total)) + total + b"\x00"  # total_net, then buyer_reference = null
    assert data.endswith(tail)
    giant = b"\x7f" * (MAX_MESSAGE_BYTES - len(data) - 10)
    hostile = data[: -len(tail)] + zigzag(len(giant)) + giant + b"\x00"
    started = time.monotonic()
    with pytest.raises(MalformedBody, match=r"total_net: a decimal\(18, 2\) of \d+ bytes"):
        decode_record(hostile)
    assert time.monotonic() - started < 2


def test_decimal_with_more_digits_than_its_precision_is_not_rounded() -> None:
    data = encode_event(po_event())
    total = b"\x2a\xf8"
    too_many = (10**18).to_bytes(8, "big", signed=True)  # 19 digits: fits 8 bytes, not decimal(18, 2)
    hostile = data[: -(len(total) + 2)] + zigzag(len(too_many)) + too_many + b"\x00"
    with pytest.raises(MalformedBody, match="more than 18 digits"):
        decode_record(hostile)


def test_out_of_range_date_is_malformed() -> None:
    cat = catalogue()
    writer = cat.latest("contract")
    record = to_avro(validate_event("contract", contract()))
    data = encode_record("contract", record)
    start = (date(2026, 2, 1) - date(1970, 1, 1)).days
    assert zigzag(start) in data
    hostile = data.replace(zigzag(start), zigzag(2**40), 1)
    with pytest.raises(MalformedBody, match="start_date: date 1099511627776 days"):
        decode_record(hostile)
    assert writer.name == "contract"


def test_unknown_enum_symbol_is_a_schema_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enum_v1 = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "s", "type": {"type": "enum", "name": "S", "symbols": ["A", "B"]}}],
    }
    enum_v2 = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "s", "type": {"type": "enum", "name": "S", "symbols": ["A"]}},
            {"name": "n", "type": ["null", "string"], "default": None},
        ],
    }
    _write(tmp_path, "x", 1, enum_v1)
    _write(tmp_path, "x", 2, enum_v2)
    cat = load_catalogue(tmp_path)
    monkeypatch.setattr(serde, "catalogue", lambda: cat)
    assert decode_record(encode_record("x", {"s": "A"}, version=1)) == ("x", {"s": "A", "n": None})
    with pytest.raises(SchemaMismatch, match="x v1 record cannot be read as x v2"):
        decode_record(encode_record("x", {"s": "B"}, version=1))


# --- event_from_bytes: the rejection kinds, in order ----------------------------------------------


def test_rejection_kinds() -> None:
    good = encode_event(po_event())
    with pytest.raises(Rejection) as caught:
        event_from_bytes(good[:-1], "kent-police")
    assert caught.value.kind == "decode"

    bad_total = dict(to_avro(po_event()), total_net=Decimal("1.00"))
    with pytest.raises(Rejection) as caught:
        event_from_bytes(encode_record("purchase-order", bad_total), "kent-police")
    assert (caught.value.kind, caught.value.field) == ("validation", "total_net")

    bad_slug = dict(to_avro(po_event()), member_id="Kent Police")
    with pytest.raises(Rejection) as caught:
        event_from_bytes(encode_record("purchase-order", bad_slug), "kent-police")
    assert (caught.value.kind, caught.value.field) == ("validation", "member_id")

    with pytest.raises(Rejection) as caught:
        event_from_bytes(encode_event(po_event(currency="EUR")), "essex-police")
    assert caught.value.kind == "unsupported", "currency is checked before tenant (CONTRACT.md order)"

    with pytest.raises(Rejection) as caught:
        event_from_bytes(good, "essex-police")
    assert caught.value.kind == "tenant"

    with pytest.raises(Rejection) as caught:
        event_from_bytes(good, "kent-police", family="contract")
    assert caught.value.kind == "schema" and "purchase-order event on a contract topic" in caught.value.reason

    with pytest.raises(Rejection) as caught:
        event_from_bytes(None, "kent-police")
    assert caught.value.kind == "decode" and "tombstone" in caught.value.reason
