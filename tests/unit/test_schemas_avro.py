"""The .avsc files are the contract: the models agree with them, versions evolve FULL_TRANSITIVE,
and fingerprints are what the Avro spec's algorithm gives."""

from __future__ import annotations

import io
import itertools
import json
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schema_examples import avro_data, events

from schemas.models import MODEL_BY_FAMILY, Event, family_of, to_avro
from schemas.serde import catalogue, decode_event, decode_record, encode_event, encode_record
from schemas.validate import validate_event
from topologies.naming import FAMILIES

AVRO_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avro"
NAMESPACE = "uk.bluelight.events"


def raw_schema(name: str, version: int) -> dict[str, Any]:
    return json.loads((AVRO_DIR / name / f"v{version}.avsc").read_text())


def versions_of(name: str) -> list[int]:
    return sorted(int(p.stem[1:]) for p in (AVRO_DIR / name).glob("v*.avsc"))


# --- the files --------------------------------------------------------------------------------------


def test_every_family_has_schemas_and_the_catalogue_lists_every_file() -> None:
    files = sorted(AVRO_DIR.rglob("*.avsc"))
    listed = {(v.name, v.version) for v in catalogue()}
    assert {(p.parent.relative_to(AVRO_DIR).as_posix(), int(p.stem[1:])) for p in files} == listed
    for family in FAMILIES:
        assert versions_of(family)[0] == 1
        assert versions_of(family) == list(range(1, len(versions_of(family)) + 1)), "no gaps in versions"
    assert versions_of("purchase-order") == [1, 2]


@pytest.mark.parametrize("family", FAMILIES)
def test_envelope_and_conventions(family: str) -> None:
    for version in versions_of(family):
        schema = raw_schema(family, version)
        assert schema["namespace"] == NAMESPACE
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        envelope = "event_id member_id source_system entity_id entity_version occurred_at published_at"
        assert [f["name"] for f in schema["fields"]][:7] == envelope.split()
        assert fields["entity_version"] == "long"
        for stamp in ("occurred_at", "published_at"):
            assert fields[stamp] == {"type": "long", "logicalType": "timestamp-millis"}
        for field in _all_fields(schema):
            kind = field["type"]
            if isinstance(kind, list):  # optional: ["null", T] with default null
                assert kind[0] == "null" and len(kind) == 2 and field["default"] is None, field
            if isinstance(kind, dict) and kind.get("logicalType") == "decimal":
                assert kind["type"] == "bytes" and kind["precision"] == 18
                assert kind["scale"] == (4 if field["name"] in ("quantity", "unit_price") else 2)


def _all_fields(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        for field in schema.get("fields", []):
            found.append(field)
            found.extend(_all_fields(field["type"]))
        if schema.get("type") == "array":
            found.extend(_all_fields(schema["items"]))
    elif isinstance(schema, list):
        for branch in schema:
            found.extend(_all_fields(branch))
    return found


# --- model and schema agree ----------------------------------------------------------------------------


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional) of a model field annotation."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        assert len(inner) == 1
        return inner[0], True
    return annotation, False


def _agree(schema: dict[str, Any], model: type[BaseModel], where: str) -> None:
    avro_fields = [f["name"] for f in schema["fields"]]
    assert avro_fields == list(model.model_fields), f"{where}: fields differ in names or order"
    for field in schema["fields"]:
        info = model.model_fields[field["name"]]
        here = f"{where}.{field['name']}"
        inner, optional = _unwrap(info.annotation)
        avro_type = field["type"]
        if isinstance(avro_type, list):
            assert optional and not info.is_required() and info.default is None, f"{here}: optional"
            avro_type = avro_type[1]
        else:
            assert not optional and info.is_required(), f"{here}: required"
        _agree_type(avro_type, inner, here)


def _agree_type(avro_type: Any, inner: Any, here: str) -> None:
    if isinstance(avro_type, str):
        expected = {"string": str, "long": int, "boolean": bool}[avro_type]
        assert inner is expected, here
        return
    kind, logical = avro_type["type"], avro_type.get("logicalType")
    if logical == "decimal":
        assert inner is Decimal, here
    elif logical == "date":
        assert inner is date, here
    elif logical == "timestamp-millis":
        assert inner is datetime, here
    elif kind == "enum":
        assert issubclass(inner, Enum) and [m.value for m in inner] == avro_type["symbols"], here
        assert inner.__name__ == avro_type["name"], here
    elif kind == "record":
        assert inner.__name__ == avro_type["name"], here
        _agree(avro_type, inner, here)
    elif kind == "array":
        assert typing.get_origin(inner) is list, here
        _agree_type(avro_type["items"], typing.get_args(inner)[0], f"{here}[]")
    else:
        raise AssertionError(f"{here}: unexpected Avro type {avro_type}")


@pytest.mark.parametrize("family", FAMILIES)
def test_model_mirrors_latest_schema(family: str) -> None:
    latest = raw_schema(family, versions_of(family)[-1])
    model = MODEL_BY_FAMILY[family]  # type: ignore[index]
    assert latest["name"] == model.__name__
    _agree(latest, model, family)


