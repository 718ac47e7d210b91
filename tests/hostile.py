"""Hostile and absurd events, as JSON text, for every entry point's tests (issue 15's probes).

Each case turns a valid purchase-order event (a dict) into the JSON text of one hostile
event. ``status`` is what the webhook must answer for a batch holding it (400 for JSON the
contract's reader refuses, 422 for an event the models refuse); ``bluelight publish``
refuses the same line. Nothing of a batch holding one may be published.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = "@@HOSTILE@@"


@dataclass(frozen=True)
class Hostile:
    """One probe: ``build(valid event) -> JSON bytes of one hostile event``."""

    name: str
    build: Callable[[dict[str, Any]], bytes]
    status: int

    def __str__(self) -> str:
        return self.name


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], bytes]:
    """Set a dotted path ("supplier.name", "lines.0.description") to ``value``."""

    def build(event: dict[str, Any]) -> bytes:
        out = copy.deepcopy(event)
        *parents, last = path.split(".")
        here: Any = out
        for part in parents:
            here = here[int(part)] if part.isdigit() else here[part]
        here[int(last) if last.isdigit() else last] = value
        return json.dumps(out).encode()

    return build


def _raw(path: str, literal: bytes) -> Callable[[dict[str, Any]], bytes]:
    """Set ``path`` to a raw JSON literal (what json.dumps cannot write: escapes, huge numbers)."""
    placed = _set(path, PLACEHOLDER)
    return lambda event: placed(event).replace(json.dumps(PLACEHOLDER).encode(), literal)


def _duplicate_key(event: dict[str, Any]) -> bytes:
    first = json.dumps({"entity_id": "PO-FIRST"})[:-1].encode()  # '{"entity_id": "PO-FIRST"'
    return first + b", " + json.dumps(event).encode()[1:]


CASES: list[Hostile] = [
    # 500s before the fix
    Hostile("lone surrogate escape in a name", _raw("supplier.name", b'"Acme \\udfff"'), 400),
    Hostile("lone surrogate as raw bytes", _raw("supplier.name", b'"Acme \xed\xbf\xbf"'), 400),
    Hostile("lone surrogate in entity_id", _raw("entity_id", b'"PO-\\ud800"'), 400),
    Hostile("timestamp before year 1 in UTC", _set("occurred_at", "0001-01-01T00:00:00+01:00"), 422),
    Hostile("timestamp after year 9999 in UTC", _set("occurred_at", "9999-12-31T23:59:59-01:00"), 422),
    Hostile("nested 10,000 deep", _raw("lines", b"[" * 10_000 + b"]" * 10_000), 400),
    Hostile("5,000-digit integer", _raw("entity_version", b"7" * 5_000), 400),
    # absurd values that reached the views
    Hostile("order_date 0001-01-01", _set("order_date", "0001-01-01"), 422),
    Hostile("order_date 9999-12-31", _set("order_date", "9999-12-31"), 422),
    Hostile("order_date 0", _set("order_date", 0), 422),
    Hostile("occurred_at 0", _set("occurred_at", 0), 422),
    Hostile("member_id false", _set("member_id", False), 422),
    Hostile("event_id false", _set("event_id", False), 422),
    Hostile("source_system []", _set("source_system", []), 422),
    Hostile("duplicate JSON keys", _duplicate_key, 400),
    Hostile("NUL in a supplier name", _set("supplier.name", "Acme\x00 Ltd"), 422),
    Hostile("right-to-left override in a supplier name", _set("supplier.name", "Acme \u202eLtd"), 422),
    Hostile("1 MB description", _set("lines.0.description", "x" * 1_000_000), 422),
    Hostile("entity_version 2^63-1", _set("entity_version", 2**63 - 1), 422),
    # more of the same families
    Hostile("NaN quantity", _raw("lines.0.quantity", b"NaN"), 400),
    Hostile("1e999 unit price", _raw("lines.0.unit_price", b"1e999"), 400),
    Hostile("true for a quantity", _set("lines.0.quantity", True), 422),
    Hostile("a number for a string", _set("entity_id", 12345), 422),
    Hostile("10,000-character entity_id", _set("entity_id", "P" * 10_000), 422),
    Hostile("6,000 lines", _set("lines", [{}] * 6_000), 422),
]


def valid_order(entity_id: str = "PO-1") -> dict[str, Any]:
    """A valid purchase order as a partner sends it (the envelope's ids left to the adapter)."""
    return {
        "source_system": "kent-erp",
        "entity_id": entity_id,
        "entity_version": 1,
        "occurred_at": "2026-03-01T09:30:00Z",
        "status": "ISSUED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": {"member_supplier_id": "V-1", "name": "Acme Protective Ltd"},
        "lines": [
            {
                "line_id": "1",
                "description": "Goggles",
                "quantity": "3",
                "unit": "EA",
                "unit_price": "12.3457",
                "line_total": "37.04",
                "classification": {"scheme": "CPV", "code": "33735100"},
            }
        ],
        "total_net": "37.04",
    }
