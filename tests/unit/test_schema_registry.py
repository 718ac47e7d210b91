"""What a worker learns from the schema registry topic, and what it refuses (schemas/registry.py).

A record on that topic is input like any other: a bad one is refused with a reason (the feed
logs it and goes on), and nothing learned can replace a version the release ships or add a
family it does not read.
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from fastavro import schemaless_writer
from schema_examples import order

from schemas.models import PurchaseOrder, to_avro
from schemas.registry import learned_version, registry_record, registry_records
from schemas.serde import (
    CatalogueError,
    SchemaVersion,
    UnknownFingerprint,
    catalogue,
    decode_record,
    schema_version,
)
from schemas.vocabulary import FAMILIES


def a_newer_order_schema() -> dict[str, Any]:
    """purchase-order as a v99 with one more optional field: a release this one does not know."""
    raw: dict[str, Any] = copy.deepcopy(catalogue().latest("purchase-order").raw)
    raw["fields"] = [*raw["fields"], {"name": "tomorrow", "type": ["null", "string"], "default": None}]
    return raw


def test_the_release_registers_every_event_version_and_only_those() -> None:
    names = {json.loads(value)["name"] for _, value in registry_records()}
    assert names == set(FAMILIES)
    for key, value in registry_records():
        assert learned_version(key, value).fingerprint.hex().encode() == key


def held(name: str, version: object = 1, schema: object = None) -> bytes:
    return json.dumps({"name": name, "version": version, "schema": schema or {}}).encode()


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        (None, b"{}", "without a key"),
        (b"00", b"not json", "not a schema record"),
        (b"00", json.dumps({"name": "purchase-order"}).encode(), "not a schema record"),
        (b"00", held("view/category-spend"), "not an event"),
        (b"00", held("purchase-order", 0), "not an event"),
        (b"00", held("purchase-order", 3, {"type": "nope"}), "not a usable Avro schema"),
    ],
)
def test_bad_registry_records_are_refused_with_a_reason(key: bytes | None, value: bytes, says: str) -> None:
    with pytest.raises(CatalogueError, match=says):
        learned_version(key, value)


def test_a_record_whose_key_is_not_its_fingerprint_is_refused() -> None:
    key, value = registry_record(catalogue().latest("purchase-order"))
    with pytest.raises(CatalogueError, match="fingerprint"):
        learned_version(b"0" * len(key), value)


def test_a_newer_version_is_learned_as_a_writer_and_read_with_the_release_s_latest() -> None:
    raw = a_newer_order_schema()
    newer = schema_version("purchase-order", 99, raw)
    key, value = newer.fingerprint.hex().encode(), held("purchase-order", 99, raw)
    latest = catalogue().latest("purchase-order")
    message = written_with(newer, {**to_avro(PurchaseOrder.model_validate(order())), "tomorrow": "hello"})
    with pytest.raises(UnknownFingerprint):
        decode_record(message)
    assert catalogue().learn(learned_version(key, value)) is True
    assert catalogue().learn(newer) is False  # known now
    assert catalogue().learn(learned_version(*registry_record(latest))) is False  # shipped: never replaced
    assert catalogue().latest("purchase-order") is latest  # still the reader
    name, record = decode_record(message)
    assert name == "purchase-order" and record["entity_id"] == "PO-1001" and "tomorrow" not in record


def written_with(version: SchemaVersion, record: dict[str, Any]) -> bytes:
    """``record`` single-object encoded with ``version``, as a newer release's adapter would."""
    out = io.BytesIO()
    out.write(version.header)
    schemaless_writer(out, version.wire_schema, version.codec.to_wire(record))
    return out.getvalue()
