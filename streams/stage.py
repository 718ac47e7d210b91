"""Stage one, keyed by entity: canonical records into entity state, and state changes into contributions.

Kept apart from faust so it can be driven by plain dicts in tests: the two tables are any
``MutableMapping[bytes, bytes]`` (faust tables in the worker). Each record changes exactly one
key of one table, so the changelog holds whole states and a crash cannot half-apply; the
version and source guards (``streams/state.py``) make replays change no state. What a change
means for the views leaves as contributions (``streams/contributions.py``) for stage two.

A replay re-sends the entity's current contributions, withdraws it from every view key it
ever touched and no longer does, and re-writes its state: after a crash the local store (and
its changelog) may hold a state whose contributions never left, and the record that made it
is read again because its offset was never committed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import replace
from typing import Literal

from streams import canonical
from streams.canonical import EventRecord, PurgeRecord, ReclassifyRecord, RejectedRecord, partition_of
from streams.contributions import ACTIVITY, Contribution, Part, Slot, changes, entity_parts
from streams.facts import EntityRef
from streams.health import observe_latency
from streams.metrics import HubMetrics
from streams.reclassify import local_classifier, reclassified
from streams.state import (
    EntityState,
    Outcome,
    RejectionState,
    apply_event,
    apply_rejection,
    decode_entity_state,
    decode_rejection_state,
    encode_entity_state,
    encode_rejection_state,
)
from streams.views.member_activity import entity_activity, rejection_activity
from topologies.naming import SUPPLIER_STATUS

log = logging.getLogger(__name__)

Table = MutableMapping[bytes, bytes]
StageOutcome = Outcome | Literal["order"]


class EntityStage:
    """Applies canonical records to the state tables; returns the contributions to send."""

    def __init__(
        self,
        entities: Table,
        rejections: Table,
        metrics: HubMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.entities = entities
        self.rejections = rejections
        self.metrics = metrics
        self.clock = clock
        self.records_applied = 0  # canonical records handled by this process, replays included
        self.pending: list[tuple[Table, bytes, bytes | None]] = []  # an order's writes (None: delete)

    def apply(self, value: bytes | None) -> tuple[StageOutcome, list[Contribution]]:
        """Apply one canonical record; raises CanonicalError for one this release cannot read.

        An operator's order (purge, reclassify) returns "order" and its contributions: send them,
        wait until Kafka has them, then call :meth:`finish_order`, which changes the states. A
        crash before that leaves the states as they were, and the order, read again, sends
        again; a crash after it finds nothing left to do, and its contributions are in Kafka.
        """
        record = canonical.decode(value)
        self.records_applied += 1
        if isinstance(record, EventRecord):
            return self._apply_event(record)
        if isinstance(record, PurgeRecord):
            return "order", self._purge(record)
        if isinstance(record, ReclassifyRecord):
            return "order", self._reclassify(record)
        return self._apply_rejection(record)

    def _apply_event(self, record: EventRecord) -> tuple[Outcome, list[Contribution]]:
        key = canonical.entity_key(record.ref)
        stored = self.entities.get(key)
        old = decode_entity_state(record.ref.family, stored) if stored is not None else None
        new, outcome = apply_event(old, record)
        m, member, family = self.metrics, record.ref.member, record.ref.family
        contributor = key.decode()
        if outcome == "replayed":
            m.replayed.labels(member).inc()
            assert old is not None and stored is not None
            self.entities[key] = stored  # written again: the changelog may lack it
            return outcome, changes(contributor, old.rev, {}, _parts(old, record), old.touched)
        before = _parts(old, record) if old is not None else {}
        after = _parts(new, record) if outcome == "accepted" else {**before, **_activity(new, record)}
        new = replace(new, touched=new.touched | frozenset(after))
        self.entities[key] = encode_entity_state(new)
        if outcome == "accepted":
            m.accepted.labels(member, family).inc()
        else:
            m.duplicates.labels(member, family).inc()
        observe_latency(m.latency, m.backfilled, family, self.clock() - record.published_at.timestamp())
        return outcome, changes(contributor, new.rev, before, after)

    def _apply_rejection(self, record: RejectedRecord) -> tuple[Outcome, list[Contribution]]:
        key = canonical.rejection_key(record.member, record.source)
        stored = self.rejections.get(key)
        old = decode_rejection_state(stored) if stored is not None else None
        new, outcome = apply_rejection(old, record)
        if outcome == "replayed":
            self.metrics.replayed.labels(record.member).inc()
            assert stored is not None
            self.rejections[key] = stored  # written again: the changelog may lack it
        else:
            self.rejections[key] = encode_rejection_state(new)
        if record.family == SUPPLIER_STATUS:
            return outcome, []  # dead-lettered and counted in /metrics, not in member-activity
        return outcome, [rejection_contribution(key, record.member, new)]


    # -- purge ---------------------------------------------------------------------------------

    def _purge(self, order: PurgeRecord) -> list[Contribution]:
        """Withdraw every entity and rejection count of a member kept under one partition.

        The states are deleted by :meth:`finish_order`, once the withdrawals are in Kafka.
        Deleted earlier, a crash could lose the withdrawals with nothing left to send them from.
        """
        sends: list[Contribution] = []
        doomed_entities, doomed_rejections = [], []
        for key, value in list(self.entities.items()):
            member, family, _ = json.loads(key)
            if self._held(key, member, order):
                state = decode_entity_state(family, value)
                # a revision above the entity's own, so no earlier contribution outranks it
                sends += changes(key.decode(), state.rev + 1, {}, {}, state.touched)
                doomed_entities.append(key)
        for key, value in list(self.rejections.items()):
            member = json.loads(key)[0]
            if self._held(key, member, order):
                counts = decode_rejection_state(value)
                sends.append(Contribution(ACTIVITY, member, key.decode(), counts.offset + 1, None))
                doomed_rejections.append(key)
        self.pending = [(self.entities, k, None) for k in doomed_entities]
        self.pending += [(self.rejections, k, None) for k in doomed_rejections]
        log.warning(
            "views: purging %s from canonical partition %d: %d entities, %d rejection counts",
            order.member,
            order.partition,
            len(doomed_entities),
            len(doomed_rejections),
        )
        return sends

    # -- reclassify --------------------------------------------------------------------------

    def _reclassify(self, order: ReclassifyRecord) -> list[Contribution]:
        """Place the LOCAL lines of a member's orders and contracts under one partition again.

        An entity whose categories move gets a new revision and sends its new contributions; one
        that stays as it was sends nothing, so an order read again changes nothing.
        """
        classify = local_classifier(order.member, order.partner_map)
        sends: list[Contribution] = []
        self.pending = []
        for key, value in list(self.entities.items()):
            member, family, entity_id = json.loads(key)
            if not self._held(key, member, order):
                continue
            old = decode_entity_state(family, value)
            facts = reclassified(old.facts, classify)
            if facts is old.facts:
                continue
            ref = EntityRef(member, family, entity_id)
            before = _current_parts(old, ref)
            new = replace(old, facts=facts, reclassified=old.reclassified + 1)
            after = _current_parts(new, ref)
            new = replace(new, touched=new.touched | frozenset(after))
            self.pending.append((self.entities, key, encode_entity_state(new)))
            sends += changes(key.decode(), new.rev, before, after)
        log.info(
            "views: %s's map placed again under canonical partition %d: %d entities moved",
            order.member,
            order.partition,
            len(self.pending),
        )
        return sends

    @staticmethod
    def _held(key: bytes, member: str, order: PurgeRecord | ReclassifyRecord) -> bool:
        """Whether ``key`` (of ``member``) is kept under the partition an order is for."""
        return member == order.member and partition_of(key, range(order.partitions)) == order.partition

    def finish_order(self) -> int:
        """Write the states of the last order (its contributions are in Kafka); how many."""
        for table, key, value in self.pending:
            if value is None:
                del table[key]
            else:
                table[key] = value
        done, self.pending = len(self.pending), []
        return done


def _activity(state: EntityState, record: EventRecord) -> dict[Slot, Part]:
    if record.ref.family == SUPPLIER_STATUS:
        return {}  # the national feed is no member's traffic (see _current_parts)
    return {(ACTIVITY, record.ref.member): entity_activity(state)}


def _parts(state: EntityState, record: EventRecord) -> dict[Slot, Part]:
    """Everything an entity state contributes: its view parts and its member's counts."""
    return _current_parts(state, record.ref)


def _current_parts(state: EntityState, ref: EntityRef) -> dict[Slot, Part]:
    parts = entity_parts(state.current(ref))
    if ref.family != SUPPLIER_STATUS:
        # member-activity balances what a member's own topics hold; the supplier-status feed
        # (the national team's, on a reference topic) is counted in /metrics instead
        parts[(ACTIVITY, ref.member)] = entity_activity(state)
    return parts


def rejection_contribution(key: bytes, member: str, state: RejectionState) -> Contribution:
    """A rejection partition's counts under its member (its revision: the last offset applied)."""
    return Contribution(ACTIVITY, member, key.decode(), state.offset, rejection_activity(state))
