"""The in-memory indexes the views are read from, kept current by replacing contributions.

Each entity's current state contributes parts to view keys (category, supplier, benchmark
key, member). When its state changes, its previous parts are removed and the new ones added,
so an index is always the function of the current states it would be if rebuilt from
scratch, which is what happens after a table recovery. Items are rendered on demand and
cached until a part under their key changes; keys touched since the last publish are
tracked per view for the view-topic publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Generic, TypeVar

from streams.facts import Current
from streams.views.category_spend import SpendPart, category_spend_item, spend_parts
from streams.views.contract_pipeline import PipelineRow, contract_pipeline_item, pipeline_parts
from streams.views.member_activity import ActivityPart, ActivityTotals, member_activity_item
from streams.views.price_benchmark import PricePart, price_benchmark_item, price_parts
from streams.views.supplier_exposure import ExposurePart, exposure_parts, supplier_exposure_item
from topologies.naming import VIEWS

P = TypeVar("P")
Item = dict[str, Any]


class PartIndex(Generic[P]):
    """View key -> (contributor key -> part), with a rendered-item cache."""

    def __init__(self, parts_of: Callable[[Current], dict[str, P]]) -> None:
        self.parts_of = parts_of
        self.parts: dict[str, dict[bytes, P]] = {}
        self.cache: dict[str, Item | None] = {}

    def replace(self, contributor: bytes, old: dict[str, P], new: dict[str, P]) -> set[str]:
        """Swap a contributor's parts; return the view keys whose item may have changed."""
        touched: set[str] = set()
        for key, part in old.items():
            if new.get(key) == part:
                continue
            bucket = self.parts.get(key)
            if bucket is not None:
                bucket.pop(contributor, None)
                if not bucket:
                    del self.parts[key]
            touched.add(key)
        for key, part in new.items():
            if old.get(key) == part:
                continue
            self.parts.setdefault(key, {})[contributor] = part
            touched.add(key)
        for key in touched:
            self.cache.pop(key, None)
        return touched

    def keys(self) -> list[str]:
        """Every key with at least one part, sorted."""
        return sorted(self.parts)

    def values(self, key: str) -> Iterator[P]:
        """The parts under ``key``."""
        return iter(self.parts.get(key, {}).values())


class ViewIndex:
    """All five views over the current states of the entities and rejection partitions."""

    def __init__(self) -> None:
        self._reset()
        self.dirty: dict[str, set[str]] = {view: set() for view in VIEWS}

    def _reset(self) -> None:
        self.spend: PartIndex[SpendPart] = PartIndex(spend_parts)
        self.exposure: PartIndex[ExposurePart] = PartIndex(exposure_parts)
        self.pipeline: PartIndex[PipelineRow] = PartIndex(pipeline_parts)
        self.prices: PartIndex[PricePart] = PartIndex(price_parts)
        self.activity: dict[str, ActivityTotals] = {}
        # what each entity contributes now, per part index (what to remove when it changes)
        self._contributions: dict[bytes, list[dict[str, Any]]] = {}
        self._activity_parts: dict[bytes, ActivityPart] = {}

    # -- updates -------------------------------------------------------------------------

    def set_entity(self, key: bytes, current: Current) -> None:
        """Make ``current`` the state entity ``key`` contributes (replacing its previous one)."""
        old = self._contributions.get(key)
        new = []
        for i, (view, index) in enumerate(self._part_indexes()):
            parts = index.parts_of(current)
            self.dirty[view] |= index.replace(key, old[i] if old is not None else {}, parts)
            new.append(parts)
        self._contributions[key] = new

    def set_activity(self, key: bytes, member: str, part: ActivityPart) -> None:
        """Make ``part`` what state ``key`` contributes to ``member``'s activity."""
        old = self._activity_parts.get(key)
        if old == part:
            return
        self._activity_parts[key] = part
        self.activity.setdefault(member, ActivityTotals()).replace(old, part)
        self.dirty["member-activity"].add(member)

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
        index = self._index(view)
        if key not in index.cache:
            index.cache[key] = _RENDER[view](key, index.values(key))
        return index.cache[key]

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

    def _part_indexes(self) -> list[tuple[str, PartIndex[Any]]]:
        return [
            ("category-spend", self.spend),
            ("supplier-exposure", self.exposure),
            ("contract-pipeline", self.pipeline),
            ("price-benchmark", self.prices),
        ]

    def _index(self, view: str) -> PartIndex[Any]:
        for name, index in self._part_indexes():
            if name == view:
                return index
        raise KeyError(view)


_RENDER: dict[str, Callable[[str, Iterator[Any]], Item | None]] = {
    "category-spend": category_spend_item,
    "supplier-exposure": supplier_exposure_item,
    "price-benchmark": price_benchmark_item,
}
