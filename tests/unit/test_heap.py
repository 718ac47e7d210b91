"""The worker's garbage-collection policy (streams/heap.py): no automatic full collections,
pauses reported, and a sweep that collects cycles and freezes what survives."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from streams import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks[:] = callbacks
        gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_take_over_turns_automatic_full_collections_off_and_reports_pauses(restored_gc: None) -> None:
    seen: list[tuple[int, float]] = []
    heap.take_over(lambda generation, seconds: seen.append((generation, seconds)))
    young, _, old = gc.get_threshold()
    assert young == heap.YOUNG_THRESHOLD
    assert old == heap.NEVER
    gc.collect(0)
    assert seen and seen[-1][0] == 0 and seen[-1][1] >= 0


def test_sweep_collects_cycles_then_freezes_the_survivors(restored_gc: None) -> None:
    gc.unfreeze()
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle only the collector can free
    del a, b
    survivor = [Node() for _ in range(100)]
    assert heap.sweep() >= 2
    assert gc.get_freeze_count() >= len(survivor)
    assert all(not gc.is_finalized(n) for n in survivor)  # frozen, not collected
