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
from typing import cast

from streams import contributions
from streams.alerts import Alert, StatusPart, alerts_for
from streams.contributions import Contribution, Part, changes, decode_part, encode_part
from streams.joins import JOINS, TOUCHED, Join, JoinPart, OrderLink, new_join
from streams.standings import CategoryLink
from streams.views.index import ViewIndex

log = logging.getLogger(__name__)

Table = MutableMapping[bytes, bytes]
JOIN_CONTRIBUTOR = '["join.'  # how a join key's contributor name starts (JoinKey.contributor)
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
        self.joins_due: set[tuple[str, str]] = set()  # join keys changed since the last flush

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
        if c.part is None and c.contributor.startswith(JOIN_CONTRIBUTOR):
            # a join key's withdrawal keeps its revision: during a rebalance the old and the new
            # owner of the join key both send, and an older output arriving after the withdrawal
            # must be stale, not a part brought back
            self.parts[key] = encode_stored(c.rev, c.view, None)
        elif c.part is None:
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
        """A contribution to a join key: kept, and the key marked for the next :meth:`flush_joins`.

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
        self.joins_due.add(c.slot)  # a re-read too: what the key sent may not have left before a crash
        if c.rev == old_rev and old_part == c.part:
            # a re-read: a kill can cut the changelog between the part and the touched keys
            # written after it, so they are written again too (tests/unit/test_streams_stage.py,
            # test_kills_that_cut_the_changelog_short_leave_the_joins_exact)
            self._reach(c.view, c.key, join, _targets(c.part), again=True)
            return "same"
        join.put(c.contributor, c.rev, cast(JoinPart | None, c.part))
        # noted now, in the stream: faust writes tables only while an event is handled, and the
        # output is sent from a timer; the replaced part's keys too, should a cut changelog have
        # lost them
        self._reach(c.view, c.key, join, _targets(old_part) | _targets(c.part))
        return "applied"

    def flush_joins(self) -> int:
        """Send the whole output of every join key that changed since the last flush; how many.

        Sent at most once per flush (the worker flushes every couple of seconds): a burst of
        orders for one supplier, contract or category leaves as one part per view key, and a
        category's total, which moves every supplier's share, costs one standing per supplier per
        flush, not per order. The output is sent whole, withdrawals from every view key the key
        ever reached included, never as a difference from what this worker sent last: after a
        crash or a rebalance the previous owner may have sent an output this worker's restored
        state has not reached yet, and a flush can skip the states in between, so only a whole
        output at the newest revision is sure to replace it (docs/streams.md, "Joins").
        """
        sent = 0
        for slot in sorted(self.joins_due):
            join = self.joins.get(slot)
            if join is None:
                continue
            sends = changes(join.contributor, join.rev, {}, join.everything(), self._touched(join))
            self.sends += sends
            sent += len(sends)
        self.joins_due.clear()
        return sent

    def _reach(self, view: str, key: str, join: Join, view_keys: set[str], again: bool = False) -> None:
        """Note (in the table) the view keys a join key sends to that it had not noted yet.

        ``again``: write them even if this worker had them (its local store can be ahead of
        the changelog another worker would restore from).
        """
        if view_keys - join.touched or (again and view_keys):
            join.touched |= view_keys
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
        self.joins_due |= set(self.joins)  # every join key sends everything again (see flush_joins)
        log.info("views: folded %d stored parts in %.2fs", n, time.monotonic() - started)


def _targets(part: object) -> set[str]:
    """The view keys a join part can make its join key send to (noted in ``touched``)."""
    if isinstance(part, OrderLink):
        return {category for category, _, _ in part.lines}
    if isinstance(part, CategoryLink):
        return {part.supplier_key}
    return set()
