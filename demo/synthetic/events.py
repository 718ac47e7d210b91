"""The generator's output: each event labelled with what the hub should make of it.

Labels come from the delivery order (versions are the truth): a new highest version is
``good``, anything else ``duplicate``; bad events carry their rejection kind.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from demo.synthetic.values import Json
from topologies.naming import Family


@dataclass(frozen=True)
class SyntheticEvent:
    """One event to publish on ``member``'s ``family`` topic, and what the hub should make of it.

    ``expected`` is ``good`` (a new highest version), ``duplicate`` (a resend, or a version not
    higher than one delivered before it in this list) or ``bad:<kind>`` with the rejection
    kind. ``raw``, when set, is what to put on the wire instead of encoding ``event``: bytes
    no decoder can read (``event`` then shows what they were meant to carry), or a record of
    another family than the topic's (``event`` is that record). :func:`wire_bytes` picks.
    """

    member: str
    family: Family
    event: Json
    expected: str
    note: str = ""
    raw: bytes | None = None

    @property
    def key(self) -> str:
        """The Kafka record key: the entity id."""
        return str(self.event["entity_id"])


@dataclass
class Pending:
    """An event waiting for its place in the delivery order (and, later, its label)."""

    delivered_at: datetime
    order: tuple[int, int]  # (member index, sequence): a total order for equal times
    member: str
    family: Family
    event: Json
    bad: str | None = None
    note: str = ""
    raw: bytes | None = None


def label(pending: Sequence[Pending]) -> list[SyntheticEvent]:
    """Label each event by what the hub sees in this delivery order: versions are the truth."""
    applied: dict[tuple[str, str, str], int] = {}
    out: list[SyntheticEvent] = []
    for p in pending:
        if p.bad is not None:
            expected = f"bad:{p.bad}"
        else:
            key = (p.member, p.family, str(p.event["entity_id"]))
            version = int(p.event["entity_version"])
            if version > applied.get(key, 0):
                applied[key] = version
                expected = "good"
            else:
                expected = "duplicate"
        # a copy each, so a consumer that edits one event cannot change another
        out.append(SyntheticEvent(p.member, p.family, copy.deepcopy(p.event), expected, p.note, p.raw))
    return out


def expected_activity(events: Iterable[SyntheticEvent]) -> dict[str, Json]:
    """The member-activity counts the hub should report once it has consumed ``events``."""
    out: dict[str, Json] = {}
    for e in events:
        item = out.setdefault(
            e.member, {"accepted": 0, "duplicates": 0, "rejected": {}, "last_event_at": None}
        )
        if e.expected == "good":
            item["accepted"] += 1
        elif e.expected == "duplicate":
            item["duplicates"] += 1
        else:
            kind = e.expected.removeprefix("bad:")
            item["rejected"][kind] = item["rejected"].get(kind, 0) + 1
        published = None if e.expected == "bad:decode" else e.event["published_at"]  # unreadable: unseen
        if published is not None and (item["last_event_at"] is None or published > item["last_event_at"]):
            item["last_event_at"] = published
    return out
