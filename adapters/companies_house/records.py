"""From a Companies House streaming API record to a supplier-status event (pure).

The streaming API (``/companies``) sends one JSON object per line: ``resource_kind``
(``company-profile``), ``data`` (``company_number``, ``company_name``, ``company_status``, ...)
and ``event`` (``timepoint``, ``published_at``). A status event is made only for a company the
hub knows as a supplier (``CH:<number>``), and only past the last timepoint already published, so
the adapter can be re-run on the same file or resumed on the stream without sending twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.identity import normalise_companies_house
from schemas.status import PUBLISHER, SupplierStatusEvent, event_id_for

SOURCE = "companies-house"


class RecordError(ValueError):
    """A line that is not a usable company-profile record; says what is wrong."""


@dataclass(frozen=True)
class Profile:
    """What one company-profile record says."""

    supplier_key: str
    name: str
    status: str
    timepoint: int
    at: datetime


def parse_line(line: str) -> Profile | None:
    """The profile on one line; None for a heartbeat (blank) or another resource kind."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise RecordError(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    if record.get("resource_kind") != "company-profile":
        return None
    data, event = record.get("data"), record.get("event")
    if not isinstance(data, dict) or not isinstance(event, dict):
        raise RecordError("a company-profile record needs 'data' and 'event' objects")
    number, status, timepoint = data.get("company_number"), data.get("company_status"), event.get("timepoint")
    if not isinstance(number, str) or not number.strip():
        raise RecordError("data.company_number is missing")
    if not isinstance(status, str) or not status.strip():
        raise RecordError(f"data.company_status is missing for company {number}")
    if not isinstance(timepoint, int) or isinstance(timepoint, bool) or timepoint <= 0:
        raise RecordError(f"event.timepoint must be a positive whole number, not {timepoint!r}")
    try:
        key = "CH:" + normalise_companies_house(number)
    except ValueError as exc:
        raise RecordError(f"data.company_number: {exc}") from None
    name = data.get("company_name") if isinstance(data.get("company_name"), str) else number
    return Profile(key, str(name).strip() or number, status.strip().lower(), timepoint, _when(event))


def _when(event: dict[str, Any]) -> datetime:
    raw = event.get("published_at")
    if not isinstance(raw, str):
        raise RecordError("event.published_at is missing")
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"event.published_at {raw!r} is not an ISO date-time") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # the API writes UTC without an offset


def status_event(profile: Profile, now: datetime) -> SupplierStatusEvent:
    """The supplier-status event of a profile (its version: the feed's timepoint)."""
    at = profile.at.astimezone(UTC).replace(microsecond=profile.at.microsecond // 1000 * 1000)
    return SupplierStatusEvent(
        event_id=event_id_for(profile.supplier_key, profile.timepoint),
        member_id=PUBLISHER,
        source_system=SOURCE,
        entity_id=profile.supplier_key,
        entity_version=profile.timepoint,
        occurred_at=at,
        published_at=now.astimezone(UTC).replace(microsecond=now.microsecond // 1000 * 1000),
        supplier_key=profile.supplier_key,
        name=profile.name,
        status=profile.status,
        status_at=at,
        source=SOURCE,
    )
