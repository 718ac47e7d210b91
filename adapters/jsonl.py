"""Canonical events as JSON lines, read and checked whole before anything is published.

``bluelight publish`` is all-or-nothing per file: every line is parsed and validated (the
model's rules, GBP, the member) first; one bad line means nothing from the file is sent, so
a partner never has half a file on its topic to reconcile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.sdk.envelope import utc_now
from adapters.sdk.prepare import prepare
from adapters.sdk.sharing import SharingPolicy
from schemas.jsonin import JsonRefused, parse_json
from schemas.models import Event
from schemas.validate import Rejection
from topologies.naming import Family


@dataclass(frozen=True)
class LineError:
    """Why one line of a JSON-lines file is not a publishable event."""

    file: str
    line: int
    kind: str
    field: str | None
    reason: str

    def __str__(self) -> str:
        # The hub's reasons already start with the field path ("lines[0].line_total: ...").
        named = self.field is None or self.reason.startswith(self.field)
        return f"{self.file}:{self.line}: " + (self.reason if named else f"{self.field}: {self.reason}")


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a whole file: events in file order, or the errors."""

    events: list[tuple[int, Event]]
    errors: list[LineError]
    blank: int


def read_lines(path: Path) -> Iterator[tuple[int, str | UnicodeDecodeError]]:
    """(line number, text) of every line, 1-based, as UTF-8 (a BOM is ignored).

    Each line is decoded on its own, so a line that is not UTF-8 is that line's error
    (with its number), not the whole file's.
    """
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, exc


def parse_line(text: str) -> dict[str, Any]:
    """One line's JSON object, or ValueError saying what is wrong with it."""
    try:
        value = parse_json(text)
    except JsonRefused as exc:
        if exc.column is None:
            raise ValueError(f"refused: {exc.reason}") from None
        raise ValueError(f"invalid JSON at column {exc.column}: {exc.reason}") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object (one event per line), got {type(value).__name__}")
    return value


def check_file(
    path: Path,
    family: Family,
    member: str,
    *,
    policy: SharingPolicy | None = None,
    source_system: str | None = None,
    now: datetime | None = None,
) -> Checked:
    """Parse and validate every line of ``path`` as an event of ``family`` from ``member``."""
    stamp = now or utc_now()
    events: list[tuple[int, Event]] = []
    errors: list[LineError] = []
    blank = 0
    for number, text in read_lines(path):
        if isinstance(text, UnicodeDecodeError):
            reason = f"not UTF-8 text: byte {text.start + 1} of the line ({text.reason})"
            errors.append(LineError(path.name, number, "decode", None, reason))
            continue
        if not text.strip():
            blank += 1
            continue
        try:
            data = parse_line(text)
        except ValueError as exc:
            errors.append(LineError(path.name, number, "decode", None, str(exc)))
            continue
        try:
            events.append(
                (number, prepare(family, data, member, policy=policy, source_system=source_system, now=stamp))
            )
        except Rejection as exc:
            errors.append(LineError(path.name, number, exc.kind, exc.field, exc.reason))
    return Checked(events, errors, blank)
