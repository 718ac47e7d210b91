"""adapters/rejects.py: dead letters into rows, --since, CSV, and checking a replay file."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from schema_examples import order

from adapters.rejects import parse_since, read_replay, render_csv, row_of
from schemas.serde import decode_record, encode_event, encode_record
from schemas.validate import validate_event
from streams import dlq
from streams.canonical import SourceRef
from topologies.naming import dlq_topic, member_topic

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KENT = "kent-police"


def euro_row(member: str = KENT) -> dict[str, object]:
    valid = encode_event(validate_event("purchase-order", order(member_id=member, entity_id="PO-1")))
    record = decode_record(valid).record | {"currency": "EUR"}
    value = encode_record("purchase-order", record)
    letter = dlq.dead_letter(
        dlq_topic(member),
        member,
        SourceRef(member_topic(member, "purchase-order"), 2, 41),
        b"PO-1",
        value,
        "unsupported",
        "currency: EUR is not supported",
        "currency",
    )
    row = row_of(member, 0, 7, int(NOW.timestamp() * 1000), letter.key, letter.value, letter.headers)
    return dict(json.loads(row.as_json()))


def test_a_dead_letter_becomes_a_row_with_the_event() -> None:
    row = euro_row()
    assert (row["kind"], row["field"], row["original_partition"], row["original_offset"]) == (
        "unsupported",
        "currency",
        2,
        41,
    )
    assert row["family"] == "purchase-order" and row["entity_id"] == "PO-1"
    assert row["event"]["currency"] == "EUR"  # type: ignore[index]
    assert row["rejected_at"] == "2026-12-02T12:00:00.000+00:00"


def test_undecodable_bytes_keep_their_bytes_and_no_event() -> None:
    row = row_of(KENT, 0, 1, 0, None, b"\x00garbage", [(dlq.KIND, b"decode"), (dlq.REASON, b"bad magic")])
    assert row.event is None and base64.b64decode(row.value_base64 or "") == b"\x00garbage"


def test_since_takes_durations_and_dates() -> None:
    assert parse_since("6h", NOW) == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    assert parse_since("2w", NOW) == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday", NOW)


def test_csv_has_the_header_and_one_line_per_reject() -> None:
    row = row_of(KENT, 0, 1, 0, b"k", b"x", [(dlq.KIND, b"decode"), (dlq.REASON, b"bad, very")])
    table = list(csv.DictReader(io.StringIO(render_csv([row, row]))))
    assert len(table) == 2 and table[0]["reason"] == "bad, very" and table[0]["field"] == ""


def test_replay_sends_only_fixed_events_of_the_members_own_rejects() -> None:
    unfixed = json.dumps(euro_row())
    checked = read_replay([unfixed], KENT, unchanged=False)
    assert not checked.events and "still rejected, unsupported: currency" in str(checked.problems[0])

    fixed = euro_row()
    fixed["event"]["currency"] = "GBP"  # type: ignore[index]
    checked = read_replay(["", json.dumps(fixed)], KENT, unchanged=False)
    assert not checked.problems and [n for n, _ in checked.events] == [2]

    others = read_replay([json.dumps(euro_row("essex-police"))], KENT, unchanged=False)
    assert "is not one of kent-police's topics" in str(others.problems[0])
    assert "not a JSON object" in str(read_replay(["[1]"], KENT, unchanged=False).problems[0])


def test_replay_unchanged_sends_the_original_bytes_to_the_original_topic() -> None:
    row = euro_row()
    checked = read_replay([json.dumps(row)], KENT, unchanged=True)
    ((line, topic, key, value),) = checked.unchanged
    assert (line, topic, key) == (1, member_topic(KENT, "purchase-order"), b"PO-1")
    assert value == base64.b64decode(str(row["value_base64"]))
