"""OCDS compiled releases: the current state of a process from its partial releases.

A release states only what changed, so the adapter merges a process's releases in date
order by the OCDS merge routine (standard: docs/schema/merging.md), and every event it
then maps carries the process's full current state:

- objects merge field by field; a ``null`` removes the field;
- an array of objects that all have an ``id`` merges by ``id`` (matching objects merged,
  new ones appended); every other array replaces the previous value whole;
- the fields the schema marks ``wholeListMerge`` (``additionalIdentifiers``,
  ``additionalClassifications``, ``identifiers``) always replace whole;
- the release's own ``id``, ``date`` and ``tag`` are not merged: the result is tagged
  ``compiled`` with the newest release's date and id ``{ocid}-{date}``.

No schema is loaded (and so no network): the rules above are what the 1.1 schema's
annotations reduce to for the fields the adapter reads.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

RELEASE_METADATA = ("id", "date", "tag")
WHOLE_LIST_FIELDS = frozenset({"additionalIdentifiers", "additionalClassifications", "identifiers"})


class MergeError(ValueError):
    """Releases that cannot be put in order (a release without a usable ``date``)."""


def release_moment(release: dict[str, Any]) -> datetime:
    """A release's ``date`` as an aware datetime (naive dates taken as UTC), or MergeError."""
    raw = release.get("date")
    if not isinstance(raw, str) or not raw.strip():
        raise MergeError(
            f"release {release.get('id')!r} of {release.get('ocid')!r} has no date, so it cannot be ordered"
        )
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise MergeError(
            f"release {release.get('id')!r} has date {raw!r}, not an ISO 8601 date-time"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def compile_releases(
    releases: Sequence[dict[str, Any]], base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The compiled release of ``releases`` (one ocid), merged onto ``base`` when given.

    ``base`` is an earlier compiled release (a record's ``compiledRelease``); releases are
    merged in date order, ties kept in the order given.
    """
    ordered = sorted(releases, key=release_moment)
    out: dict[str, Any] = {}
    latest: datetime | None = None
    if base is not None:
        _merge_object(out, {k: v for k, v in base.items() if k not in RELEASE_METADATA})
        latest = release_moment(base)
    for release in ordered:
        _merge_object(out, {k: v for k, v in release.items() if k not in RELEASE_METADATA})
        latest = release_moment(release)
    if latest is None:
        raise MergeError("nothing to compile: no releases and no compiled release")
    stamp = (base or {}).get("date") if not ordered else ordered[-1]["date"]
    return {
        "ocid": out.get("ocid"),
        "id": f"{out.get('ocid')}-{stamp}",
        "date": stamp,
        "tag": ["compiled"],
        **out,
    }


def _merge_object(out: dict[str, Any], incoming: dict[str, Any]) -> None:
    for key, value in incoming.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            if not value and key not in out:
                continue  # an empty object adds nothing
            target = out.get(key)
            if not isinstance(target, dict):
                target = {}
            _merge_object(target, value)
            out[key] = target
        elif isinstance(value, list):
            out[key] = _merge_array(key, out.get(key), value)
        else:
            out[key] = value


def _merge_array(key: str, existing: Any, incoming: list[Any]) -> list[Any]:
    by_id = key not in WHOLE_LIST_FIELDS and all(isinstance(x, dict) and "id" in x for x in incoming)
    if not by_id:
        return copy.deepcopy(incoming)
    if not incoming:
        return existing if isinstance(existing, list) else []
    merged: list[Any] = existing if isinstance(existing, list) else []
    for obj in incoming:
        match = next((m for m in merged if isinstance(m, dict) and m.get("id") == obj["id"]), None)
        if match is None:
            match = {}
            merged.append(match)
        _merge_object(match, obj)
    return merged
