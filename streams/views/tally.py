"""Counted collections for the views' running aggregates.

An aggregate adds a part when a contributor starts contributing it and removes the same part
when it stops. A key must leave the item exactly when its last part leaves (not when its sum
happens to be zero), so every entry counts the parts behind it.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Hashable, Iterator
from decimal import Decimal
from typing import Generic, TypeVar

from streams.views.render import money

K = TypeVar("K", bound=Hashable)


class Multiset(Generic[K]):
    """How many parts hold each key; a key is gone once none does."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[K, int] = {}

    def add(self, key: K) -> None:
        """Count one more part holding ``key``."""
        self.counts[key] = self.counts.get(key, 0) + 1

    def remove(self, key: K) -> bool:
        """Count one part fewer; True when that was the last one (the key is gone)."""
        left = self.counts[key] - 1
        if left:
            self.counts[key] = left
            return False
        del self.counts[key]
        return True

    def __len__(self) -> int:
        return len(self.counts)

    def __iter__(self) -> Iterator[K]:
        return iter(self.counts)


class CountedSums:
    """A Decimal sum per key with the number of parts in it (exact: Decimal adds exactly).

    Amounts are decimal(18, 2) at most, far inside the default 28-digit context, so adding
    and later subtracting a part leaves the same value as never having added it.
    """

    __slots__ = ("sums",)

    def __init__(self) -> None:
        self.sums: dict[str, tuple[int, Decimal]] = {}

    def add(self, key: str, amount: Decimal) -> None:
        """Add one part's amount under ``key``."""
        count, total = self.sums.get(key, (0, Decimal(0)))
        self.sums[key] = (count + 1, total + amount)

    def remove(self, key: str, amount: Decimal) -> None:
        """Take one part's amount back out; the key goes with its last part."""
        count, total = self.sums[key]
        if count == 1:
            del self.sums[key]
        else:
            self.sums[key] = (count - 1, total - amount)

    def sorted_items(self) -> list[tuple[str, Decimal]]:
        """(key, sum) in key order."""
        return [(key, self.sums[key][1]) for key in sorted(self.sums)]


class SortedValues:
    """A sorted multiset of Decimals, for min, max and the lower median without re-sorting."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Decimal] = []

    def add(self, value: Decimal) -> None:
        """Insert one value in order."""
        insort(self.values, value)

    def remove(self, value: Decimal) -> None:
        """Delete one value equal to ``value`` (any equal one: only the value is rendered)."""
        i = bisect_left(self.values, value)
        if i == len(self.values) or self.values[i] != value:
            raise KeyError(value)
        del self.values[i]

    def __len__(self) -> int:
        return len(self.values)

    def median_low(self) -> Decimal:
        """``statistics.median_low``: the middle value, the lower one of two for even counts."""
        return self.values[(len(self.values) - 1) // 2]


def money_by_member(by_member: dict[str, CountedSums], fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``{member: {field: money}}``, one entry per member holding a part.

    The first of ``fields`` must be one every member has (``total_net``).
    """
    members: dict[str, dict[str, str]] = {m: {} for m, _ in by_member[fields[0]].sorted_items()}
    for name in fields:
        for m, amount in by_member[name].sorted_items():
            members[m][name] = money(amount)
    return members
