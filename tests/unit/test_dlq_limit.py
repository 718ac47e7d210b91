"""A dead letter fits the broker: a record near its size limit is dead-lettered without its value.

Regression test for the stall issue 13's fuzz row found: a record at the broker's limit on a
member's topic became a DLQ record larger than the broker takes (the same bytes plus headers),
and ingest retried the refused write for ever, stalling every member.
"""

from __future__ import annotations

from streams import dlq
from streams.canonical import SourceRef

SOURCE = SourceRef("bluelight.member.kent-police.purchase-order.v1", 2, 41)


def letter(key: bytes | None, value: bytes | None) -> dlq.DeadLetter:
    topic = "bluelight.dlq.kent-police.v1"
    return dlq.dead_letter(topic, "kent-police", SOURCE, key, value, "decode", "bad", None)


def test_an_ordinary_letter_keeps_everything() -> None:
    made = letter(b"PO-1", b"\xc3\x01" + bytes(500_000))
    assert made.value == b"\xc3\x01" + bytes(500_000) and made.key == b"PO-1"
    assert dlq.header(made.headers, dlq.OMITTED) is None


def test_a_letter_at_the_broker_limit_leaves_the_value_out_and_says_where_it_is() -> None:
    made = letter(b"PO-1", bytes(1_048_400))
    assert made.value is None and made.key == b"PO-1"
    assert dlq.size_of(made) <= dlq.MAX_LETTER_BYTES
    assert dlq.header(made.headers, dlq.OMITTED) == "value (1,048,400 bytes)"
    reason = dlq.header(made.headers, dlq.REASON) or ""
    assert reason.startswith("bad (too large") and f"{SOURCE.topic}[2]@41" in reason


def test_a_huge_key_takes_its_header_and_then_itself_out() -> None:
    made = letter(b"k" * 900_000, bytes(10))
    assert made.value is None and made.key == b"k" * 900_000
    assert dlq.header(made.headers, dlq.EVENT_KEY) is None
    assert dlq.header(made.headers, dlq.OMITTED) == "value (10 bytes), event_key header"
    made = letter(b"k" * 1_000_000, None)
    assert made.key is None and dlq.size_of(made) <= dlq.MAX_LETTER_BYTES
    assert dlq.header(made.headers, dlq.OMITTED) == "event_key header, key (1,000,000 bytes)"
