"""Turn data into an event or a Rejection that says what was wrong and where.

Every rejected event goes to its sender's dead-letter topic with a kind and a human reason
(events.md, "What is rejected, and how"). The kinds:

- ``decode``: the bytes are not a single-object-encoded record of a known schema (schemas.serde);
- ``schema``: the record has the wrong shape: a missing field, a wrong type, an unknown enum
  symbol, a writer schema that cannot be resolved to ours;
- ``validation``: the shape is right but a contract rule is broken (totals, dates, identifiers);
- ``tenant``: the event names another member than the one whose topic it arrived on;
- ``unsupported``: valid, but outside what v1 handles (a currency other than GBP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas import limits
from schemas.models import MODEL_BY_FAMILY, RULE_ERROR, Contract, Event, PurchaseOrder, family_of
from schemas.vocabulary import FAMILIES, Family

RejectionKind = Literal["decode", "schema", "validation", "tenant", "unsupported"]
REJECTION_KINDS: tuple[RejectionKind, ...] = ("decode", "schema", "validation", "tenant", "unsupported")
SUPPORTED_CURRENCIES = frozenset({"GBP"})
_MAX_LISTED = 5  # errors spelled out in one reason; the rest are counted
_MAX_REASON = 300  # characters of one error's reason


class Rejection(Exception):
    """Why an event was refused: ``kind``, the dotted ``field`` path (or None), and a ``reason``."""

    def __init__(self, kind: RejectionKind, reason: str, field: str | None = None) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind: RejectionKind = kind
        self.reason = reason
        self.field = field


def validate_event(family: str, data: Mapping[str, Any]) -> Event:
    """The event model of ``family`` built from ``data`` (a decoded Avro record or parsed JSON)."""
    if family not in FAMILIES:
        raise Rejection("schema", f"unknown event family {family!r}: expected one of {', '.join(FAMILIES)}")
    try:
        event: Event = MODEL_BY_FAMILY[cast(Family, family)].model_validate(data)
    except ValidationError as exc:
        raise rejection_from(exc, family) from exc
    return event


def check_supported(event: Event) -> None:
    """Refuse what is valid but not handled in v1: a currency other than GBP."""
    # isinstance, not getattr: pydantic answers a missing attribute slowly (an exception inside)
    if not isinstance(event, PurchaseOrder | Contract):
        return
    currency = event.currency
    if currency not in SUPPORTED_CURRENCIES:
        raise Rejection(
            "unsupported",
            f"currency: {currency} is not supported; v1 views aggregate GBP only "
            f"({family_of(event)} {event.entity_id} v{event.entity_version})",
            field="currency",
        )


def check_tenant(event: Event, member: str) -> None:
    """Refuse an event that claims to come from another member than the topic's owner."""
    if event.member_id != member:
        raise Rejection(
            "tenant",
            f"member_id: the event claims member {event.member_id!r} but arrived on the topic of "
            f"{member!r}; a member may only publish its own events",
            field="member_id",
        )


def rejection_from(exc: ValidationError, family: str) -> Rejection:
    """One Rejection for all of pydantic's errors: shape errors first, then broken rules."""
    errors = exc.errors(include_url=False)
    shape = [e for e in errors if e["type"] != RULE_ERROR]
    chosen = shape or errors
    kind: RejectionKind = "schema" if shape else "validation"
    reasons = [_cut(f"{field_path(e['loc'])}: {_describe(e, family)}") for e in chosen[:_MAX_LISTED]]
    if len(chosen) > _MAX_LISTED:
        reasons.append(f"and {len(chosen) - _MAX_LISTED} more")
    return Rejection(kind, "; ".join(reasons), field=field_path(chosen[0]["loc"]) or None)


def field_path(loc: Sequence[int | str]) -> str:
    """Pydantic's error location as a path: ("lines", 2, "line_total") -> "lines[2].line_total"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _describe(error: ErrorDetails, family: str) -> str:
    kind = error["type"]
    if kind == RULE_ERROR:
        return error["msg"]
    if kind == "missing":
        return "missing (the field is required)"
    if kind == "extra_forbidden":
        return f"is not a field of a {family} event"
    return f"{error['msg'][:1].lower()}{error['msg'][1:]} (got {limits.shown(error.get('input'))})"


def _cut(reason: str) -> str:
    """One error's reason, at most ``_MAX_REASON`` characters (a path into a huge body is long too)."""
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."
