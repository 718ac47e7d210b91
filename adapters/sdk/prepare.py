"""From an adapter's dict to the event that may leave the partner, or why it may not.

The same checks the hub will make (schema, rules, GBP, tenancy) run here first, so a
partner learns about a bad row at its own desk, with the file and line, rather than from
its dead-letter topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.sdk.envelope import complete_envelope
from adapters.sdk.sharing import SharingPolicy
from schemas.models import Event
from schemas.serde import EncodeError, encode_event
from schemas.validate import Rejection, check_supported, check_tenant, validate_event
from topologies.naming import Family


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
    filled = complete_envelope(family, member, data, source_system=source_system, published_at=now)
    event = validate_event(family, filled)
    check_supported(event)
    check_tenant(event, member)
    if policy is not None and not policy.is_empty():
        shared = policy.apply(family, event.model_dump(mode="json"))
        try:
            event = validate_event(family, shared)
        except Rejection as exc:  # a policy that breaks events is a bug in the policy rules, said so
            raise Rejection(exc.kind, f"after the sharing policy: {exc.reason}", exc.field) from exc
    try:  # what validates must also encode; found here, before anything of a batch is sent
        encode_event(event)
    except EncodeError as exc:
        raise Rejection("validation", f"the event cannot be encoded: {exc}") from exc
    return event
