"""What a dead-lettered record carries: the original bytes, and headers saying why.

The value and key are the member's own bytes, unchanged, so a fixed event can be replayed
as it was sent. The headers (all UTF-8) follow the contract: the kind, a reason naming the
field, and where the original was read. Header names are constants here so tests, the
oracle and members' tooling read them from one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.canonical import SourceRef

KIND = "kind"
REASON = "reason"
FIELD = "field"
MEMBER = "member"
ORIGINAL_TOPIC = "original_topic"
ORIGINAL_PARTITION = "original_partition"
ORIGINAL_OFFSET = "original_offset"
EVENT_KEY = "event_key"


@dataclass(frozen=True)
class DeadLetter:
    """One record for a member's dead-letter topic."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def dead_letter(
    topic: str,
    member: str,
    source: SourceRef,
    key: bytes | None,
    value: bytes | None,
    kind: str,
    reason: str,
    field: str | None,
) -> DeadLetter:
    """The dead-letter record of a rejected input record."""
    headers = [
        (KIND, kind.encode()),
        (REASON, reason.encode()),
        (MEMBER, member.encode()),
        (ORIGINAL_TOPIC, source.topic.encode()),
        (ORIGINAL_PARTITION, str(source.partition).encode()),
        (ORIGINAL_OFFSET, str(source.offset).encode()),
    ]
    if field:
        headers.append((FIELD, field.encode()))
    if key is not None:
        headers.append((EVENT_KEY, key))
    return DeadLetter(topic=topic, key=key, value=value, headers=headers)


def header(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], name: str) -> str | None:
    """The text of header ``name`` (first occurrence), or None."""
    for key, value in headers:
        if key == name:
            return value.decode()
    return None
