"""Stage two, keyed by view key: contributions folded into the view items, by replacement.

The ``view-parts`` table keeps, per (view, view key, contributor), the contributor's latest part
and its revision. A contribution with a lower revision than the stored one is stale (a resend
from before a crash, or from the previous owner of a partition) and changes nothing; the same
revision carries the same part, so a re-read changes nothing either. The in-memory
:class:`~streams.views.index.ViewIndex` holds the running aggregates of the keys this worker's
partitions own, rebuilt from the table after every recovery; the view publisher renders them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator, MutableMapping
from typing import Any, cast

from streams import contributions
from streams.alerts import Alert, StatusPart, alerts_for
from streams.contributions import Contribution, Part, changes, decode_part, encode_part
from streams.joins import JOINS, TOUCHED, Join, JoinPart, new_join
from streams.standings import CategoryKey, CategoryLink
from streams.views.index import ViewIndex

log = logging.getLogger(__name__)

Table = MutableMapping[bytes, bytes]
REBUILD_YIELD_EVERY = 2_000


def part_key(view: str, key: str, contributor: str) -> bytes:
    """The ``view-parts`` table key of one contributor's part under one view key."""
    return json.dumps([view, key, contributor], separators=(",", ":"), ensure_ascii=False).encode()


def encode_stored(rev: int, view: str, part: Part | None) -> bytes:
    """A stored part with its revision."""
    return json.dumps([rev, encode_part(view, part)], separators=(",", ":"), ensure_ascii=False).encode()


def decode_stored(view: str, data: bytes) -> tuple[int, Part | None]:
    """Inverse of :func:`encode_stored`."""
    rev, raw = json.loads(data)
    return int(rev), decode_part(view, raw)


