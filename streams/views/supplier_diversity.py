"""supplier-diversity: how much of a category's spend goes to SMEs and VCSEs.

Key: the national category id. Each part is one supplier's spend in the category, split by
member and by what the supplier's *facts* say (``streams/joins.py`` joins orders to the
suppliers' records by national key and sends these parts), so a supplier record that changes
the facts moves that supplier's spend between the buckets in every category at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from streams.views.render import money
from streams.views.tally import CountedSums, Multiset, money_by_member

TOTAL_FIELDS = ("total_net", "sme_net", "vcse_net", "sme_unknown_net", "vcse_unknown_net")
MEMBER_FIELDS = ("total_net", "sme_net", "vcse_net")
VIEW = "supplier-diversity"


@dataclass(frozen=True, slots=True)
class MemberSplit:
    """One member's spend with one supplier in one category, by the supplier's facts."""

    member: str
    total: Decimal
    sme: Decimal  # the total when the facts say SME, else 0
    vcse: Decimal
    sme_unknown: Decimal  # the total when nobody says, or the records disagree, else 0
    vcse_unknown: Decimal


@dataclass(frozen=True, slots=True)
class DiversityPart:
    """One supplier's spend in one category (the category's display name beside it)."""

    name: str
    members: tuple[MemberSplit, ...]  # sorted by member


@dataclass
class DiversityTotals:
    """Running aggregates of one category's parts."""

    parts: int = 0
    names: Multiset[str] = field(default_factory=Multiset)
    sums: dict[str, Decimal] = field(default_factory=dict)
    by_member: dict[str, CountedSums] = field(
        default_factory=lambda: {name: CountedSums() for name in TOTAL_FIELDS}
    )

    def add(self, part: DiversityPart) -> None:
        """Count a part in."""
        self._count(part, 1)
        self.names.add(part.name)

    def remove(self, part: DiversityPart) -> None:
        """Take a previously added part back out."""
        self._count(part, -1)
        self.names.remove(part.name)

    def _count(self, part: DiversityPart, sign: int) -> None:
        self.parts += sign
        for split in part.members:
            for name, amount in _fields(split):
                self.sums[name] = self.sums.get(name, Decimal(0)) + sign * amount
                sums = self.by_member[name]
                if sign > 0:
                    sums.add(split.member, amount)
                else:
                    sums.remove(split.member, amount)

    def render(self, category: str) -> dict[str, Any] | None:
        """The view item, or ``None`` when no part is left."""
        if not self.parts:
            return None
        return {
            "category": category,
            "name": min(self.names),
            **{name: money(self.sums[name]) for name in TOTAL_FIELDS},
            "by_member": money_by_member(self.by_member, MEMBER_FIELDS),
        }



def _fields(split: MemberSplit) -> tuple[tuple[str, Decimal], ...]:
    return (
        ("total_net", split.total),
        ("sme_net", split.sme),
        ("vcse_net", split.vcse),
        ("sme_unknown_net", split.sme_unknown),
        ("vcse_unknown_net", split.vcse_unknown),
    )
