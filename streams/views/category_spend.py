"""category-spend: what every partner spends in a national category, by month and partner.

Key: the national category id. An order contributes one part per category its lines land
in: the sum of those lines, its month, member and supplier. Cancelled orders contribute
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from streams.facts import Current, OrderFacts
from streams.views.render import money
from streams.views.tally import CountedSums, Multiset

VIEW = "category-spend"


@dataclass(frozen=True, slots=True)
class SpendPart:
    """One live order's spend in one category."""

    name: str
    member: str
    month: str
    supplier_key: str
    total: Decimal


def spend_parts(current: Current) -> dict[str, SpendPart]:
    """The parts an entity contributes, by category (empty unless a live order)."""
    facts = current.facts
    if not isinstance(facts, OrderFacts) or not facts.live:
        return {}
    totals: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for line in facts.lines:
        totals[line.category] = totals.get(line.category, Decimal(0)) + line.line_total
        names.setdefault(line.category, line.category_name)
    month = facts.order_date.strftime("%Y-%m")
    return {
        category: SpendPart(
            name=names[category],
            member=current.ref.member,
            month=month,
            supplier_key=facts.supplier_key,
            total=total,
        )
        for category, total in totals.items()
    }


def category_spend_item(category: str, parts: Iterable[SpendPart]) -> dict[str, Any] | None:
    """The view item of one category, or ``None`` when no live order contributes."""
    parts = list(parts)
    if not parts:
        return None
    by_month: dict[str, Decimal] = {}
    by_member: dict[str, Decimal] = {}
    for part in parts:
        by_month[part.month] = by_month.get(part.month, Decimal(0)) + part.total
        by_member[part.member] = by_member.get(part.member, Decimal(0)) + part.total
    return {
        "category": category,
        "name": min(p.name for p in parts),
        "total_net": money(sum((p.total for p in parts), Decimal(0))),
        "order_count": len(parts),
        "by_month": {m: money(by_month[m]) for m in sorted(by_month)},
        "by_member": {m: money(by_member[m]) for m in sorted(by_member)},
        "supplier_count": len({p.supplier_key for p in parts}),
    }


@dataclass
class SpendTotals:
    """Running aggregates of one category's parts, so rendering never re-reads the parts.

    Renders exactly what ``category_spend_item`` does over the parts currently added.
    """

    order_count: int = 0
    total: Decimal = Decimal(0)
    names: Multiset[str] = field(default_factory=Multiset)
    suppliers: Multiset[str] = field(default_factory=Multiset)
    by_month: CountedSums = field(default_factory=CountedSums)
    by_member: CountedSums = field(default_factory=CountedSums)

    def add(self, part: SpendPart) -> None:
        """Count a part in."""
        self.order_count += 1
        self.total += part.total
        self.names.add(part.name)
        self.suppliers.add(part.supplier_key)
        self.by_month.add(part.month, part.total)
        self.by_member.add(part.member, part.total)

    def remove(self, part: SpendPart) -> None:
        """Take a previously added part back out."""
        self.order_count -= 1
        self.total -= part.total
        self.names.remove(part.name)
        self.suppliers.remove(part.supplier_key)
        self.by_month.remove(part.month, part.total)
        self.by_member.remove(part.member, part.total)

    def render(self, category: str) -> dict[str, Any] | None:
        """The view item, or ``None`` when no part is left."""
        if not self.order_count:
            return None
        return {
            "category": category,
            "name": min(self.names),
            "total_net": money(self.total),
            "order_count": self.order_count,
            "by_month": {m: money(total) for m, total in self.by_month.sorted_items()},
            "by_member": {m: money(total) for m, total in self.by_member.sorted_items()},
            "supplier_count": len(self.suppliers),
        }