class FoldStage:
    """Applies contribution records to the parts table and the view index."""

    def __init__(self, parts: Table, index: ViewIndex) -> None:
        self.parts = parts
        self.index = index
        self.records_applied = 0
        self.stale = 0
        self.joins: dict[tuple[str, str], Join] = {}
        self.sends: list[Contribution] = []  # the joins' output, for the worker to send (take_sends)
        self.alerts: list[Alert] = []  # supplier alerts, for the worker to send (take_alerts)
        self.standings_due: set[tuple[str, str]] = set()  # category joins changed since the last flush
        self.standings_sent: dict[tuple[str, str], dict[tuple[str, str], Any]] = {}

    def apply(self, value: bytes | None) -> list[str]:
        """Apply one contribution record (a pack): each contribution's outcome, in order."""
        cs = contributions.decode_pack(value)
        self.records_applied += 1
        return [self.apply_one(c) for c in cs]

    def take_alerts(self) -> list[Alert]:
        """The alerts made since the last call."""
        alerts, self.alerts = self.alerts, []
        return alerts

    def take_sends(self) -> list[Contribution]:
        """The contributions the joins made since the last call."""
        sends, self.sends = self.sends, []
        return sends

    def apply_one(self, c: Contribution) -> str:
        """Apply one contribution: "applied", "same" (a re-read) or "stale"."""
        if c.view in JOINS:
            return self._join(c)
        key = part_key(c.view, c.key, c.contributor)
        stored = self.parts.get(key)
        old_rev, old_part = decode_stored(c.view, stored) if stored is not None else (-1, None)
        if c.rev < old_rev:
            self.stale += 1
            return "stale"
        if c.part is None:
            if stored is not None:
                del self.parts[key]
            else:
                self._withdraw_absent(key)
        else:
            self.parts[key] = encode_stored(c.rev, c.view, c.part)
        if c.rev == old_rev and old_part == c.part:
            self._alert(c)  # a re-read: the alerts may not have left before a crash (same ids)
            return "same"  # written again all the same: the changelog may lack it after a crash
        self.index.replace_part(c.view, c.key, c.contributor, old_part, c.part)
        self._alert(c)
        return "applied"

    def _alert(self, c: Contribution) -> None:
        """A supplier's status changed into distress: alerts for everyone exposed now."""
        if isinstance(c.part, StatusPart) and c.part.raises_alert:
            self.alerts += alerts_for(c.key, c.part, self.index.exposure.values(c.key))

    def _join(self, c: Contribution) -> str:
        """A contribution to a join key: kept, and the key's changed output sent to the view keys.

        A withdrawal is kept as a tombstone with its revision, so the output's revision (the sum
        of its contributors') never goes back (streams/joins.py).
        """
        key = part_key(c.view, c.key, c.contributor)
        stored = self.parts.get(key)
        old_rev, old_part = decode_stored(c.view, stored) if stored is not None else (-1, None)
        if c.rev < old_rev:
            self.stale += 1
            return "stale"
        join = self.joins.get(c.slot)
        if join is None:
            join = self.joins[c.slot] = new_join(c.view, c.key)
        self.parts[key] = encode_stored(c.rev, c.view, c.part)  # again on a re-read: see FoldStage.apply_one
        if isinstance(join, CategoryKey):
            # the standings of a whole category: sent by flush_standings, not per contribution
            self.standings_due.add(c.slot)
            if c.rev == old_rev and old_part == c.part:
                self.standings_sent.pop(c.slot, None)  # a re-read: send everything again
                return "same"
            join.put(c.contributor, c.rev, c.part)
            if isinstance(c.part, CategoryLink):
                # noted now, in the stream: faust writes tables only while an event is handled,
                # and the standings are sent from a timer
                self._reach(c.view, c.key, join, {c.part.supplier_key})
            return "applied"
        if c.rev == old_rev and old_part == c.part:
            # a re-read: what the key sent after it may not have left before a crash
            everything = join.everything()
            self.sends += changes(join.contributor, join.rev, {}, everything, self._touched(join))
            return "same"
        affected = join.targets_of(c.contributor, cast(JoinPart | None, c.part))
        before = join.output(affected)
        join.put(c.contributor, c.rev, cast(JoinPart | None, c.part))
        after = join.output(affected)
        self.sends += changes(join.contributor, join.rev, before, after)
        self._reach(c.view, c.key, join, {view_key for _, view_key in after})
        return "applied"

    def flush_standings(self) -> int:
        """Send the standings of every category that changed since the last flush; how many sent.

        A category's total moves every supplier's share, so sending standings per contribution
        would cost a contribution per supplier in the category per order. They are sent at most
        once per flush instead (the worker flushes every couple of seconds), compared with what
        was sent last. What was sent last is in memory only: after a restart or a rebalance
        (``rebuild``) every category sends everything again, withdrawals from every supplier it
        ever reached included, so standings a crash kept from leaving are sent then.
        """
        sent = 0
        for slot in sorted(self.standings_due):
            join = self.joins.get(slot)
            if not isinstance(join, CategoryKey):
                continue
            now = join.everything()
            last = self.standings_sent.get(slot)
            if last is None:
                sends = changes(join.contributor, join.rev, {}, now, self._touched(join))
            else:
                sends = changes(join.contributor, join.rev, last, now)
            self.standings_sent[slot] = now  # every supplier in ``now`` was noted in touched already
            self.sends += sends
            sent += len(sends)
        self.standings_due.clear()
        return sent

    def _reach(self, view: str, key: str, join: Join, view_keys: set[str]) -> None:
        """Note (in the table) the view keys a join key sends to for the first time."""
        reached = view_keys - join.touched
        if reached:
            join.touched |= reached
            self.parts[part_key(view, key, TOUCHED)] = json.dumps(sorted(join.touched)).encode()

    @staticmethod
    def _touched(join: Join) -> list[tuple[str, str]]:
        """Every view key a join key ever sent to."""
        return [(join.target, view_key) for view_key in sorted(join.touched)]

    def _withdraw_absent(self, key: bytes) -> None:
        """Tell the changelog a part is gone that the local store already lacks.

        After a crash the local store can be ahead of the changelog: a re-read withdrawal finds
        nothing to delete, but the changelog may still hold the part, and a worker taking the
        partition over would restore it. faust tables send the tombstone in ``on_key_del``.
        """
        on_key_del = getattr(self.parts, "on_key_del", None)
        if on_key_del is not None:
            on_key_del(key)

    def rebuild(self) -> None:
        """Recompute the index from the parts this worker holds (after faust recovered the table)."""
        for _ in self._rebuilding():
            pass

    async def rebuild_async(self, yield_every: int = REBUILD_YIELD_EVERY) -> None:
        """:meth:`rebuild`, letting the event loop run every ``yield_every`` parts.

        A large state takes seconds to fold; ingest, the read model and HTTP share the loop.
        """
        for n in self._rebuilding():
            if n % yield_every == 0:
                await asyncio.sleep(0)

    def _load_join(self, view: str, view_key: str, contributor: str, value: bytes) -> None:
        join = self.joins.get((view, view_key))
        if join is None:
            join = self.joins[(view, view_key)] = new_join(view, view_key)
        if contributor == TOUCHED:
            join.touched |= set(json.loads(value))
        else:
            rev, part = decode_stored(view, value)
            join.put(contributor, rev, cast(JoinPart | None, part))

    def _rebuilding(self) -> Iterator[int]:
        started = time.monotonic()
        self.index.clear()
        self.index.take_dirty()  # only what the rebuild finds is this worker's to publish
        self.joins.clear()
        self.standings_sent.clear()
        n = 0
        # a copy: a rebalance while the loop runs (it yields) may close a partition's store
        for key, value in list(self.parts.items()):
            view, view_key, contributor = json.loads(key)
            if view in JOINS:
                self._load_join(view, view_key, contributor, value)
            else:
                _, part = decode_stored(view, value)
                self.index.replace_part(view, view_key, contributor, None, part)
            n += 1
            yield n
        # every category sends all its standings again (see flush_standings)
        self.standings_due |= {slot for slot, join in self.joins.items() if isinstance(join, CategoryKey)}
        log.info("views: folded %d stored parts in %.2fs", n, time.monotonic() - started)
