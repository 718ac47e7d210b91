"""The hub's canonical records: what ingest forwards to the views stage.

Encoding (documented in docs/streams.md): compact JSON, UTF-8, one object per record,
on the internal topic ``naming.hub_topic("canonical")``. JSON rather than Avro because the
topic is private to the hub, written and read by the same release, and small enough that
readability in a console consumer is worth more than the bytes saved.

- An accepted-for-processing event (it passed every check):
  ``{"type": "event", "member", "family", "entity", "version", "event_id", "published_at",
  "source": [topic, partition, offset], "facts": {...}}``, keyed ``[member, family, entity]``.
- A rejection marker (the original went to the member's DLQ):
  ``{"type": "rejected", "member", "family", "kind", "published_at" (or null), "source": [...]}``,
  keyed ``[member, "rejected", topic, partition]``.

Whether an event is *accepted* or a *duplicate* is decided by the views stage against the
entity's stored version, not here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka.partitioner import murmur2

from streams.facts import EntityRef, Facts, facts_from_json, facts_to_json


@dataclass(frozen=True)
class SourceRef:
    """Where in a member's input topic a record was read: what replays are recognised by."""

    topic: str
    partition: int
    offset: int

    @property
    def tp(self) -> str:
        """The input topic-partition as one string, e.g. ``bluelight.member.x.contracts.v1:0``."""
        return f"{self.topic}:{self.partition}"


@dataclass(frozen=True)
class EventRecord:
    """A valid event, with the facts the views need."""

    ref: EntityRef
    version: int
    event_id: str
    published_at: datetime
    source: SourceRef
    facts: Facts


@dataclass(frozen=True)
class RejectedRecord:
    """A marker that one input record was dead-lettered, so member activity can count it."""

    member: str
    family: str
    kind: str
    published_at: datetime | None
    source: SourceRef


@dataclass(frozen=True)
class PurgeRecord:
    """An operator's order to take one member's data out of the views, for one canonical partition.

    ``bluelight views purge`` writes one to every partition (``partitions`` of them), so stage one
    finds the member's entities wherever they are kept (docs/topology.md, "Taking a member's data
    out of the views").
    """

    member: str
    partition: int
    partitions: int
    requested_at: datetime


@dataclass(frozen=True)
class ReclassifyRecord:
    """A partner's new code map, for one canonical partition: place the member's held spend again.

    ``bluelight categories publish`` writes one to every partition (``streams/reclassify.py``).
    """

    member: str
    partition: int
    partitions: int
    partner_map: str  # the reference topic's JSON of the map
    requested_at: datetime


CanonicalRecord = EventRecord | RejectedRecord  # what ingest writes
Order = PurgeRecord | ReclassifyRecord  # what operators write, one per partition
HubRecord = CanonicalRecord | Order  # what stage one reads


class CanonicalError(ValueError):
    """A hub record this release cannot read (a bug or a foreign writer, never partner data)."""


def entity_key(ref: EntityRef) -> bytes:
    """The hub-topic and table key of an entity."""
    return _dumps([ref.member, ref.family, ref.entity_id])


def rejection_key(member: str, source: SourceRef) -> bytes:
    """The hub-topic and table key of a member's rejections from one input partition."""
    return _dumps([member, "rejected", source.topic, source.partition])


def key_of(record: CanonicalRecord) -> bytes:
    """The key a canonical record is written under."""
    if isinstance(record, EventRecord):
        return entity_key(record.ref)
    return rejection_key(record.member, record.source)


def order_key(order: Order) -> bytes:
    """The hub-topic key of an operator's order (it is written to its partition explicitly)."""
    kind = "purge" if isinstance(order, PurgeRecord) else "reclassify"
    return _dumps([order.member, kind, order.partition])


def partition_of(key: bytes, partitions: Sequence[int]) -> int:
    """The partition a key lands in: what the Kafka clients' default partitioner picks.

    Ingest writes whole record batches per partition, so it chooses the partition itself;
    it must be the one the key would get anyway, so an entity's records stay together
    whichever way they were written.
    """
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


def encode(record: CanonicalRecord) -> bytes:
    """Serialise a canonical record (compact JSON)."""
    source = [record.source.topic, record.source.partition, record.source.offset]
    if isinstance(record, EventRecord):
        return _dumps(
            {
                "type": "event",
                "member": record.ref.member,
                "family": record.ref.family,
                "entity": record.ref.entity_id,
                "version": record.version,
                "event_id": record.event_id,
                "published_at": record.published_at.isoformat(),
                "source": source,
                "facts": facts_to_json(record.facts),
            }
        )
    return _dumps(
        {
            "type": "rejected",
            "member": record.member,
            "family": record.family,
            "kind": record.kind,
            "published_at": record.published_at.isoformat() if record.published_at else None,
            "source": source,
        }
    )


def encode_order(order: Order) -> bytes:
    """Serialise an operator's order (compact JSON)."""
    body: dict[str, Any] = {
        "type": "purge" if isinstance(order, PurgeRecord) else "reclassify",
        "member": order.member,
        "partition": order.partition,
        "partitions": order.partitions,
        "requested_at": order.requested_at.isoformat(),
    }
    if isinstance(order, ReclassifyRecord):
        body["map"] = order.partner_map
    return _dumps(body)


def decode(data: bytes | None) -> HubRecord:
    """Parse a canonical record, raising :class:`CanonicalError` with what was wrong."""
    if data is None:
        raise CanonicalError("canonical record has no value")
    try:
        obj = json.loads(data)
        if obj["type"] in ("purge", "reclassify"):
            member, partition, partitions = str(obj["member"]), int(obj["partition"]), int(obj["partitions"])
            at = datetime.fromisoformat(obj["requested_at"])
            if obj["type"] == "purge":
                return PurgeRecord(member, partition, partitions, at)
            return ReclassifyRecord(member, partition, partitions, str(obj["map"]), at)
        topic, partition, offset = obj["source"]
        source = SourceRef(str(topic), int(partition), int(offset))
        if obj["type"] == "event":
            return EventRecord(
                ref=EntityRef(obj["member"], obj["family"], obj["entity"]),
                version=int(obj["version"]),
                event_id=obj["event_id"],
                published_at=datetime.fromisoformat(obj["published_at"]),
                source=source,
                facts=facts_from_json(obj["family"], obj["facts"]),
            )
        if obj["type"] == "rejected":
            published = obj["published_at"]
            return RejectedRecord(
                member=obj["member"],
                family=obj["family"],
                kind=obj["kind"],
                published_at=datetime.fromisoformat(published) if published else None,
                source=source,
            )
        raise CanonicalError(f"unknown canonical record type {obj['type']!r}")
    except CanonicalError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise CanonicalError(f"unreadable canonical record: {type(exc).__name__}: {exc}") from exc


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