def _fits(schema: Any, value: Any, here: str = "") -> None:
    """Values from to_avro have exactly the schema's scale and millisecond timestamps."""
    if isinstance(schema, list):
        if value is not None:
            _fits(schema[1], value, here)
        return
    if isinstance(schema, dict):
        logical = schema.get("logicalType")
        if logical == "decimal":
            assert value.as_tuple().exponent == -schema["scale"], f"{here}: {value!r}"
        elif logical == "timestamp-millis":
            assert value.utcoffset().total_seconds() == 0 and value.microsecond % 1000 == 0, here
        elif schema["type"] == "record":
            for f in schema["fields"]:
                _fits(f["type"], value[f["name"]], f"{here}.{f['name']}")
        elif schema["type"] == "array":
            for i, item in enumerate(value):
                _fits(schema["items"], item, f"{here}[{i}]")
        elif schema["type"] == "enum":
            assert type(value) is str and value in schema["symbols"], here


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_round_trip_model_avro_bytes_model(event: Event) -> None:
    family = family_of(event)
    record = to_avro(event)
    _fits(raw_schema(family, versions_of(family)[-1]), record)
    data = encode_event(event)
    decoded_family, decoded = decode_event(data)
    assert decoded_family == family
    assert decoded == record
    again = validate_event(decoded_family, decoded)
    assert again == event
    assert again.model_dump(mode="json") == event.model_dump(mode="json")


@settings(max_examples=100, deadline=None)
@given(events())
def test_hub_bytes_equal_plain_fastavro_bytes(event: Event) -> None:
    """Our explicit logical-type conversion writes what fastavro's own would, and reads it back."""
    family = family_of(event)
    schema = parse_schema(raw_schema(family, versions_of(family)[-1]))
    out = io.BytesIO()
    schemaless_writer(out, schema, to_avro(event))
    data = encode_event(event)
    assert data[10:] == out.getvalue()
    assert schemaless_reader(io.BytesIO(data[10:]), schema, None) == to_avro(event)


# --- FULL_TRANSITIVE: every version reads every other's data, both directions --------------------------


def _expected(value: Any, writer: Any, reader: Any, w_named: dict[str, Any], r_named: dict[str, Any]) -> Any:
    """What Avro schema resolution should make of ``value`` (written with ``writer``) as ``reader``."""
    writer = w_named.get(writer, writer) if isinstance(writer, str) else writer
    reader = r_named.get(reader, reader) if isinstance(reader, str) else reader
    if isinstance(reader, list) or isinstance(writer, list):
        if value is None:
            return None
        w = [b for b in writer if b != "null"][0] if isinstance(writer, list) else writer
        r = [b for b in reader if b != "null"][0] if isinstance(reader, list) else reader
        return _expected(value, w, r, w_named, r_named)
    if isinstance(reader, dict) and reader["type"] == "record":
        for named, schema in ((w_named, writer), (r_named, reader)):
            named[schema["name"]] = schema
            named[f"{schema.get('namespace', NAMESPACE)}.{schema['name']}"] = schema
        w_fields = {f["name"]: f["type"] for f in writer["fields"]}
        out = {}
        for field in reader["fields"]:
            if field["name"] in w_fields:
                out[field["name"]] = _expected(
                    value[field["name"]], w_fields[field["name"]], field["type"], w_named, r_named
                )
            else:
                assert "default" in field, f"{field['name']} was added without a default"
                out[field["name"]] = field["default"]
        return out
    if isinstance(reader, dict) and reader["type"] == "array":
        return [_expected(v, writer["items"], reader["items"], w_named, r_named) for v in value]
    if isinstance(reader, dict) and reader["type"] == "map":
        w_values, r_values = writer["values"], reader["values"]
        return {k: _expected(v, w_values, r_values, w_named, r_named) for k, v in value.items()}
    if isinstance(reader, dict) and reader["type"] == "enum":
        r_named[reader["name"]] = reader
        if isinstance(writer, dict):
            w_named[writer["name"]] = writer
        assert value in reader["symbols"], f"{value} is not a symbol of the reader's {reader['name']}"
    return value


PAIRS = [
    (name, w, r)
    for name in sorted({v.name for v in catalogue()})
    for w, r in itertools.product(versions_of(name), repeat=2)
]


