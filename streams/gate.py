"""Apply each canonical partition strictly in offset order, from where faust last sought it.

The views stage's source guard (``streams/state.py``) takes a record at or below an entity's
stored input offset for a replay. That holds only if the canonical topic is applied in order.
faust can break the order around a restart: records prefetched while the tables recover are
dropped, records from a stale position can reach the agent before faust's seek back to the
committed offset, and with no committed offset nothing is sought at all (docs/streams.md,
"Faust quirks"). The gate makes order a checked invariant instead of an assumption: it is
armed with each partition's position when faust seeks, admits exactly the next offset, and
refuses everything else. Refused records are not acknowledged, so faust never commits past
them; a partition whose refused records are not followed by progress is reported as stuck,
and the worker seeks it back to the expected offset so they are read again, in order.

The source topics' offsets are contiguous (one idempotent, non-transactional writer, no
compaction), so "the next offset" is always ``last + 1``.
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["apply", "behind", "ahead", "closed"]
Source = tuple[str, int]  # (topic, partition)


class SourceGate:
    """Per-partition expected offsets of the source topics; closed until armed."""

    def __init__(self) -> None:
        self.expected: dict[Source, int] | None = None
        self.refused_since: dict[Source, float] = {}  # partition -> first refusal since progress

    def close(self) -> None:
        """Refuse everything (a seek or a rebalance is under way)."""
        self.expected = None

    def arm(self, positions: dict[Source, int]) -> None:
        """Open at these positions (partition -> the offset faust will deliver next)."""
        self.expected = dict(positions)

    def admit(self, partition: Source, offset: int, now: float) -> Verdict:
        """Whether the record at ``offset`` is the next one to apply (and if so, advance)."""
        verdict: Verdict
        if self.expected is None or partition not in self.expected:
            verdict = "closed"
        elif offset == self.expected[partition]:
            self.expected[partition] = offset + 1
            self.refused_since.pop(partition, None)
            return "apply"
        else:
            verdict = "behind" if offset < self.expected[partition] else "ahead"
        if verdict != "behind":  # a record already applied needs nothing read again
            self.refused_since.setdefault(partition, now)
        return verdict

    def stuck(self, now: float, patience: float) -> dict[Source, int]:
        """Partitions refused ``patience`` seconds ago without progress since: where to seek.

        Each is reported once per ``patience`` (its clock restarts), so a seek has time to land.
        """
        if self.expected is None:
            return {}
        out = {}
        for partition, since in list(self.refused_since.items()):
            if now - since >= patience and partition in self.expected:
                out[partition] = self.expected[partition]
                self.refused_since[partition] = now
        return out
