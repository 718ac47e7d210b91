"""The demo's proof that nothing was lost or double counted, from Kafka's offsets and member-activity.

Pure functions over member-activity items. The records on a member's input topics (end minus
start offsets) are everything it ever sent; the hub must account for each of them exactly
once as accepted, duplicate or rejected. That holds whatever the hub saw before (running the
demo twice resends everything; an interrupted run leaves records the worker takes in later),
so it is the demo's balance check. Where the hub had accounted for every earlier record
before this run published, this run's own effect is known too and is checked per kind: a
partner new to the hub must come out exactly as the generator labelled its events, and a
partner whose events the hub already held must see them all again as duplicates (the
version guard at work).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Counts:
    """A member's accepted, duplicate and rejected (by kind) event counts."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Mapping[str, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        """Every rejection, whatever its kind."""
        return sum(self.rejected.values())

    @property
    def received(self) -> int:
        """Events the hub has accounted for: accepted + duplicates + rejected."""
        return self.accepted + self.duplicates + self.rejected_total

    def minus(self, earlier: Counts) -> Counts:
        """What was added since ``earlier``."""
        kinds = set(self.rejected) | set(earlier.rejected)
        delta = {k: self.rejected.get(k, 0) - earlier.rejected.get(k, 0) for k in sorted(kinds)}
        return Counts(
            self.accepted - earlier.accepted,
            self.duplicates - earlier.duplicates,
            {k: n for k, n in delta.items() if n},
        )

    def plus(self, other: Counts) -> Counts:
        """Both together."""
        rejected = Counter(self.rejected)
        rejected.update(other.rejected)
        return Counts(self.accepted + other.accepted, self.duplicates + other.duplicates, dict(rejected))


def counts_of(item: Mapping[str, Any]) -> Counts:
    """A member-activity item (or a ``synthetic.expected_activity`` entry) as Counts."""
    return Counts(int(item["accepted"]), int(item["duplicates"]), dict(item.get("rejected") or {}))


def activity_by_member(items: Iterable[Mapping[str, Any]]) -> dict[str, Counts]:
    """The member-activity view's items, by member."""
    return {str(item["member_id"]): counts_of(item) for item in items}


def total(counts: Iterable[Counts]) -> Counts:
    """The sum of many members' counts."""
    out = Counts()
    for c in counts:
        out = out.plus(c)
    return out


def taken_in(after: Mapping[str, Counts], held: Mapping[str, int]) -> int:
    """How many of the records on the members' topics the hub has accounted for (capped per member)."""
    return sum(min(after.get(m, Counts()).received, n) for m, n in held.items())


def expected_delta(expected: Counts, before: Counts) -> Counts | None:
    """What this run should add to a member, or None when earlier data makes it unknowable.

    New to the hub: exactly what the generator labelled. Already holding this run's good events
    (``before.accepted`` equals them, e.g. an earlier run with the same seed and day): nothing
    new is accepted, every good event and resend is a duplicate, the bad ones are rejected again.
    """
    if before.received == 0:
        return expected
    if before.accepted == expected.accepted:
        return Counts(0, expected.accepted + expected.duplicates, dict(expected.rejected))
    return None


@dataclass(frozen=True)
class Balance:
    """The verdict on one run."""

    sent: int  # by this run
    held: int  # records on the members' input topics, this run's and earlier ones
    accounted: Counts  # the members' activity now, all together
    delta: Counts | None  # what this run added; None if the hub was still busy with earlier records
    unbalanced: tuple[str, ...]  # "member: why"
    checked_kinds: int  # members whose per-kind counts could be predicted
    wrong_kinds: tuple[str, ...]  # "member: expected X, got Y"

    @property
    def ok(self) -> bool:
        """Every member balances and every predictable member came out as predicted."""
        return not self.unbalanced and not self.wrong_kinds


def balance(
    sent: Mapping[str, int],
    expected: Mapping[str, Counts],
    before: Mapping[str, Counts],
    after: Mapping[str, Counts],
    held_before: Mapping[str, int],
    held_after: Mapping[str, int],
) -> Balance:
    """Check every member this run sent to.

    Balanced: every record on the member's input topics (``held_after``, read from Kafka's
    offsets) is accounted for as accepted, duplicate or rejected, no more, no fewer. Where
    the hub had accounted for everything before this run (``before`` matches ``held_before``),
    this run's effect is known exactly and compared per kind with what the generator meant.
    """
    unbalanced: list[str] = []
    wrong: list[str] = []
    checked = 0
    deltas: list[Counts] = []
    for member in sorted(sent):
        was, now = before.get(member, Counts()), after.get(member, Counts())
        if now.received != held_after.get(member, 0):
            unbalanced.append(
                f"{member}: {held_after.get(member, 0):,} records on its topics, "
                f"{now.received:,} accounted for"
            )
        if was.received != held_before.get(member, 0):
            continue  # the hub was still taking in earlier records: this run's share is unknown
        delta = now.minus(was)
        deltas.append(delta)
        want = expected_delta(expected.get(member, Counts()), was)
        if want is None:
            continue
        checked += 1
        if (want.accepted, want.duplicates, dict(want.rejected)) != (
            delta.accepted,
            delta.duplicates,
            dict(delta.rejected),
        ):
            wrong.append(f"{member}: expected {describe(want)}, got {describe(delta)}")
    return Balance(
        sent=sum(sent.values()),
        held=sum(held_after.get(m, 0) for m in sent),
        accounted=total(after.get(m, Counts()) for m in sent),
        delta=total(deltas) if len(deltas) == len(sent) else None,
        unbalanced=tuple(unbalanced),
        checked_kinds=checked,
        wrong_kinds=tuple(wrong),
    )


def describe(c: Counts) -> str:
    """``12 accepted, 1 duplicates, 2 rejected (schema 1, tenant 1)``."""
    text = f"{c.accepted:,} accepted, {c.duplicates:,} duplicates, {c.rejected_total:,} rejected"
    if c.rejected:
        text += " (" + ", ".join(f"{k} {n:,}" for k, n in sorted(c.rejected.items())) + ")"
    return text
