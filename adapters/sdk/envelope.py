"""The envelope fields an adapter fills in, so partners' mappings never have to.

The event id is derived, not random: a resend of the same (member, family, entity,
version) carries the same id, which is what lets the hub and any downstream consumer treat
it as the duplicate it is.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from topologies.naming import Family

# Fixed for the life of the project: changing it would give every resend a new id.
EVENT_ID_NAMESPACE = uuid.UUID("6f1f7c2e-3b1a-5d8e-9a4c-0b7e2d4c9f10")


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def event_id_for(member: str, family: Family, entity_id: str, entity_version: object) -> str:
    """The deterministic event id: uuid5 of member/family/entity_id/entity_version.

    Computed as RFC 4122 defines uuid5 (SHA-1 of namespace and name, version and variant
    bits set) without building UUID objects, since adapters derive one per event, and never
    raising: a lone surrogate in a hostile ``entity_id`` is encoded as is, and the event is
    then refused by validation with a reason, not by a crash here.
    """
    name = f"{member}/{family}/{entity_id}/{_version_text(entity_version)}"
    data = _NAMESPACE_BYTES + name.encode("utf-8", "surrogatepass")
    digest = bytearray(hashlib.sha1(data, usedforsecurity=False).digest()[:16])  # noqa: S324 - uuid5 is sha1
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _version_text(version: object) -> str:
    # "3", 3 and 3.0 name the same version; anything else is left for validation to reject.
    if isinstance(version, bool) or (isinstance(version, int) and version.bit_length() > 64):
        return repr(type(version))
    text = str(version)[:64]
    try:
        return str(int(text))
    except ValueError:
        return text


def utc_now() -> datetime:
    """Now, in UTC to the millisecond (the precision of the Avro timestamp)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@lru_cache(maxsize=8)  # a run stamps thousands of events with the same few instants
def iso_z(moment: datetime) -> str:
    """ISO-8601 with a Z, millisecond precision, as the JSON form writes timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def complete_envelope(
    family: Family,
    member: str,
    data: dict[str, Any],
    *,
    source_system: str | None = None,
    published_at: datetime | None = None,
) -> dict[str, Any]:
    """A copy of ``data`` with the envelope completed.

    ``member_id`` and ``source_system`` are filled only when absent (missing, null or "");
    a value of the wrong type (``false``, ``[]``) is left for validation to refuse, and a
    different member for the tenant check, never overwritten. ``event_id`` is derived when
    absent; ``published_at`` is always the adapter's own clock, as the spec defines it.
    """
    out = dict(data)
    if _absent(out.get("member_id")):
        out["member_id"] = member
    if source_system and _absent(out.get("source_system")):
        out["source_system"] = source_system
    if (
        _absent(out.get("event_id"))
        and isinstance(out.get("entity_id"), str)
        and out["entity_id"] != ""
        and out.get("entity_version") is not None
    ):
        out["event_id"] = event_id_for(
            str(out["member_id"]), family, str(out["entity_id"]), out["entity_version"]
        )
    out["published_at"] = iso_z(published_at or utc_now())
    return out


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, str) and value == "")
