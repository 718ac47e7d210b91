"""member-activity: what each partner sent, and the conservation check over it.

Key: the member id. Every entity state and every rejection state contributes its counts;
received = accepted + duplicates + sum(rejected) holds by construction because each input
record is counted in exactly one state, exactly once (see ``streams/state.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.state import EntityState, RejectionState
from streams.views.render import timestamp

VIEW = "member-activity"


@dataclass(frozen=True, slots=True)
class ActivityPart:
    """The counts one state contributes to its member."""

    accepted: int = 0
    duplicates: int = 0
    rejected: tuple[tuple[str, int], ...] = ()
    newest: datetime | None = None


def entity_activity(state: EntityState) -> ActivityPart:
    """An entity state's contribution."""
    return ActivityPart(
        accepted=state.accepted, duplicates=state.duplicates, newest=state.newest_published_at
    )


def rejection_activity(state: RejectionState) -> ActivityPart:
    """A rejection state's contribution."""
    return ActivityPart(rejected=tuple(sorted(state.counts.items())), newest=state.newest_published_at)


@dataclass
class ActivityTotals:
    """Running totals of a member, kept by replacing each state's previous part.

    ``newest`` only ever grows: a state's newest ``published_at`` never decreases, so the
    maximum over the replaced parts is still right (a full rebuild starts it afresh).
    """

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    newest: datetime | None = None

    def replace(self, old: ActivityPart | None, new: ActivityPart) -> None:
        """Swap one state's previous contribution for its new one."""
        if old is not None:
            self.accepted -= old.accepted
            self.duplicates -= old.duplicates
            self.rejected.subtract(dict(old.rejected))
        self.accepted += new.accepted
        self.duplicates += new.duplicates
        self.rejected.update(dict(new.rejected))
        if new.newest is not None and (self.newest is None or new.newest > self.newest):
            self.newest = new.newest


def member_activity_item(member: str, totals: ActivityTotals) -> dict[str, Any]:
    """The view item of one member."""
    return {
        "member_id": member,
        "accepted": totals.accepted,
        "duplicates": totals.duplicates,
        "rejected": {kind: n for kind, n in sorted(totals.rejected.items()) if n > 0},
        "last_event_at": timestamp(totals.newest) if totals.newest else None,
    }
