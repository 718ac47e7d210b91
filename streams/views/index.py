"""The in-memory indexes the views are read from, kept current by replacing contributions.

Each entity's current state contributes parts to view keys (category, supplier, benchmark
key, member). When its state changes, its previous parts are removed and the new ones added,
so an index is always the function of the current states it would be if rebuilt from
scratch, which is what happens after a table recovery. Every view but contract-pipeline
(which depends on the query date) keeps running aggregates per key, updated as parts come
and go, so rendering an item costs the size of the item, not the number of parts; items
are rendered on demand and cached until a part under their key changes. Keys touched since
the last publish are tracked per view for the view-topic publisher.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from streams.facts import Current
from streams.views.category_spend import SpendPart, SpendTotals, spend_parts
from streams.views.contract_coverage import VIEW as COVERAGE
from streams.views.contract_coverage import CoveragePart, CoverageTotals, direct_parts
from streams.views.contract_pipeline import PipelineRow, contract_pipeline_item, pipeline_parts
from streams.views.member_activity import ActivityPart, ActivityTotals, member_activity_item
from streams.views.price_benchmark import PricePart, PriceStats, price_parts
from streams.views.supplier_diversity import VIEW as DIVERSITY
from streams.views.supplier_diversity import DiversityPart, DiversityTotals
from streams.views.supplier_exposure import ExposurePart, ExposureTotals, exposure_parts
from topologies.naming import VIEWS

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)
Item = dict[str, Any]


class Aggregate(Protocol[P_contra]):
    """A view key's running aggregate: what its item needs, kept as parts come and go."""

    def add(self, part: P_contra) -> None:
        """Count a part in."""

    def remove(self, part: P_contra) -> None:
        """Take out a part added before."""

    def render(self, key: str) -> Item | None:
        """The item of ``key``, or ``None`` when nothing is left to show."""


class PartIndex(Generic[P]):
    """View key -> (contributor key -> part), with per-key aggregates and a rendered-item cache.

    Without an ``aggregate`` factory (contract-pipeline) it only keeps the parts.
    """

    def __init__(
        self,
        parts_of: Callable[[Current], dict[str, P]],
        aggregate: Callable[[], Aggregate[P]] | None = None,
    ) -> None:
        self.parts_of = parts_of
        self.aggregate = aggregate
        self.parts: dict[str, dict[str, P]] = {}
        self.aggregates: dict[str, Aggregate[P]] = {}
        self.cache: dict[str, Item | None] = {}

    def replace(self, contributor: str, old: dict[str, P], new: dict[str, P]) -> set[str]:
        """Swap a contributor's parts; return the view keys whose item may have changed.

        The aggregates lose the part the index actually held, so they always match ``parts``.
        """
        touched: set[str] = set()
        for key, part in old.items():
            if new.get(key) == part:
                continue
            touched.add(key)
            bucket = self.parts.get(key)
            if bucket is None:
                continue
            held = bucket.pop(contributor, None)
            if not bucket:
                del self.parts[key]
                self.aggregates.pop(key, None)
            elif held is not None and self.aggregate is not None:
                self.aggregates[key].remove(held)
        for key, part in new.items():
            if old.get(key) == part:
                continue
            touched.add(key)
            bucket = self.parts.setdefault(key, {})
            held = bucket.get(contributor)
            bucket[contributor] = part
            if self.aggregate is not None:
                aggregate = self.aggregates.get(key)
                if aggregate is None:
                    aggregate = self.aggregates[key] = self.aggregate()
                if held is not None:
                    aggregate.remove(held)
                aggregate.add(part)
        for key in touched:
            self.cache.pop(key, None)
        return touched

    def render(self, key: str) -> Item | None:
        """The item of ``key`` from its aggregate (cached); ``None`` when it has no part."""
        aggregate = self.aggregates.get(key)
        if aggregate is None:
            return None  # not cached: unknown keys asked over HTTP must not grow the cache
        if key not in self.cache:
            self.cache[key] = aggregate.render(key)
        return self.cache[key]

    def keys(self) -> list[str]:
        """Every key with at least one part, sorted."""
        return sorted(self.parts)

    def values(self, key: str) -> Iterator[P]:
        """The parts under ``key``."""
        return iter(self.parts.get(key, {}).values())


