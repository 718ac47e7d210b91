"""Reading OCDS files in the shapes UK platforms publish them, down to releases per process.

Accepted shapes: a release package (``releases``), a record package (``records``, each with
a ``compiledRelease`` and/or embedded ``releases``), a bare record, a bare release (as the
2025 Contracts Finder notices are saved), or a JSON array of releases. Numbers are read as
Decimal so money is never a binary float. Files are UTF-8 as JSON requires; one that is not
is read as Windows-1252 (Contracts Finder serves ISO-8859-1) rather than refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.jsonin import JsonRefused, parse_json


class PackageError(ValueError):
    """A file, or an entry in it, that is not OCDS the adapter can read; ``where`` names the entry."""

    def __init__(self, where: str | None, reason: str) -> None:
        super().__init__(reason)
        self.where = where
        self.reason = reason


@dataclass
class ProcessInput:
    """What one file says about one process (ocid)."""

    ocid: str
    source: str
    releases: list[dict[str, Any]] = field(default_factory=list)
    compiled: dict[str, Any] | None = None
    # Releases a record lists (linked or embedded) that its compiledRelease already includes.
    compiled_count: int = 0


def load(path: Path) -> tuple[list[ProcessInput], list[PackageError]]:
    """The processes in one file, and the entries that could not be read (the rest still are)."""
    source = str(path)
    data = _parse(path.read_bytes())
    errors: list[PackageError] = []
    inputs: dict[str, ProcessInput] = {}

    def entry(ocid: str) -> ProcessInput:
        return inputs.setdefault(ocid, ProcessInput(ocid=ocid, source=source))

    if isinstance(data, list):
        releases: list[Any] = data
        where = "[{i}]"
    elif isinstance(data, dict) and isinstance(data.get("records"), list):
        for i, record in enumerate(data["records"]):
            try:
                _add_record(record, f"records[{i}]", entry)
            except PackageError as exc:
                errors.append(exc)
        return list(inputs.values()), errors
    elif isinstance(data, dict) and isinstance(data.get("releases"), list) and "ocid" not in data:
        releases = data["releases"]
        where = "releases[{i}]"
    elif isinstance(data, dict) and "ocid" in data and ("compiledRelease" in data or "releases" in data):
        _add_record(data, "record", entry)
        return list(inputs.values()), errors
    elif isinstance(data, dict) and "ocid" in data:
        releases = [data]
        where = "release"
    else:
        raise PackageError(None, "not an OCDS release, record, release package or record package")
    for i, release in enumerate(releases):
        try:
            ocid = _ocid(release, where.format(i=i))
        except PackageError as exc:
            errors.append(exc)
            continue
        entry(ocid).releases.append(release)
    return list(inputs.values()), errors


def _add_record(record: Any, where: str, entry: Any) -> None:
    ocid = _ocid(record, where)
    listed = record.get("releases") if isinstance(record.get("releases"), list) else []
    embedded = [r for r in listed if isinstance(r, dict) and "url" not in r and "tag" in r and "ocid" in r]
    compiled = record.get("compiledRelease")
    target = entry(ocid)
    if isinstance(compiled, dict):
        target.compiled = compiled
        target.compiled_count = max(len(listed), 1)
    elif embedded:
        target.releases.extend(embedded)
    else:
        raise PackageError(
            where,
            f"record {ocid} has neither a compiledRelease nor embedded releases (only links), so there is "
            "nothing to compile",
        )


def _ocid(obj: Any, where: str) -> str:
    if not isinstance(obj, dict):
        raise PackageError(where, f"{where} is not a JSON object")
    ocid = obj.get("ocid")
    if not isinstance(ocid, str) or not ocid.strip():
        raise PackageError(where, f"{where} has no ocid")
    return ocid.strip()


OCDS_MAX_DEPTH = 32  # a release package is about 10 deep (package > releases > awards > items > ...)


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    try:  # the contract's bounded reader: no duplicate keys, huge numbers, NaN or runaway nesting
        return parse_json(text, max_depth=OCDS_MAX_DEPTH, decimals=True)
    except JsonRefused as exc:
        if exc.line is not None:
            raise PackageError(
                None, f"not valid JSON (line {exc.line}, column {exc.column}): {exc.reason}"
            ) from None
        raise PackageError(None, f"not valid JSON: {exc.reason}") from None
