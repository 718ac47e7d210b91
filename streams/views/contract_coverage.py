"""contract-coverage: how much of a category's spend runs through contracts and frameworks.

Key: the national category id. A live order that names no contract contributes its lines
here directly (off contract); one that names a contract meets that contract in
``streams/joins.py`` (keyed by member and contract id), which sends the parts of all the
orders placed under it, on contract while the contract's state exists, via a framework while
that state names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from streams.facts import Current, OrderFacts
from streams.views.render import money
from streams.views.tally import CountedSums, Multiset, money_by_member

MEMBER_FIELDS = ("total_net", "on_contract_net", "framework_net")
VIEW = "contract-coverage"


@dataclass(frozen=True, slots=True)
class CoveragePart:
    """Spend of one member in one category: off contract, or under one contract."""

    name: str
    member: str
    total: Decimal
    on_contract: Decimal
    framework: Decimal
    framework_ref: str  # "" unless the spend is via a framework


def direct_parts(current: Current) -> dict[str, CoveragePart]:
    """An order naming no contract: its lines by category, all off contract."""
    facts = current.facts
    if not isinstance(facts, OrderFacts) or not facts.live or facts.contract_ref:
        return {}
    totals: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for line in facts.lines:
        totals[line.category] = totals.get(line.category, Decimal(0)) + line.line_total
        names.setdefault(line.category, line.category_name)
    zero = Decimal(0)
    return {c: CoveragePart(names[c], current.ref.member, t, zero, zero, "") for c, t in totals.items()}


@dataclass
class CoverageTotals:
    """Running aggregates of one category's parts."""

    parts: int = 0
    names: Multiset[str] = field(default_factory=Multiset)
    total: Decimal = Decimal(0)
    on_contract: Decimal = Decimal(0)
    framework: Decimal = Decimal(0)
    frameworks: CountedSums = field(default_factory=CountedSums)
    by_member: dict[str, CountedSums] = field(
        default_factory=lambda: {name: CountedSums() for name in MEMBER_FIELDS}
    )

    def add(self, part: CoveragePart) -> None:
        """Count a part in."""
        self.parts += 1
        self.names.add(part.name)
        self.total += part.total
        self.on_contract += part.on_contract
        self.framework += part.framework
        if part.framework_ref:
            self.frameworks.add(part.framework_ref, part.framework)
        for name, amount in _member_fields(part):
            self.by_member[name].add(part.member, amount)

    def remove(self, part: CoveragePart) -> None:
        """Take a previously added part back out."""
        self.parts -= 1
        self.names.remove(part.name)
        self.total -= part.total
        self.on_contract -= part.on_contract
        self.framework -= part.framework
        if part.framework_ref:
            self.frameworks.remove(part.framework_ref, part.framework)
        for name, amount in _member_fields(part):
            self.by_member[name].remove(part.member, amount)

    def render(self, category: str) -> dict[str, Any] | None:
        """The view item, or ``None`` when no part is left."""
        if not self.parts:
            return None
        return {
            "category": category,
            "name": min(self.names),
            "total_net": money(self.total),
            "on_contract_net": money(self.on_contract),
            "framework_net": money(self.framework),
            "frameworks": {ref: money(amount) for ref, amount in self.frameworks.sorted_items()},
            "by_member": money_by_member(self.by_member, MEMBER_FIELDS),
        }



def _member_fields(part: CoveragePart) -> tuple[tuple[str, Decimal], ...]:
    return (
        ("total_net", part.total),
        ("on_contract_net", part.on_contract),
        ("framework_net", part.framework),
    )
