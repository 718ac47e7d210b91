"""supplier-exposure: which partners and categories depend on a supplier.

Key: the national supplier key. A live order contributes its ``total_net`` and its lines'
categories; a live contract its ``value`` and category. The display name is the one on
the most recently published contribution (ties: the smaller name), since partners spell
suppliers differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.facts import ContractFacts, Current, OrderFacts
from streams.views.render import money
from streams.views.tally import Multiset

VIEW = "supplier-exposure"


@dataclass(frozen=True, slots=True)
class ExposurePart:
    """One live order's or live contract's exposure to its supplier."""

    member: str
    name: str
    published_at: datetime
    order_total: Decimal
    contract_value: Decimal
    categories: frozenset[str]
    entity_id: str = ""  # a contract's id and end, for alerts ("" and None for an order)
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A supplier's place in one category (sent by ``streams/standings.py``).

    Its share of the category's live order line totals, and the (up to five) other suppliers
    with the most there.
    """

    category: str
    share: Decimal  # 4 places
    alternatives: tuple[str, ...]


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
            entity_id=current.ref.entity_id,
            end_date=facts.end_date,
        )
        return {facts.supplier_key: part}
    return {}


def supplier_exposure_item(
    supplier_key: str, parts: Iterable[ExposurePart | Standing | object]
) -> dict[str, Any] | None:
    """The view item of one supplier, or ``None`` when nothing live names it."""
    everything = list(parts)
    standings = {p.category: p for p in everything if isinstance(p, Standing)}
    exposures = [p for p in everything if isinstance(p, ExposurePart)]
    if not exposures:
        return None
    newest = max(p.published_at for p in exposures)
    return {
        "supplier_key": supplier_key,
        "name": min(p.name for p in exposures if p.published_at == newest),
        "order_total": money(sum((p.order_total for p in exposures), Decimal(0))),
        "live_contract_value": money(sum((p.contract_value for p in exposures), Decimal(0))),
        "members": sorted({p.member for p in exposures}),
        "categories": sorted(set().union(*(p.categories for p in exposures))),
        "category_share": {c: format(standings[c].share, "f") for c in sorted(standings)},
        "alternatives": {c: list(standings[c].alternatives) for c in sorted(standings)},
    }


@dataclass
class ExposureTotals:
    """Running aggregates of one supplier's parts, so rendering never re-reads the parts.

    Renders exactly what ``supplier_exposure_item`` does over the parts currently added.
    For the display name it keeps the names seen at each ``published_at`` and the newest
    ``published_at``. When the newest one's last part leaves, the newest is unknown until
    a part at least as new arrives (the usual case: an entity replacing its own newest
    state) or the next render looks it up among the distinct times.
    """

    count: int = 0
    order_total: Decimal = Decimal(0)
    contract_value: Decimal = Decimal(0)
    members: Multiset[str] = field(default_factory=Multiset)
    categories: Multiset[str] = field(default_factory=Multiset)
    names_at: dict[datetime, Multiset[str]] = field(default_factory=dict)
    newest: datetime | None = None  # the latest published_at, None when unknown (or empty)
    bound: datetime | None = None  # while newest is unknown: no part is newer than this
    standings: dict[str, Standing] = field(default_factory=dict)  # by category (one join key each)

    def add(self, part: ExposurePart | Standing | object) -> None:
        """Count a part in (a supplier's status, for alerts, is not part of the item)."""
        if isinstance(part, Standing):
            self.standings[part.category] = part
            return
        if not isinstance(part, ExposurePart):
            return
        self.count += 1
        self.order_total += part.order_total
        self.contract_value += part.contract_value
        self.members.add(part.member)
        for category in part.categories:
            self.categories.add(category)
        at = part.published_at
        names = self.names_at.get(at)
        if names is None:
            names = self.names_at[at] = Multiset()
        names.add(part.name)
        if self.newest is not None:
            if at > self.newest:
                self.newest = at
        elif self.bound is None or at >= self.bound:
            self.newest, self.bound = at, None

    def remove(self, part: ExposurePart | Standing | object) -> None:
        """Take a previously added part back out."""
        if isinstance(part, Standing):
            self.standings.pop(part.category, None)
            return
        if not isinstance(part, ExposurePart):
            return
        self.count -= 1
        self.order_total -= part.order_total
        self.contract_value -= part.contract_value
        self.members.remove(part.member)
        for category in part.categories:
            self.categories.remove(category)
        at = part.published_at
        names = self.names_at[at]
        names.remove(part.name)
        if not names:
            del self.names_at[at]
            if self.newest == at:
                self.newest, self.bound = None, at

    def render(self, supplier_key: str) -> dict[str, Any] | None:
        """The view item, or ``None`` when no part is left."""
        if not self.count:
            return None
        if self.newest is None:
            self.newest, self.bound = max(self.names_at), None
        return {
            "supplier_key": supplier_key,
            "name": min(self.names_at[self.newest]),
            "order_total": money(self.order_total),
            "live_contract_value": money(self.contract_value),
            "members": sorted(self.members),
            "categories": sorted(self.categories),
            "category_share": {c: format(self.standings[c].share, "f") for c in sorted(self.standings)},
            "alternatives": {c: list(self.standings[c].alternatives) for c in sorted(self.standings)},
        }
