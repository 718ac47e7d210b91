"""What the views need to know about an entity's current state, derived once at ingest.

Ingest turns each accepted event into *facts*: the supplier's national key, each line's
national category, whether it is live, and the amounts. The facts travel in the canonical
record and are what the entity-state table keeps, so rebuilding the views after a restart
never re-validates events or re-reads reference data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class EntityRef:
    """Which entity: the member that owns it, its family and the member's own id."""

    member: str
    family: str
    entity_id: str


@dataclass(frozen=True)
class LineFacts:
    """One order line: where it lands nationally and what it cost."""

    category: str
    category_name: str
    line_total: Decimal
    unit_price: Decimal
    price_key: str | None  # "CPV:33735100|EA"; None for partner-local codes
    scheme: str = ""  # the line's own classification, kept so held spend can be reclassified
    code: str = ""


@dataclass(frozen=True)
class OrderFacts:
    """A purchase order's contribution-relevant state."""

    live: bool
    order_date: date
    supplier_key: str
    supplier_name: str
    total_net: Decimal
    lines: tuple[LineFacts, ...]
    contract_ref: str = ""  # the member's own contract it was bought under ("": none named)


@dataclass(frozen=True)
class ContractFacts:
    """A contract's contribution-relevant state."""

    live: bool
    supplier_key: str
    supplier_name: str
    category: str
    category_name: str
    end_date: date
    max_extent_date: date | None
    value: Decimal
    scheme: str = ""  # the contract's own classification, kept so it can be reclassified
    code: str = ""
    framework_ref: str = ""  # the national framework it was let under ("": none)


@dataclass(frozen=True)
class SupplierFacts:
    """A member's supplier record: what it says of the supplier's size and social value."""

    supplier_key: str
    name: str
    active: bool = True
    sme: bool | None = None
    vcse: bool | None = None


@dataclass(frozen=True)
class StatusFacts:
    """A supplier's registered status (the national supplier-status feed), and the one before it."""

    supplier_key: str
    name: str
    status: str
    status_at: datetime
    previous: str = ""  # set by stage one from the state it replaces ("": none known)


Facts = OrderFacts | ContractFacts | SupplierFacts | StatusFacts


def with_previous(new: Facts, old: Facts | None) -> Facts:
    """A newer status noting the status it replaces (other facts are returned as they are)."""
    if not isinstance(new, StatusFacts):
        return new
    previous = old.status if isinstance(old, StatusFacts) else ""
    return StatusFacts(new.supplier_key, new.name, new.status, new.status_at, previous)


@dataclass(frozen=True)
class Current:
    """An entity's current (highest accepted version) state as the views see it."""

    ref: EntityRef
    version: int
    published_at: datetime
    facts: Facts


def facts_to_json(facts: Facts) -> dict[str, Any]:
    """JSON-compatible form (decimals and dates as strings)."""
    if isinstance(facts, OrderFacts):
        return {
            "live": facts.live,
            "order_date": facts.order_date.isoformat(),
            "supplier_key": facts.supplier_key,
            "supplier_name": facts.supplier_name,
            "total_net": str(facts.total_net),
            "lines": [
                [
                    ln.category,
                    ln.category_name,
                    str(ln.line_total),
                    str(ln.unit_price),
                    ln.price_key,
                    ln.scheme,
                    ln.code,
                ]
                for ln in facts.lines
            ],
            "contract_ref": facts.contract_ref,
        }
    if isinstance(facts, ContractFacts):
        return {
            "live": facts.live,
            "supplier_key": facts.supplier_key,
            "supplier_name": facts.supplier_name,
            "category": facts.category,
            "category_name": facts.category_name,
            "end_date": facts.end_date.isoformat(),
            "max_extent_date": facts.max_extent_date.isoformat() if facts.max_extent_date else None,
            "value": str(facts.value),
            "scheme": facts.scheme,
            "code": facts.code,
            "framework_ref": facts.framework_ref,
        }
    if isinstance(facts, StatusFacts):
        return {
            "supplier_key": facts.supplier_key,
            "name": facts.name,
            "status": facts.status,
            "status_at": facts.status_at.isoformat(),
            "previous": facts.previous,
        }
    return {
        "supplier_key": facts.supplier_key,
        "name": facts.name,
        "active": facts.active,
        "sme": facts.sme,
        "vcse": facts.vcse,
    }


def facts_from_json(family: str, data: dict[str, Any]) -> Facts:
    """Inverse of :func:`facts_to_json` for an entity of ``family``."""
    if family == "purchase-order":
        return OrderFacts(
            live=bool(data["live"]),
            order_date=date.fromisoformat(data["order_date"]),
            supplier_key=data["supplier_key"],
            supplier_name=data["supplier_name"],
            total_net=Decimal(data["total_net"]),
            lines=tuple(_line(line) for line in data["lines"]),
            contract_ref=data.get("contract_ref", ""),
        )
    if family == "contract":
        extent = data["max_extent_date"]
        return ContractFacts(
            live=bool(data["live"]),
            supplier_key=data["supplier_key"],
            supplier_name=data["supplier_name"],
            category=data["category"],
            category_name=data["category_name"],
            end_date=date.fromisoformat(data["end_date"]),
            max_extent_date=date.fromisoformat(extent) if extent else None,
            value=Decimal(data["value"]),
            scheme=data.get("scheme", ""),
            code=data.get("code", ""),
            framework_ref=data.get("framework_ref", ""),
        )
    if family == "supplier":
        return SupplierFacts(
            supplier_key=data["supplier_key"],
            name=data["name"],
            active=bool(data.get("active", True)),
            sme=data.get("sme"),
            vcse=data.get("vcse"),
        )
    if family == "supplier-status":
        return StatusFacts(
            supplier_key=data["supplier_key"],
            name=data["name"],
            status=data["status"],
            status_at=datetime.fromisoformat(data["status_at"]),
            previous=data.get("previous", ""),
        )
    raise ValueError(f"unknown family {family!r} in entity facts")


def _line(data: list[Any]) -> LineFacts:
    # records written before lines kept their classification have 5 fields
    c, n, t, p, k, *classification = data
    scheme, code = classification if classification else ("", "")
    return LineFacts(
        category=c,
        category_name=n,
        line_total=Decimal(t),
        unit_price=Decimal(p),
        price_key=k,
        scheme=scheme,
        code=code,
    )
