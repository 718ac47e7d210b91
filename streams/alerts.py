"""Supplier alerts: a supplier's status changed into distress; who is exposed, and what to do.

The national supplier-status feed reaches stage one like a member's events (the national team
is its publisher, the supplier key its entity), so versions and replays are handled as for any
entity, and stage one notes the status each version replaces (``StatusFacts.previous``). The
status then goes, as a part, to the supplier's key of supplier-exposure, where stage two holds
every live order and contract with the supplier and its standing in each category: there the
alerts are made, one per exposed member and one national (views.md, "Supplier status and
alerts").

``alert_id`` is a function of the supplier, the status change and the member, so a replay after a
crash sends the same alert again, recognisably (consumers keep the first of an id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.status import DISTRESS
from streams.facts import Current, StatusFacts
from streams.views.render import money, timestamp
from streams.views.supplier_exposure import ExposurePart, Standing
from topologies.naming import NATIONAL_ALERTS, alert_topic


@dataclass(frozen=True)
class StatusPart:
    """A supplier's current registered status under its supplier-exposure key."""

    name: str
    status: str
    status_at: datetime
    previous: str

    @property
    def raises_alert(self) -> bool:
        """A change into a distress status (a repeat, or a change out of distress, sends nothing)."""
        return self.status in DISTRESS and self.status != self.previous


def status_parts(current: Current) -> dict[str, StatusPart]:
    """The part a supplier-status entity gives to its supplier's exposure key."""
    facts = current.facts
    if not isinstance(facts, StatusFacts):
        return {}
    return {facts.supplier_key: StatusPart(facts.name, facts.status, facts.status_at, facts.previous)}


@dataclass(frozen=True)
class Alert:
    """One alert, ready to send: its topic, key (the alert id) and JSON value."""

    topic: str
    alert_id: str
    body: dict[str, Any]

    @property
    def value(self) -> bytes:
        """The record value: compact JSON."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


def alert_id(supplier_key: str, status: StatusPart, member: str | None) -> str:
    """The same status change of the same supplier, for the same reader, gives the same id."""
    text = "|".join((supplier_key, status.previous, status.status, timestamp(status.status_at), member or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def alerts_for(supplier_key: str, status: StatusPart, parts: Iterable[object]) -> list[Alert]:
    """One alert per member exposed now (a live order or contract), and one national alert.

    Nothing when no member is exposed: the national team hears only of suppliers someone uses.
    """
    held = list(parts)
    exposures = [p for p in held if isinstance(p, ExposurePart)]
    standings = {p.category: p.alternatives for p in held if isinstance(p, Standing)}
    members = sorted({p.member for p in exposures})
    out = [
        _alert(alert_topic(m), supplier_key, status, m, [p for p in exposures if p.member == m], standings)
        for m in members
    ]
    if members:
        national = _alert(NATIONAL_ALERTS, supplier_key, status, None, exposures, standings)
        national.body["members"] = members
        out.append(national)
    return out


def _alert(
    topic: str,
    supplier_key: str,
    status: StatusPart,
    member: str | None,
    exposures: list[ExposurePart],
    standings: dict[str, tuple[str, ...]],
) -> Alert:
    categories = sorted(set().union(*(p.categories for p in exposures)))
    contracts = sorted(
        (
            {
                **({"member_id": p.member} if member is None else {}),
                "entity_id": p.entity_id,
                "end_date": p.end_date.isoformat() if p.end_date else None,
                "value": money(p.contract_value),
            }
            for p in exposures
            if p.end_date is not None
        ),
        key=lambda c: (c.get("member_id", ""), c["entity_id"]),
    )
    ident = alert_id(supplier_key, status, member)
    body: dict[str, Any] = {
        "alert_id": ident,
        "supplier_key": supplier_key,
        "name": status.name,
        "status": status.status,
        "previous_status": status.previous or None,
        "status_at": timestamp(status.status_at),
        "member_id": member,
        "order_total": money(sum((p.order_total for p in exposures), Decimal(0))),
        "live_contract_value": money(sum((p.contract_value for p in exposures), Decimal(0))),
        "categories": categories,
        "contracts": contracts,
        "alternatives": {c: list(standings.get(c, ())) for c in categories},
    }
    return Alert(topic, ident, body)