class ViewIndex:
    """All seven views over the current states of the entities and rejection partitions."""

    def __init__(self) -> None:
        self._reset()
        self.dirty: dict[str, set[str]] = {view: set() for view in VIEWS}

    def _reset(self) -> None:
        self.spend: PartIndex[SpendPart] = PartIndex(spend_parts, SpendTotals)
        self.exposure: PartIndex[ExposurePart] = PartIndex(exposure_parts, ExposureTotals)
        self.pipeline: PartIndex[PipelineRow] = PartIndex(pipeline_parts)
        self.prices: PartIndex[PricePart] = PartIndex(price_parts, PriceStats)
        # the joined views' parts come from stage two's joins (streams/joins.py), not from one
        # entity's state: only an order naming no contract gives contract-coverage a part itself
        self.diversity: PartIndex[DiversityPart] = PartIndex(_no_parts, DiversityTotals)
        self.coverage: PartIndex[CoveragePart] = PartIndex(direct_parts, CoverageTotals)
        self.activity: dict[str, ActivityTotals] = {}
        self._indexes: dict[str, PartIndex[Any]] = {
            "category-spend": self.spend,
            "supplier-exposure": self.exposure,
            "contract-pipeline": self.pipeline,
            "price-benchmark": self.prices,
            DIVERSITY: self.diversity,
            COVERAGE: self.coverage,
        }
        # what each entity contributes now, per part index in _indexes order (what to
        # remove when it changes); entities contributing nothing (suppliers) are not kept
        self._contributions: dict[str, tuple[dict[str, Any], ...]] = {}
        self._activity_parts: dict[str, ActivityPart] = {}
        self._activity_states: Counter[str] = Counter()  # states counting towards each member

    # -- updates -------------------------------------------------------------------------

    def set_entity(self, key: str, current: Current) -> None:
        """Make ``current`` the state entity ``key`` contributes (replacing its previous one)."""
        old = self._contributions.get(key)
        new = tuple(index.parts_of(current) for index in self._indexes.values())
        for i, (view, index) in enumerate(self._indexes.items()):
            before = old[i] if old is not None else {}
            if before == new[i]:  # usually both empty: a family feeds only some views
                continue
            self.dirty[view] |= index.replace(key, before, new[i])
        if any(new):
            self._contributions[key] = new
        elif old is not None:
            del self._contributions[key]

    def set_activity(self, key: str, member: str, part: ActivityPart) -> None:
        """Make ``part`` what state ``key`` contributes to ``member``'s activity."""
        old = self._activity_parts.get(key)
        if old == part:
            return
        self._activity_parts[key] = part
        if old is None:
            self._activity_states[member] += 1
        self.activity.setdefault(member, ActivityTotals()).replace(old, part)
        self.dirty["member-activity"].add(member)

    def withdraw_activity(self, key: str, member: str) -> None:
        """State ``key`` no longer counts towards ``member`` (a purge); the last one takes the item."""
        old = self._activity_parts.pop(key, None)
        if old is None:
            return
        self._activity_states[member] -= 1
        if self._activity_states[member] <= 0:
            del self._activity_states[member]
            self.activity.pop(member, None)
        else:
            self.activity[member].replace(old, ActivityPart())
        self.dirty["member-activity"].add(member)

    def replace_part(self, view: str, key: str, contributor: str, old: Any, new: Any) -> None:
        """Make ``new`` (``None``: nothing) what ``contributor`` gives to ``key`` of ``view``.

        ``old`` is the part the index holds for it now (``None``: none); stage two passes the
        part it had stored, so the index and the parts table never disagree.
        """
        if view == "member-activity":
            # a state counts towards its member until it is purged
            if new is None:
                self.withdraw_activity(contributor, key)
            else:
                self.set_activity(contributor, key, new)
            return
        index = self._index(view)
        self.dirty[view] |= index.replace(
            contributor, {key: old} if old is not None else {}, {key: new} if new is not None else {}
        )

    def clear(self) -> None:
        """Forget every state (before a rebuild); every key served so far stays dirty.

        So the publisher re-sends what the rebuild restores and tombstones what it does not.
        """
        for view in VIEWS:
            self.dirty[view] |= set(self.keys(view))
        self._reset()

    # -- reads ---------------------------------------------------------------------------

    def keys(self, view: str) -> list[str]:
        """The keys of a view that currently have an item, sorted."""
        if view == "member-activity":
            return sorted(self.activity)
        return self._index(view).keys()

    def item(self, view: str, key: str, as_of: date) -> Item | None:
        """One item of a view (``as_of`` matters to contract-pipeline only)."""
        if view == "member-activity":
            totals = self.activity.get(key)
            return member_activity_item(key, totals) if totals is not None else None
        if view == "contract-pipeline":
            return contract_pipeline_item(key, self.pipeline.values(key), as_of)
        return self._index(view).render(key)

    def items(self, view: str, as_of: date) -> list[Item]:
        """Every item of a view, sorted by key."""
        out = []
        for key in self.keys(view):
            item = self.item(view, key, as_of)
            if item is not None:
                out.append(item)
        return out

    def size(self, view: str) -> int:
        """How many items a view has."""
        if view == "member-activity":
            return len(self.activity)
        return len(self._index(view).parts)

    def take_dirty(self) -> dict[str, set[str]]:
        """The keys touched since the last call, per view, and reset."""
        taken = self.dirty
        self.dirty = {view: set() for view in VIEWS}
        return taken

    # -- internals -----------------------------------------------------------------------

    def _index(self, view: str) -> PartIndex[Any]:
        return self._indexes[view]


def _no_parts(current: Current) -> dict[str, Any]:
    return {}
