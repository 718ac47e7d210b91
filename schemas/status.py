"""The supplier-status reference feed: a supplier's registered status (events.md, supplier-status).

Not a member family: the hub's own reference adapter publishes it, keyed by the national
supplier key, with the feed's timepoint as the version. The worker reads it beside the member
topics, and a change into a distress status raises alerts (docs/alerts.md).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError

from schemas import limits
from schemas.models import EventEnvelope, SupplierName, Text, Timestamp, _bounded, _Strict, rule_error
from schemas.serde import DecodeError, SchemaMismatch, decode_record, encode_record
from schemas.validate import Rejection, rejection_from

SCHEMA = "supplier-status"
PUBLISHER = "bluelight-national"
DISTRESS = frozenset(
    {
        "liquidation",
        "administration",
        "receivership",
        "insolvency-proceedings",
        "voluntary-arrangement",
        "dissolved",
    }
)
_NAMESPACE = uuid.UUID("6f1d3c52-57a1-4b8e-9a43-2f4d8c1e0b77")


def _status_word(value: str) -> str:
    if value != value.strip().lower() or not value:
        raise rule_error(f"{value!r} is not a status word (lower case, e.g. administration)")
    return value


StatusWord = Annotated[str, _Strict, AfterValidator(_bounded(limits.MAX_CODE)), AfterValidator(_status_word)]


class SupplierStatusEvent(EventEnvelope):
    """One registered status of one national supplier key."""

    supplier_key: Text
    name: SupplierName
    status: StatusWord
    status_at: Timestamp
    source: Text

    @property
    def distress(self) -> bool:
        """Whether the status is one of the distress statuses."""
        return self.status in DISTRESS


def event_id_for(supplier_key: str, version: int) -> str:
    """The deterministic event id of a status version (a resend has the same id)."""
    return str(uuid.uuid5(_NAMESPACE, f"{supplier_key}|{version}"))


def encode_status(event: SupplierStatusEvent) -> bytes:
    """Single-object Avro of a status event."""
    return encode_record(SCHEMA, event.model_dump())


def status_from_bytes(data: bytes | None) -> SupplierStatusEvent:
    """The status event in ``data``, or a Rejection saying what is wrong."""
    if data is None:
        raise Rejection("decode", "the record has no value (a tombstone)")
    try:
        name, record = decode_record(data)
    except SchemaMismatch as exc:
        raise Rejection("schema", str(exc)) from exc
    except DecodeError as exc:
        raise Rejection("decode", str(exc)) from exc
    if name != SCHEMA:
        raise Rejection("schema", f"a {name} record on the supplier-status topic")
    return validate_status(record)


def validate_status(record: dict[str, Any]) -> SupplierStatusEvent:
    """The model of a decoded record (or parsed JSON)."""
    try:
        return SupplierStatusEvent.model_validate(record)
    except ValidationError as exc:
        raise rejection_from(exc, SCHEMA) from exc
