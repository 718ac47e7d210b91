"""The category join: each supplier's standing in a category, for supplier-exposure.

supplier-exposure answers "if this supplier failed": besides who is exposed, it gives the
supplier's share of each of its categories' live order line totals and up to five
alternatives there. Those are facts of the whole category, so live orders and live contracts
send their supplier and line totals to the category's join key (``join.category``), and the
key sends each supplier in it a :class:`Standing` (``streams/joins.py`` explains the revisions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from streams.views.supplier_exposure import VIEW as EXPOSURE
from streams.views.supplier_exposure import Standing

CATEGORY_JOIN = "join.category"
ALTERNATIVES = 5
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class CategoryLink:
    """A live order's line totals in one category with its supplier (``total`` None: a live contract)."""

    supplier_key: str
    total: Decimal | None


@dataclass
class Supplied:
    """What a category's live orders and contracts hold of one supplier."""

    orders: int = 0
    total: Decimal = Decimal(0)
    contracts: int = 0


@dataclass
class JoinOutput:
    """What every join key has: its contributors' revisions and the view keys it ever reached."""

    view: str
    key: str
    revs: dict[str, int] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    @property
    def rev(self) -> int:
        """The output's revision: the contributors' summed, growing with every change."""
        return sum(self.revs.values())

    @property
    def contributor(self) -> str:
        """Who the output is from, at the view keys it reaches."""
        return json.dumps([self.view, self.key], separators=(",", ":"), ensure_ascii=False)


@dataclass
class CategoryKey(JoinOutput):
    """One category's suppliers, for the standings of each."""

    links: dict[str, CategoryLink] = field(default_factory=dict)
    suppliers: dict[str, Supplied] = field(default_factory=dict)
    total: Decimal = Decimal(0)

    target = EXPOSURE

    def put(self, contributor: str, rev: int, part: object) -> None:
        """Make ``part`` what ``contributor`` gives (None: withdrawn)."""
        self.revs[contributor] = rev
        old = self.links.pop(contributor, None)
        if old is not None:
            self._count(old, -1)
        if isinstance(part, CategoryLink):
            self.links[contributor] = part
            self._count(part, 1)

    def _count(self, link: CategoryLink, sign: int) -> None:
        held = self.suppliers.setdefault(link.supplier_key, Supplied())
        if link.total is None:
            held.contracts += sign
        else:
            held.orders += sign
            held.total += sign * link.total
            self.total += sign * link.total
        if not held.orders and not held.contracts:
            del self.suppliers[link.supplier_key]

    def output(self, suppliers: Iterable[str]) -> dict[tuple[str, str], Standing]:
        """The standings of ``suppliers`` (absent: not in the category)."""
        ranked = sorted(
            ((s, held.total) for s, held in self.suppliers.items() if held.orders),
            key=lambda st: (-st[1], st[0]),
        )[: ALTERNATIVES + 1]
        out: dict[tuple[str, str], Standing] = {}
        for supplier in suppliers:
            held = self.suppliers.get(supplier)
            if held is None:
                continue
            share = held.total / self.total if self.total and held.total else Decimal(0)  # never -0
            others = tuple(s for s, _ in ranked if s != supplier)[:ALTERNATIVES]
            out[(EXPOSURE, supplier)] = Standing(
                self.key, share.quantize(SHARE_PLACES, ROUND_HALF_UP), others
            )
        return out

    def everything(self) -> dict[tuple[str, str], Standing]:
        """Every supplier's standing."""
        return self.output(list(self.suppliers))
