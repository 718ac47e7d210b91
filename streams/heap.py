"""Garbage collection for a worker whose state is one large heap that lives as long as it does.

CPython's cyclic collector scans the whole older generation whenever it has grown by a quarter.
The worker's heap is mostly its state (entity states, the view index), which only grows, so
those full collections come back again and again, and each one takes longer as the state grows:
measured on this machine, a 2-core VM, with 80,000 orders applied, a quarter of the views
stage's CPU went to the collector and single pauses reached 0.4 s (2 s with a larger heap). Each
pause stops every event in flight.

So the worker collects on a clock instead: automatic full collections are off, young ones run
less often, and every ``SWEEP_EVERY_S`` a full collection runs and then freezes what survived
(``gc.freeze``). A sweep then scans only what was allocated since the last one, so its pause
depends on the event rate, not on how much state the hub holds. Frozen objects are still freed
by reference counting when dropped; only a reference cycle that dies after it was frozen is
never collected. ``bluelight_gc_frozen_objects`` shows whether that ever adds up.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)
SWEEP_EVERY_S = 5.0  # a sweep scans what survived since the last: ~10 µs per event applied
NEVER = 1 << 30  # an older-generation threshold that is never reached

Observe = Callable[[int, float], None]  # (generation, pause in seconds)


def take_over(observe: Observe) -> None:
    """Switch to collecting on a clock, and report every collection's pause to ``observe``."""
    gc.set_threshold(YOUNG_THRESHOLD, 20, NEVER)
    started: list[float] = [0.0]

    def timing(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            observe(int(info["generation"]), time.perf_counter() - started[0])

    gc.callbacks.append(timing)


def sweep() -> int:
    """Collect everything allocated since the last sweep, then freeze the survivors."""
    found = gc.collect()
    gc.freeze()
    return found