@pytest.mark.parametrize(("name", "writer", "reader"), PAIRS, ids=[f"{n}:v{w}->v{r}" for n, w, r in PAIRS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_full_transitive(name: str, writer: int, reader: int, data: st.DataObject) -> None:
    w_raw, r_raw = raw_schema(name, writer), raw_schema(name, reader)
    value = data.draw(avro_data(w_raw), label="written")
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(w_raw), value)
    read = schemaless_reader(io.BytesIO(out.getvalue()), parse_schema(w_raw), parse_schema(r_raw))
    assert read == _expected(value, w_raw, r_raw, {}, {})
    # and the hub's own path: single-object encoding with the writer version, resolved to the latest
    if reader == versions_of(name)[-1]:
        assert decode_record(encode_record(name, value, version=writer)) == (name, read)


def test_old_reader_ignores_new_optional_field() -> None:
    v2 = parse_schema(raw_schema("purchase-order", 2))
    v1 = parse_schema(raw_schema("purchase-order", 1))
    event = validate_event(
        "purchase-order",
        {
            "event_id": "0b6f1f8e-1d8a-5c3e-9d0e-3a1f4c2b7e10",
            "member_id": "kent-police",
            "source_system": "sap-s4",
            "entity_id": "PO-1",
            "entity_version": 1,
            "occurred_at": "2026-03-01T09:30:00Z",
            "published_at": "2026-03-01T09:30:00Z",
            "status": "ISSUED",
            "order_date": "2026-03-01",
            "currency": "GBP",
            "supplier": {"member_supplier_id": "V", "name": "Acme"},
            "lines": [
                {
                    "line_id": "1",
                    "description": "x",
                    "quantity": "1",
                    "unit": "EA",
                    "unit_price": "2",
                    "line_total": "2",
                    "classification": {"scheme": "CPV", "code": "1"},
                }
            ],
            "total_net": "2",
            "buyer_reference": "REQ-778",
        },
    )
    data = encode_event(event)
    old: dict[str, Any] = schemaless_reader(io.BytesIO(data[10:]), v2, v1)  # type: ignore[assignment]
    assert "buyer_reference" not in old
    assert old == {k: v for k, v in to_avro(event).items() if k != "buyer_reference"}
    # and back: v1 data read by the hub gets the default
    v1_bytes = encode_record("purchase-order", old, version=1)
    assert decode_event(v1_bytes)[1]["buyer_reference"] is None


# --- fingerprints, computed from the spec's algorithm -----------------------------------------------------

EMPTY64 = 0xC15D213AA4D7A795


def _crc64_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY64 & -(fp & 1))
        table.append(fp)
    return table


CRC64_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    fp = EMPTY64
    for byte in data:
        fp = (fp >> 8) ^ CRC64_TABLE[(fp ^ byte) & 0xFF]
    return fp


PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
KEEP_ORDER = ("name", "type", "fields", "symbols", "items", "values", "size")


def canonical(schema: Any, namespace: str | None = None, seen: set[str] | None = None) -> Any:
    """Parsing Canonical Form (Avro spec): PRIMITIVES, FULLNAMES, STRIP, ORDER."""
    seen = set() if seen is None else seen
    if isinstance(schema, list):
        return [canonical(s, namespace, seen) for s in schema]
    if isinstance(schema, str):
        if schema in PRIMITIVES or "." in schema or namespace is None:
            return schema
        return f"{namespace}.{schema}"
    kind = schema["type"]
    if kind in PRIMITIVES:
        return kind
    out: dict[str, Any] = {}
    if kind in ("record", "enum", "fixed"):
        name = schema["name"]
        space = schema.get("namespace", namespace)
        full = name if "." in name or not space else f"{space}.{name}"
        if full in seen:
            return full
        seen.add(full)
        out["name"] = full
        namespace = full.rpartition(".")[0] or None
    out["type"] = kind
    if kind == "record":
        out["fields"] = [
            {"name": f["name"], "type": canonical(f["type"], namespace, seen)} for f in schema["fields"]
        ]
    if kind == "enum":
        out["symbols"] = schema["symbols"]
    if kind == "array":
        out["items"] = canonical(schema["items"], namespace, seen)
    if kind == "map":
        out["values"] = canonical(schema["values"], namespace, seen)
    if kind == "fixed":
        out["size"] = int(schema["size"])
    return {k: out[k] for k in KEEP_ORDER if k in out}


def canonical_text(schema: Any) -> str:
    return json.dumps(canonical(schema), separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "signed"),
    [  # the Avro project's published CRC-64-AVRO test vectors (share/test/data/schema-tests.txt)
        ('"null"', 7195948357588979594),
        ('"boolean"', -6970731678124411036),
        ('"int"', 8247732601305521295),
        ('"long"', -3434872931120570953),
        ('{"name":"foo","type":"fixed","size":15}', 1756455273707447556),
        ('{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651),
    ],
)
def test_crc64_avro_matches_published_vectors(text: str, signed: int) -> None:
    assert crc64_avro(text.encode()) == signed % 2**64


@pytest.mark.parametrize("entry", list(catalogue()), ids=str)
def test_fingerprint_is_crc64_of_parsing_canonical_form(entry: Any) -> None:
    raw = json.loads(entry.path.read_text())
    text = canonical_text(raw)
    assert text == entry.canonical_form
    fingerprint = crc64_avro(text.encode("utf-8")).to_bytes(8, "little")
    assert entry.fingerprint == fingerprint
    assert entry.header == b"\xc3\x01" + fingerprint


def test_fingerprint_ignores_docs_but_not_fields() -> None:
    v1 = raw_schema("purchase-order", 1)
    documented = json.loads(json.dumps(v1))
    documented["doc"] = "reworded"
    assert crc64_avro(canonical_text(documented).encode()) == crc64_avro(canonical_text(v1).encode())
    by_version = {v.version: v.fingerprint for v in catalogue().history("purchase-order")}
    assert by_version[1] != by_version[2]
