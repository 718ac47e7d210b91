"""The decision ingest makes for each input record: forward it, or dead-letter it.

Pure (no I/O): given a record read from a member's topic, return the canonical record to
forward to the views stage and, for a rejected record, the dead-letter record. The member is
the owner of the topic the record arrived on, never what the payload claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.serde import DecodeError, decode_event, event_from_bytes
from schemas.status import PUBLISHER, status_from_bytes
from schemas.validate import Rejection
from streams.canonical import CanonicalRecord, EventRecord, RejectedRecord, SourceRef
from streams.derive import Categorise, Normalise, derive
from streams.dlq import DeadLetter, dead_letter
from streams.facts import EntityRef, StatusFacts
from topologies.naming import SUPPLIER_STATUS, dlq_topic, parse_member_topic, ref_topic

STATUS_TOPIC = ref_topic(SUPPLIER_STATUS)


@dataclass(frozen=True)
class Routed:
    """What to do with one input record."""

    member: str
    family: str
    canonical: CanonicalRecord
    dead_letter: DeadLetter | None
    rejection: Rejection | None
    unclassified: int


class NotAMemberTopic(ValueError):
    """A record from a topic that is not a member input topic (the subscription should prevent it)."""


def route(
    source: SourceRef,
    key: bytes | None,
    value: bytes | None,
    categorise: Categorise,
    normalise: Normalise,
) -> Routed:
    """Decide the fate of the record at ``source``."""
    if source.topic == STATUS_TOPIC:
        return route_status(source, key, value)
    owner = parse_member_topic(source.topic)
    if owner is None:
        raise NotAMemberTopic(f"{source.topic} is not a member input topic")
    member, family = owner.member, owner.family
    try:
        event = event_from_bytes(value, member, family)
        derived = derive(event, categorise, normalise)
    except Rejection as exc:
        return _rejected(member, family, source, key, value, exc)
    except ValueError as exc:  # an identifier no national key can be made from
        return _rejected(member, family, source, key, value, Rejection("validation", str(exc)))
    record = EventRecord(
        ref=EntityRef(member, family, event.entity_id),
        version=event.entity_version,
        event_id=event.event_id,
        published_at=event.published_at,
        source=source,
        facts=derived.facts,
    )
    return Routed(member, family, record, None, None, derived.unclassified)


def route_status(source: SourceRef, key: bytes | None, value: bytes | None) -> Routed:
    """A record of the national supplier-status feed: the national team's, keyed by supplier key."""
    member, family = PUBLISHER, SUPPLIER_STATUS
    try:
        event = status_from_bytes(value)
        if event.member_id != PUBLISHER:
            raise Rejection("tenant", f"member_id: {event.member_id!r} may not publish supplier statuses")
    except Rejection as exc:
        return _rejected(member, family, source, key, value, exc)
    facts = StatusFacts(event.supplier_key, event.name, event.status, event.status_at)
    record = EventRecord(
        ref=EntityRef(member, family, event.supplier_key),
        version=event.entity_version,
        event_id=event.event_id,
        published_at=event.published_at,
        source=source,
        facts=facts,
    )
    return Routed(member, family, record, None, None, 0)


def _rejected(
    member: str, family: str, source: SourceRef, key: bytes | None, value: bytes | None, rejection: Rejection
) -> Routed:
    marker = RejectedRecord(
        member=member,
        family=family,
        kind=rejection.kind,
        published_at=readable_published_at(value),
        source=source,
    )
    letter = dead_letter(
        dlq_topic(member), member, source, key, value, rejection.kind, rejection.reason, rejection.field
    )
    return Routed(member, family, marker, letter, rejection, 0)


def readable_published_at(value: bytes | None) -> datetime | None:
    """The ``published_at`` of a rejected record, when its bytes can be decoded at all."""
    if value is None:
        return None
    try:
        _, record = decode_event(value)
    except DecodeError:
        return None
    published = record.get("published_at")
    if isinstance(published, datetime) and published.tzinfo is not None:
        return published
    return None
