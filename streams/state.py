"""Per-entity and per-partition state, and the reducers that make at-least-once exact.

Two guards, both kept *with* the state they protect so one table write applies them
atomically (a crash cannot half-apply an event):

- the **source guard**: the last input offset applied per input topic-partition. A
  canonical record at or below it is a replay (ingest or the views stage re-reading after a
  crash) and changes nothing at all, not even the counts;
- the **version guard**: an event whose ``entity_version`` is not above the stored one is
  counted as a duplicate and changes no view.

So for every member, received = accepted + duplicates + sum(rejected) holds however often
records are replayed, and a view is a function of the current states only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from streams.canonical import EventRecord, RejectedRecord
from streams.facts import Current, EntityRef, Facts, facts_from_json, facts_to_json, with_previous

Outcome = Literal["accepted", "duplicate", "rejected", "replayed"]


@dataclass(frozen=True)
class EntityState:
    """What the hub knows of one (member, family, entity)."""

    version: int
    event_id: str
    published_at: datetime
    facts: Facts
    accepted: int
    duplicates: int
    newest_published_at: datetime
    offsets: dict[str, int] = field(default_factory=dict)
    # every (view, view key) this entity has ever contributed to: what a replay withdraws from
    # where it contributes no more (streams/contributions.py)
    touched: frozenset[tuple[str, str]] = frozenset()
    reclassified: int = 0  # reclassify orders that moved a line (streams/reclassify.py)

    @property
    def rev(self) -> int:
        """Changes applied to this state: grows with every one (the contribution revision)."""
        return self.accepted + self.duplicates + self.reclassified

    def current(self, ref: EntityRef) -> Current:
        """The entity's current state as the views consume it."""
        return Current(ref=ref, version=self.version, published_at=self.published_at, facts=self.facts)


@dataclass(frozen=True)
class RejectionState:
    """A member's rejections from one input topic-partition."""

    counts: dict[str, int]
    offset: int
    newest_published_at: datetime | None


def apply_event(state: EntityState | None, record: EventRecord) -> tuple[EntityState, Outcome]:
    """Fold one canonical event into an entity's state."""
    tp, offset = record.source.tp, record.source.offset
    if state is not None and offset <= state.offsets.get(tp, -1):
        return state, "replayed"
    if state is None:
        return (
            EntityState(
                version=record.version,
                event_id=record.event_id,
                published_at=record.published_at,
                facts=record.facts,
                accepted=1,
                duplicates=0,
                newest_published_at=record.published_at,
                offsets={tp: offset},
            ),
            "accepted",
        )
    offsets = {**state.offsets, tp: offset}
    newest = max(state.newest_published_at, record.published_at)
    if record.version > state.version:
        new = EntityState(
            version=record.version,
            event_id=record.event_id,
            published_at=record.published_at,
            facts=with_previous(record.facts, state.facts),
            accepted=state.accepted + 1,
            duplicates=state.duplicates,
            newest_published_at=newest,
            offsets=offsets,
            touched=state.touched,
            reclassified=state.reclassified,
        )
        return new, "accepted"
    new = replace(state, duplicates=state.duplicates + 1, newest_published_at=newest, offsets=offsets)
    return new, "duplicate"


def apply_rejection(state: RejectionState | None, record: RejectedRecord) -> tuple[RejectionState, Outcome]:
    """Fold one rejection marker into the state of its input partition."""
    if state is not None and record.source.offset <= state.offset:
        return state, "replayed"
    counts = dict(state.counts) if state else {}
    counts[record.kind] = counts.get(record.kind, 0) + 1
    newest = state.newest_published_at if state else None
    if record.published_at is not None and (newest is None or record.published_at > newest):
        newest = record.published_at
    return RejectionState(counts=counts, offset=record.source.offset, newest_published_at=newest), "rejected"


def encode_entity_state(state: EntityState) -> bytes:
    """Table value of an entity state (compact JSON)."""
    return _dumps(
        {
            "version": state.version,
            "event_id": state.event_id,
            "published_at": state.published_at.isoformat(),
            "facts": facts_to_json(state.facts),
            "accepted": state.accepted,
            "duplicates": state.duplicates,
            "newest_published_at": state.newest_published_at.isoformat(),
            "offsets": state.offsets,
            "touched": sorted(state.touched),
            "reclassified": state.reclassified,
        }
    )


def decode_entity_state(family: str, data: bytes) -> EntityState:
    """Inverse of :func:`encode_entity_state`."""
    obj = json.loads(data)
    return EntityState(
        version=int(obj["version"]),
        event_id=obj["event_id"],
        published_at=datetime.fromisoformat(obj["published_at"]),
        facts=facts_from_json(family, obj["facts"]),
        accepted=int(obj["accepted"]),
        duplicates=int(obj["duplicates"]),
        newest_published_at=datetime.fromisoformat(obj["newest_published_at"]),
        offsets={str(k): int(v) for k, v in obj["offsets"].items()},
        touched=frozenset((str(v), str(k)) for v, k in obj.get("touched", ())),
        reclassified=int(obj.get("reclassified", 0)),
    )


def encode_rejection_state(state: RejectionState) -> bytes:
    """Table value of a rejection state (compact JSON)."""
    newest = state.newest_published_at
    return _dumps(
        {
            "counts": state.counts,
            "offset": state.offset,
            "newest_published_at": newest.isoformat() if newest else None,
        }
    )


def decode_rejection_state(data: bytes) -> RejectionState:
    """Inverse of :func:`encode_rejection_state`."""
    obj = json.loads(data)
    newest = obj["newest_published_at"]
    return RejectionState(
        counts={str(k): int(v) for k, v in obj["counts"].items()},
        offset=int(obj["offset"]),
        newest_published_at=datetime.fromisoformat(newest) if newest else None,
    )


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
