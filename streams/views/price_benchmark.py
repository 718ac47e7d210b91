"""price-benchmark: what the same item costs across partners.

Key: ``SCHEME:code|unit`` (e.g. ``CPV:33735100|EA``) over the lines of live orders with a
CPV, UNSPSC or ECLASS classification; partner-local codes are not comparable and are left
out. Statistics are over unit prices, one per line; the median is the lower middle value.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from streams.facts import Current, OrderFacts
from streams.views.render import price
from streams.views.tally import SortedValues

VIEW = "price-benchmark"


@dataclass(frozen=True, slots=True)
class PricePart:
    """The unit prices one live order's lines give for one benchmark key."""

    member: str
    prices: tuple[Decimal, ...]


def price_parts(current: Current) -> dict[str, PricePart]:
    """The parts an entity contributes, by benchmark key."""
    facts = current.facts
    if not isinstance(facts, OrderFacts) or not facts.live:
        return {}
    prices: dict[str, list[Decimal]] = {}
    for line in facts.lines:
        if line.price_key is not None:
            prices.setdefault(line.price_key, []).append(line.unit_price)
    return {key: PricePart(member=current.ref.member, prices=tuple(ps)) for key, ps in prices.items()}


def price_benchmark_item(key: str, parts: Iterable[PricePart]) -> dict[str, Any] | None:
    """The view item of one benchmark key, or ``None`` when no live line has it."""
    everything: list[Decimal] = []
    by_member: dict[str, list[Decimal]] = {}
    for part in parts:
        everything.extend(part.prices)
        by_member.setdefault(part.member, []).extend(part.prices)
    if not everything:
        return None
    return {
        "key": key,
        "count": len(everything),
        "min": price(min(everything)),
        "max": price(max(everything)),
        "median": price(statistics.median_low(everything)),
        "by_member": {
            m: {"count": len(ps), "min": price(min(ps)), "max": price(max(ps))}
            for m, ps in sorted(by_member.items())
        },
    }


@dataclass
class PriceStats:
    """Every unit price of one benchmark key kept sorted, overall and per member.

    Renders exactly what ``price_benchmark_item`` does over the parts currently added:
    min, max and the lower median are read off the sorted lists instead of re-sorting.
    """

    everything: SortedValues = field(default_factory=SortedValues)
    by_member: dict[str, SortedValues] = field(default_factory=dict)

    def add(self, part: PricePart) -> None:
        """Count a part's prices in."""
        if not part.prices:
            return
        member = self.by_member.get(part.member)
        if member is None:
            member = self.by_member[part.member] = SortedValues()
        for unit_price in part.prices:
            self.everything.add(unit_price)
            member.add(unit_price)

    def remove(self, part: PricePart) -> None:
        """Take a previously added part's prices back out."""
        if not part.prices:
            return
        member = self.by_member[part.member]
        for unit_price in part.prices:
            self.everything.remove(unit_price)
            member.remove(unit_price)
        if not member:
            del self.by_member[part.member]

    def render(self, key: str) -> dict[str, Any] | None:
        """The view item, or ``None`` when no price is left."""
        if not self.everything:
            return None
        return {
            "key": key,
            "count": len(self.everything),
            "min": price(self.everything.values[0]),
            "max": price(self.everything.values[-1]),
            "median": price(self.everything.median_low()),
            "by_member": {m: _member_stats(self.by_member[m]) for m in sorted(self.by_member)},
        }


def _member_stats(prices: SortedValues) -> dict[str, Any]:
    return {"count": len(prices), "min": price(prices.values[0]), "max": price(prices.values[-1])}
