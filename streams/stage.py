"""The views stage: canonical records into entity state, entity state into the views.

Kept apart from faust so it can be driven by plain dicts in tests: the two tables are any
``MutableMapping[bytes, bytes]`` (faust tables in the worker). Each record changes exactly
one key of one table, so the changelog holds whole states and a crash cannot half-apply;
the version and source guards (``streams/state.py``) make replays change nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime

from streams import canonical
from streams.canonical import EventRecord, RejectedRecord
from streams.facts import EntityRef
from streams.health import observe_latency
from streams.metrics import HubMetrics
from streams.state import (
    EntityState,
    Outcome,
    apply_event,
    apply_rejection,
    decode_entity_state,
    decode_rejection_state,
    encode_entity_state,
    encode_rejection_state,
)
from streams.views.index import ViewIndex
from streams.views.member_activity import entity_activity, rejection_activity

log = logging.getLogger(__name__)

Table = MutableMapping[bytes, bytes]


class ViewsStage:
    """Applies canonical records to the state tables and keeps the view index in step."""

    def __init__(
        self,
        entities: Table,
        rejections: Table,
        index: ViewIndex,
        metrics: HubMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.entities = entities
        self.rejections = rejections
        self.index = index
        self.metrics = metrics
        self.clock = clock
        # decoded entity states, mirroring the table so an event costs no JSON decode of its
        # state; filled by rebuild() (after every recovery) and by each write
        self._states: dict[bytes, EntityState] = {}
        self.records_applied = 0  # canonical records handled by this process, replays included

    def apply(self, value: bytes | None) -> Outcome:
        """Apply one canonical record; raises CanonicalError for one this release cannot read."""
        record = canonical.decode(value)
        self.records_applied += 1
        if isinstance(record, EventRecord):
            return self._apply_event(record)
        return self._apply_rejection(record)

    def _apply_event(self, record: EventRecord) -> Outcome:
        key = canonical.entity_key(record.ref)
        old = self._states.get(key)
        if old is None and key in self.entities:  # not mirrored yet (a table filled behind our back)
            old = decode_entity_state(record.ref.family, self.entities[key])
        new, outcome = apply_event(old, record)
        m, member, family = self.metrics, record.ref.member, record.ref.family
        if outcome == "replayed":
            m.replayed.labels(member).inc()
            return outcome
        self.entities[key] = encode_entity_state(new)
        self._states[key] = new
        if outcome == "accepted":
            self.index.set_entity(key, new.current(record.ref))
            m.accepted.labels(member, family).inc()
        else:
            m.duplicates.labels(member, family).inc()
        self.index.set_activity(key, member, entity_activity(new))
        observe_latency(m.latency, m.backfilled, family, self.clock() - record.published_at.timestamp())
        return outcome

    def _apply_rejection(self, record: RejectedRecord) -> Outcome:
        key = canonical.rejection_key(record.member, record.source)
        stored = self.rejections.get(key)
        old = decode_rejection_state(stored) if stored is not None else None
        new, outcome = apply_rejection(old, record)
        if outcome == "replayed":
            self.metrics.replayed.labels(record.member).inc()
            return outcome
        self.rejections[key] = encode_rejection_state(new)
        self.index.set_activity(key, record.member, rejection_activity(new))
        return outcome

    def rebuild(self) -> None:
        """Recompute the index from the tables (after faust recovered them from the changelogs)."""
        started = time.monotonic()
        self.index.clear()
        self._states = {}
        for key, value in list(self.entities.items()):
            member, family, entity_id = json.loads(key)
            state = decode_entity_state(family, value)
            self._states[key] = state
            self.index.set_entity(key, state.current(EntityRef(member, family, entity_id)))
            self.index.set_activity(key, member, entity_activity(state))
        for key, value in list(self.rejections.items()):
            member = json.loads(key)[0]
            self.index.set_activity(key, member, rejection_activity(decode_rejection_state(value)))
        log.info(
            "views: rebuilt from %d entity states and %d rejection states in %.2fs",
            len(self.entities),
            len(self.rejections),
            time.monotonic() - started,
        )

    def report(self) -> None:
        """Refresh the gauges derived from the views (item counts, newest event age)."""
        now = datetime.now(UTC)
        for view in ("category-spend", "supplier-exposure", "contract-pipeline", "price-benchmark"):
            self.metrics.view_items.labels(view).set(self.index.size(view))
        self.metrics.view_items.labels("member-activity").set(self.index.size("member-activity"))
        for member, totals in self.index.activity.items():
            if totals.newest is not None:
                self.metrics.newest_event_age.labels(member).set((now - totals.newest).total_seconds())
