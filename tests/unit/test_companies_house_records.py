"""The Companies House streaming records the status adapter reads, line by line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.companies_house.records import RecordError, parse_line, status_event
from schemas.status import encode_status, status_from_bytes


def record(
    number: object = "1471587", status: object = "administration", timepoint: object = 42, **extra: object
) -> str:
    body = {
        "resource_kind": "company-profile",
        "resource_uri": f"/company/{number}",
        "data": {"company_number": number, "company_name": "VODAFONE LIMITED", "company_status": status},
        "event": {"timepoint": timepoint, "published_at": "2026-11-20T10:01:02", "type": "changed"},
        **extra,
    }
    return json.dumps(body)


def test_a_profile_becomes_a_status_event_of_the_national_key() -> None:
    profile = parse_line(record())
    assert profile is not None
    assert (profile.supplier_key, profile.status, profile.timepoint) == ("CH:01471587", "administration", 42)
    assert profile.at == datetime(2026, 11, 20, 10, 1, 2, tzinfo=UTC)  # the API writes UTC without an offset
    event = status_event(profile, datetime(2026, 12, 1, tzinfo=UTC))
    assert (event.entity_version, event.member_id, event.entity_id) == (
        42,
        "bluelight-national",
        "CH:01471587",
    )
    assert status_from_bytes(encode_status(event)) == event
    # the same record again gives the same event id: a resend is recognisably the same
    again = status_event(parse_line(record()) or profile, datetime(2026, 12, 2, tzinfo=UTC))
    assert again.event_id == event.event_id


def test_heartbeats_and_other_resources_are_not_profiles() -> None:
    assert parse_line("\n") is None
    assert parse_line(json.dumps({"resource_kind": "company-officers", "data": {}, "event": {}})) is None


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (record(number=""), "company_number is missing"),
        (record(status=None), "company_status is missing"),
        (record(timepoint="42"), "timepoint must be a positive whole number"),
        (record(timepoint=0), "timepoint must be a positive whole number"),
        (record(number="11111111.0"), "company_number"),
    ],
)
def test_an_unusable_line_says_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(RecordError, match=says):
        parse_line(line)


def test_status_words_are_kept_lower_case() -> None:
    profile = parse_line(record(status="Liquidation"))
    assert profile is not None and profile.status == "liquidation"
