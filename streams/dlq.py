"""What a dead-lettered record carries: the original bytes, and headers saying why.

The value and key are the member's own bytes, unchanged, so a fixed event can be replayed
as it was sent. The headers (all UTF-8) follow the contract: the kind, a reason naming the
field, and where the original was read. Header names are constants here so tests, the
oracle and members' tooling read them from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from streams.canonical import SourceRef

KIND = "kind"
REASON = "reason"
FIELD = "field"
MEMBER = "member"
ORIGINAL_TOPIC = "original_topic"
ORIGINAL_PARTITION = "original_partition"
ORIGINAL_OFFSET = "original_offset"
EVENT_KEY = "event_key"
OMITTED = "omitted"  # what a letter too large for the broker left out ("value", "event_key", "key")

# A dead letter is the member's record plus headers, so a record at the broker's limit
# (message.max.bytes, 1 MiB by default) cannot be dead-lettered whole: ingest would retry the
# refused write for ever, stalling every member. Above this size a letter leaves out the value
# (then the event_key header, then the key); the original stays on the member's topic.
MAX_LETTER_BYTES = 1_000_000


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
    return _within_limit(DeadLetter(topic=topic, key=key, value=value, headers=headers), source)


def size_of(letter: DeadLetter) -> int:
    """Bytes of a letter's key, value and headers (what counts against the broker's limit)."""
    heads = sum(len(k) + len(v) for k, v in letter.headers)
    return len(letter.key or b"") + len(letter.value or b"") + heads


def _within_limit(letter: DeadLetter, source: SourceRef) -> DeadLetter:
    """The letter, leaving out the value, then the event_key header, then the key, while too large."""
    omitted: list[str] = []
    while size_of(letter) > MAX_LETTER_BYTES:
        if letter.value is not None:
            omitted.append(f"value ({len(letter.value):,} bytes)")
            letter = replace(letter, value=None)
        elif any(k == EVENT_KEY for k, _ in letter.headers):
            omitted.append("event_key header")
            letter = replace(letter, headers=[(k, v) for k, v in letter.headers if k != EVENT_KEY])
        elif letter.key is not None:
            omitted.append(f"key ({len(letter.key):,} bytes)")
            letter = replace(letter, key=None)
        else:
            break  # headers alone: the reason is capped, so this does not happen
    if not omitted:
        return letter
    where = f"{source.topic}[{source.partition}]@{source.offset}"
    note = f"too large to dead-letter whole: left out the {', '.join(omitted)}; the original is at {where}"
    headers = [(k, v + f" ({note})".encode() if k == REASON else v) for k, v in letter.headers]
    return replace(letter, headers=[*headers, (OMITTED, ", ".join(omitted).encode())])


def header(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], name: str) -> str | None:
    """The text of header ``name`` (first occurrence), or None."""
    for key, value in headers:
        if key == name:
            return value.decode()
    return None
