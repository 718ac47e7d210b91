"""The contract's vocabulary: the event families and what a member id looks like.

They belong to the event contract (docs/schemas.md); ``topologies.naming`` builds topic names
from them, so the contract never depends on how topics are named.
"""

from __future__ import annotations

import re
from typing import Literal

Family = Literal["purchase-order", "contract", "supplier"]
FAMILIES: tuple[Family, ...] = ("purchase-order", "contract", "supplier")

MEMBER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


class NamingError(ValueError):
    """A member id, family or view name that cannot form a topic name."""


def check_member_id(member: str) -> str:
    """Return ``member`` if it is a valid slug, else raise with what a valid one looks like."""
    if not MEMBER_ID_RE.match(member):
        raise NamingError(
            f"member id {member!r} is not a slug: use 2-41 lower-case letters, digits and hyphens, "
            "starting with a letter or digit (e.g. 'kent-police')"
        )
    return member
