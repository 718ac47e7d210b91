"""The whole run: every member's activity and the bad events, in delivery order, labelled."""

from __future__ import annotations

import random
from datetime import date

from demo.synthetic.activity import MemberRun
from demo.synthetic.bad import bad_events
from demo.synthetic.events import Pending, SyntheticEvent, label
from demo.synthetic.items import ITEMS
from demo.synthetic.members import MEMBERS


def generate(seed: int, today: date, scale: float = 1.0) -> list[SyntheticEvent]:
    """Every member's activity up to ``today``, in delivery order. Same inputs, same output.

    ``scale`` multiplies the number of orders and contracts per member (1.0 gives about five
    thousand events in under a second; every member still gets at least one contract and order).
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    frameworks = _frameworks(seed, today)
    pending: list[Pending] = []
    for index, member in enumerate(MEMBERS):
        run = MemberRun(member, index, seed, today, scale, frameworks)
        run.generate()
        pending.extend(run.pending)
    pending.extend(bad_events(seed, today, len(pending)))
    pending.sort(key=lambda p: (p.delivered_at, p.order))
    return label(pending)


def _frameworks(seed: int, today: date) -> dict[str, str]:
    """National framework references by item, which the national team's contracts carry."""
    rng = random.Random(f"{seed}/frameworks")
    chosen = rng.sample([item.key for item in ITEMS], k=12)
    return {
        key: f"BLN-FW-{today.year - rng.randint(1, 3)}-{n:03d}" for n, key in enumerate(sorted(chosen), 1)
    }
