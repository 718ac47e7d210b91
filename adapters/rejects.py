"""A member's dead letters as rows it can read and fix, and fixed rows back into events.

Pure: ``bluelight rejects`` (adapters/rejects_cli.py) reads the member's DLQ topic and hands
each record here. A row carries what the hub said (kind, reason, field), where the original
was read (topic, partition, offset) and the event itself, decoded when its bytes could be,
so a partner can correct the ``event`` object of a JSON row and send the file back with
``bluelight rejects replay``. The original bytes are kept too (``value_base64``), for
replaying unchanged after a fix on the hub's side.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.models import Event
from schemas.serde import DecodeError, decode_event, encode_event, event_from_bytes
from schemas.validate import Rejection, validate_event
from streams import dlq
from topologies.naming import member_topic, parse_member_topic

CSV_FIELDS = (
    "rejected_at",
    "kind",
    "field",
    "reason",
    "original_topic",
    "original_partition",
    "original_offset",
    "event_key",
    "entity_id",
    "entity_version",
)


@dataclass(frozen=True)
class RejectRow:
    """One dead letter, as the member sees it."""

    member: str
    dlq_partition: int
    dlq_offset: int
    rejected_at: str  # the dead letter's timestamp, ISO 8601 UTC
    kind: str
    reason: str
    field: str | None
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    family: str | None
    event_key: str | None
    entity_id: str | None
    entity_version: int | None
    event: dict[str, Any] | None  # the decoded event (spec field names), None if undecodable
    value_base64: str | None  # the original bytes, unchanged

    def as_json(self) -> str:
        """One JSON line."""
        return json.dumps(asdict(self), ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def row_of(
    member: str,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> RejectRow:
    """The row of one record read from ``member``'s DLQ topic."""
    hdrs = tuple(headers)
    topic = dlq.header(hdrs, dlq.ORIGINAL_TOPIC) or ""
    owner = parse_member_topic(topic)
    event: dict[str, Any] | None = None
    if value:
        try:
            _, record = decode_event(value)
            event = json.loads(json.dumps(record, default=_jsonable))
        except (DecodeError, ValueError):
            event = None
    return RejectRow(
        member=member,
        dlq_partition=partition,
        dlq_offset=offset,
        rejected_at=datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds"),
        kind=dlq.header(hdrs, dlq.KIND) or "unknown",
        reason=dlq.header(hdrs, dlq.REASON) or "",
        field=dlq.header(hdrs, dlq.FIELD),
        original_topic=topic,
        original_partition=_int(dlq.header(hdrs, dlq.ORIGINAL_PARTITION)),
        original_offset=_int(dlq.header(hdrs, dlq.ORIGINAL_OFFSET)),
        family=owner.family if owner is not None else None,
        event_key=key.decode(errors="replace") if key is not None else None,
        entity_id=str(event["entity_id"]) if event and "entity_id" in event else None,
        entity_version=int(event["entity_version"]) if event and "entity_version" in event else None,
        event=event,
        value_base64=base64.b64encode(value).decode() if value is not None else None,
    )


def render_csv(rows: Iterable[RejectRow]) -> str:
    """CSV with a header line: what was wrong and where, without the event itself."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        data = asdict(row)
        writer.writerow(["" if data[f] is None else data[f] for f in CSV_FIELDS])
    return out.getvalue()


def render_text(rows: Sequence[RejectRow]) -> str:
    """A short human listing, one reject per paragraph."""
    lines = []
    for row in rows:
        where = f"{row.original_topic}[{row.original_partition}]@{row.original_offset}"
        entity = f" {row.entity_id} v{row.entity_version}" if row.entity_id else ""
        field = f" field {row.field}:" if row.field else ""
        lines.append(f"{row.rejected_at}  {row.kind:<11} {where}{entity}\n   {field} {row.reason}".rstrip())
    return "\n".join(lines)


_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: a duration back from ``now`` (30m, 6h, 7d, 2w) or an ISO date or instant."""
    match = _SINCE.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration (30m, 6h, 7d, 2w) nor a date (2026-11-01)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FixProblem:
    """A line of a replay file that cannot be sent, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Replay:
    """What a replay file holds: corrected events, or original bytes for their topics."""

    events: list[tuple[int, Event]]
    unchanged: list[tuple[int, str, bytes | None, bytes]]  # line, topic, key, value
    problems: list[FixProblem]


def read_replay(lines: Iterable[str], member: str, unchanged: bool) -> Replay:
    """Check every line of a ``rejects --json`` file (edited or not) before anything is sent.

    Each line must be one of ``member``'s own rejects. By default its ``event`` object (as
    corrected) is validated exactly as the hub will; with ``unchanged`` its original bytes
    are sent as they were (after a fix on the hub's side, e.g. a new category map).
    """
    events: list[tuple[int, Event]] = []
    raw: list[tuple[int, str, bytes | None, bytes]] = []
    problems: list[FixProblem] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
            if not isinstance(row, Mapping):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            problems.append(FixProblem(number, f"not a JSON object ({exc})"))
            continue
        owner = parse_member_topic(str(row.get("original_topic", "")))
        if owner is None or owner.member != member:
            problems.append(
                FixProblem(
                    number, f"original_topic {row.get('original_topic')!r} is not one of {member}'s topics"
                )
            )
            continue
        if unchanged:
            if not row.get("value_base64"):
                problems.append(FixProblem(number, "no value_base64: nothing to send unchanged"))
                continue
            key = row.get("event_key")
            topic = member_topic(owner.member, owner.family)
            raw.append((number, topic, key.encode() if key else None, base64.b64decode(row["value_base64"])))
            continue
        event = row.get("event")
        if not isinstance(event, Mapping):
            problems.append(
                FixProblem(
                    number, "no event object (the original could not be decoded): write the event anew"
                )
            )
            continue
        try:
            # the hub's own checks, in its order: schema and rules, currency, tenant
            checked = event_from_bytes(
                encode_event(validate_event(owner.family, dict(event))), member, owner.family
            )
        except Rejection as exc:
            where = f"{exc.field}: " if exc.field else ""
            problems.append(FixProblem(number, f"still rejected, {exc.kind}: {where}{exc.reason}"))
            continue
        events.append((number, checked))
    return Replay(events, raw, problems)
