"""What every file adapter yields: a mapped canonical event, or a row-level error.

Adapters are pure readers (file in, outcomes out); publishing, checkpoints and the sharing
policy live in the SDK, so each adapter is only the mapping its source needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from topologies.naming import Family


@dataclass(frozen=True)
class Mapped:
    """One canonical event, as a dict with the spec's field names (JSON-ready values)."""

    family: Family
    event: dict[str, Any]
    source: str  # where it came from, e.g. "orders.csv:12" or "Order_Example.xml"
    rows: int = 1  # input rows it was made of (a CSV transaction's cost lines), for "rows read"


@dataclass(frozen=True)
class RowError:
    """Why one input row or document could not become an event."""

    file: str
    line: int | None
    column: str | None
    reason: str
    raw: str = field(default="", repr=False)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        col = f" [{self.column}]" if self.column else ""
        return f"{where}{col}: {self.reason}"


class ConfigMismatch(RowError):
    """The whole file cannot be read with this config (e.g. no header the mapping names).

    A configuration error, not a bad row: commands exit 2 for it, as for a bad mapping file.
    """


@dataclass(frozen=True)
class Skipped:
    """An input line deliberately not read (blank, footer total, preamble), counted in summaries."""

    file: str
    line: int | None
    reason: str


Outcome = Mapped | RowError | Skipped


class FileAdapter(Protocol):
    """A source format: reads paths, yields outcomes in input order."""

    def __call__(self, paths: list[Path], member: str, config: dict[str, Any] | None) -> Iterator[Outcome]:
        """Map every document or row under ``paths``."""
        ...
