"""supplier-exposure: which partners and categories depend on a supplier.

Key: the national supplier key. A live order contributes its ``total_net`` and its lines'
categories; a live contract its ``value`` and category. The display name is the one on
the most recently published contribution (ties: the smaller name), since partners spell
suppliers differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from streams.facts import ContractFacts, Current, OrderFacts
from streams.views.render import money

VIEW = "supplier-exposure"


@dataclass(frozen=True)
class ExposurePart:
    """One live order's or live contract's exposure to its supplier."""

    member: str
    name: str
    published_at: datetime
    order_total: Decimal
    contract_value: Decimal
    categories: frozenset[str]


def exposure_parts(current: Current) -> dict[str, ExposurePart]:
    """The part an entity contributes, by supplier key (at most one)."""
    facts = current.facts
    if isinstance(facts, OrderFacts) and facts.live:
        part = ExposurePart(
            member=current.ref.member,
            name=facts.supplier_name,
            published_at=current.published_at,
            order_total=facts.total_net,
            contract_value=Decimal(0),
            categories=frozenset(line.category for line in facts.lines),
        )
        return {facts.supplier_key: part}
    if isinstance(facts, ContractFacts) and facts.live:
        part = ExposurePart(
            member=current.ref.member,
            name=facts.supplier_name,
            published_at=current.published_at,
            order_total=Decimal(0),
            contract_value=facts.value,
            categories=frozenset({facts.category}),
        )
        return {facts.supplier_key: part}
    return {}


def supplier_exposure_item(supplier_key: str, parts: Iterable[ExposurePart]) -> dict[str, Any] | None:
    """The view item of one supplier, or ``None`` when nothing live names it."""
    parts = list(parts)
    if not parts:
        return None
    newest = max(p.published_at for p in parts)
    return {
        "supplier_key": supplier_key,
        "name": min(p.name for p in parts if p.published_at == newest),
        "order_total": money(sum((p.order_total for p in parts), Decimal(0))),
        "live_contract_value": money(sum((p.contract_value for p in parts), Decimal(0))),
        "members": sorted({p.member for p in parts}),
        "categories": sorted(set().union(*(p.categories for p in parts))),
    }
