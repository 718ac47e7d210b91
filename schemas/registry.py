"""The schema registry topic: the writer schemas a release knows, for workers that do not yet.

Every message names its writer schema by fingerprint only (schemas/serde.py), so a worker can
read a partner's event only if its own ``schemas/avro`` has that version. During a rolling
upgrade a partner may already send purchase-order v2 while a worker still runs the release
before v2: without help that worker dead-letters every v2 order as ``decode``.

So ``topology apply`` writes the catalogue of the release that runs it to the compacted
reference topic ``bluelight.ref.schemas.v1``, one record per version, keyed by its fingerprint.
A worker that meets a fingerprint it does not know reads the topic to its end
(``streams/schema_feed.py``) and learns the version if it is there and names an event family it
knows; it then reads the message with that writer and its own latest version as
the reader (Avro schema resolution: the fields it does not know are skipped). A fingerprint the
topic does not have is still a ``decode`` rejection, as before.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.serde import CatalogueError, SchemaVersion, catalogue, schema_version
from schemas.vocabulary import FAMILIES


def registry_record(version: SchemaVersion) -> tuple[bytes, bytes]:
    """(key, value) of one version on the registry topic: its fingerprint (hex), and the schema."""
    value = {"name": version.name, "version": version.version, "schema": version.raw}
    return version.fingerprint.hex().encode(), json.dumps(value, sort_keys=True).encode()


def registry_records() -> list[tuple[bytes, bytes]]:
    """Every event schema version of this release, oldest first (views are the hub's own)."""
    return [registry_record(v) for v in catalogue() if v.name in FAMILIES]


def learned_version(key: bytes | None, value: bytes | None) -> SchemaVersion:
    """The version a registry record describes; CatalogueError for anything the worker must not learn."""
    if key is None or value is None:
        raise CatalogueError("a registry record without a key or a value")
    try:
        held: Any = json.loads(value)
        name, number, raw = held["name"], held["version"], held["schema"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogueError(f"registry record {key!r} is not a schema record: {exc}") from None
    if name not in FAMILIES or not isinstance(number, int) or number < 1:
        raise CatalogueError(f"registry record {key!r}: {name!r} v{number!r} is not an event schema version")
    version = schema_version(name, number, raw)
    if version.fingerprint.hex().encode() != key:
        raise CatalogueError(
            f"registry record {key!r} holds a schema whose fingerprint is {version.fingerprint.hex()}"
        )
    return version
