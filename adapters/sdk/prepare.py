"""From an adapter's dict to the event that may leave the partner, or why it may not.

The same checks the hub will make (schema, rules, GBP, tenancy) run here first, so a
partner learns about a bad row at its own desk, with the file and line, rather than from
its dead-letter topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from adapters.sdk.envelope import complete_envelope
from adapters.sdk.sharing import SharingPolicy
from schemas.models import Event
from schemas.serde import EncodeError, encode_event
from schemas.validate import Rejection, check_supported, check_tenant, validate_event
from topologies.naming import Family


class Prepared(NamedTuple):
    """A validated event and its bytes on the wire (encoded once, sent as they are)."""

    event: Event
    value: bytes


def prepare(
    family: Family,
    data: dict[str, Any],
    member: str,
    *,
    policy: SharingPolicy | None = None,
    source_system: str | None = None,
    now: datetime | None = None,
) -> Event:
    """The validated event as it will be sent (sharing policy applied), else a Rejection."""
    return prepare_encoded(family, data, member, policy=policy, source_system=source_system, now=now).event


def prepare_encoded(
    family: Family,
    data: dict[str, Any],
    member: str,
    *,
    policy: SharingPolicy | None = None,
    source_system: str | None = None,
    now: datetime | None = None,
) -> Prepared:
    """:func:`prepare`, keeping the encoding it checks, so a publisher need not encode again.

    Pydantic validates once per event: the policy is applied to the data first, so the
    model built is the one sent. Only when that fails is the data checked without the
    policy, to say whether the partner's data or the policy broke it.
    """
    filled = complete_envelope(family, member, data, source_system=source_system, published_at=now)
    shared = filled
    if policy is not None and not policy.is_empty():
        try:
            shared = policy.apply(family, filled)
        except Exception:  # data too malformed for the policy to walk: the partner's data says why
            validate_event(family, filled)
            raise
    try:
        event = validate_event(family, shared)
    except Rejection as exc:
        if shared is filled:
            raise
        validate_event(family, filled)  # the partner's own data is wrong: that is the reason
        raise Rejection(exc.kind, f"after the sharing policy: {exc.reason}", exc.field) from exc
    check_supported(event)
    check_tenant(event, member)
    try:  # what validates must also encode; found here, before anything of a batch is sent
        value = encode_event(event)
    except EncodeError as exc:
        raise Rejection("validation", f"the event cannot be encoded: {exc}") from exc
    return Prepared(event, value)
