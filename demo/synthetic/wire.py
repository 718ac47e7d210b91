"""Events as bytes on the wire: Avro single-object encoding, or the raw bytes a bad event carries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from demo.synthetic.events import SyntheticEvent
from demo.synthetic.values import Json, parse_timestamp
from schemas import serde


def wire_bytes(event: SyntheticEvent) -> bytes:
    """What to publish for ``event``: its ``raw`` bytes, else its record in Avro single-object encoding.

    Works for bad events too (a model would refuse them): the record is written as it is, so
    the hub, not the publisher, finds what is wrong with it.
    """
    if event.raw is not None:
        return event.raw
    return serde.encode_record(event.family, avro_record(event.event))


_DECIMALS = frozenset({"total_net", "value", "quantity", "unit_price", "line_total"})
_DATES = frozenset({"order_date", "start_date", "end_date", "max_extent_date"})
_TIMESTAMPS = frozenset({"occurred_at", "published_at"})


def avro_record(event: Json) -> Json:
    """A JSON-form event with Python values where Avro has logical types (Decimal, date, datetime)."""

    def value(name: str, v: Any) -> Any:
        if v is None:
            return None
        if name in _DECIMALS:
            return Decimal(v)
        if name in _DATES:
            return date.fromisoformat(v)
        if name in _TIMESTAMPS:
            return parse_timestamp(v)
        if isinstance(v, dict):
            return {k: value(k, x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(name, x) for x in v]
        return v

    return {k: value(k, v) for k, v in event.items()}
