"""The one place topic names are made.

Every topic the hub, the adapters or a test touches gets its name from a function here,
so a rename is one edit and the naming convention (``bluelight.<area>.<...>.v<n>``) is
enforced rather than remembered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from schemas.vocabulary import FAMILIES, Family, NamingError, check_member_id

# The topic segment of each family is its plural, as partners read it in the topic list.
_FAMILY_SEGMENT: dict[Family, str] = {
    "purchase-order": "purchase-orders",
    "contract": "contracts",
    "supplier": "suppliers",
}
_SEGMENT_FAMILY: dict[str, Family] = {v: k for k, v in _FAMILY_SEGMENT.items()}

VIEWS: tuple[str, ...] = (
    "category-spend",
    "supplier-exposure",
    "contract-pipeline",
    "price-benchmark",
    "member-activity",
    "supplier-diversity",
    "contract-coverage",
)

PREFIX = "bluelight"
MEMBER_PREFIX = f"{PREFIX}.member."
DLQ_PREFIX = f"{PREFIX}.dlq."
VIEW_PREFIX = f"{PREFIX}.view."
HUB_PREFIX = f"{PREFIX}.hub."
REF_PREFIX = f"{PREFIX}.ref."
ALERT_PREFIX = f"{PREFIX}.alerts."
NATIONAL_ALERTS = f"{ALERT_PREFIX}national.v1"  # "national" is reserved: no member may take it

# The faust application of the stream processors; its group id and the prefix of faust's own
# topics (faust names its leader topic "<id>-__assignor-__leader").
HUB_APP_ID = f"{PREFIX}.hub"
# The consumer group of the ingest stage (plain aiokafka, pattern-subscribed).
INGEST_GROUP = f"{PREFIX}.hub.ingest"

# Matches every member input topic; used for the ingest's pattern subscription.
MEMBER_TOPIC_PATTERN = (
    r"^bluelight\.member\.[a-z0-9][a-z0-9-]{1,40}\.(purchase-orders|contracts|suppliers)\.v1$"
)
# The national supplier-status feed (events.md), read by ingest beside the member topics.
SUPPLIER_STATUS = "supplier-status"
INGEST_PATTERN = rf"{MEMBER_TOPIC_PATTERN}|^bluelight\.ref\.{SUPPLIER_STATUS}\.v1$"
_MEMBER_TOPIC_RE = re.compile(
    r"^bluelight\.member\.(?P<member>[a-z0-9][a-z0-9-]{1,40})\."
    r"(?P<segment>purchase-orders|contracts|suppliers)\.v1$"
)


def family_segment(family: str) -> str:
    """The plural topic segment of a family, with a clear error for an unknown one."""
    if family not in _FAMILY_SEGMENT:
        raise NamingError(f"unknown family {family!r}: expected one of {', '.join(FAMILIES)}")
    return _FAMILY_SEGMENT[cast(Family, family)]


def member_topic(member: str, family: str) -> str:
    """A member's input topic for one family, e.g. ``bluelight.member.kent-police.contracts.v1``."""
    return f"{MEMBER_PREFIX}{check_member_id(member)}.{family_segment(family)}.v1"


def member_topics(member: str) -> list[str]:
    """All input topics of a member."""
    return [member_topic(member, f) for f in FAMILIES]


def member_topic_prefix(member: str) -> str:
    """The prefix every input topic of ``member`` starts with (for prefixed ACLs)."""
    return f"{MEMBER_PREFIX}{check_member_id(member)}."


def dlq_topic(member: str) -> str:
    """The dead-letter topic the hub writes a member's rejected events to."""
    return f"{DLQ_PREFIX}{check_member_id(member)}.v1"


def alert_topic(member: str) -> str:
    """The topic a member's supplier alerts go to (only the member reads it)."""
    if member == "national":
        raise NamingError("'national' is reserved for the national alerts topic")
    return f"{ALERT_PREFIX}{check_member_id(member)}.v1"


def view_topic(view: str) -> str:
    """The compacted topic a national view is published on."""
    if view not in VIEWS:
        raise NamingError(f"unknown view {view!r}: expected one of {', '.join(VIEWS)}")
    return f"{VIEW_PREFIX}{view}.v1"


def hub_topic(name: str) -> str:
    """An internal topic of the hub, e.g. ``bluelight.hub.canonical.v1``."""
    return f"{HUB_PREFIX}{name}.v1"


def ref_topic(name: str) -> str:
    """A reference-data topic, e.g. ``bluelight.ref.categories.v1``."""
    return f"{REF_PREFIX}{name}.v1"


@dataclass(frozen=True)
class MemberTopic:
    """What a member input topic's name says: whose it is and which family."""

    member: str
    family: Family


def parse_member_topic(topic: str) -> MemberTopic | None:
    """Split a member input topic name; ``None`` when ``topic`` is not one."""
    m = _MEMBER_TOPIC_RE.match(topic)
    if m is None:
        return None
    return MemberTopic(member=m.group("member"), family=_SEGMENT_FAMILY[m.group("segment")])


def hub_changelog_topic(table: str) -> str:
    """The changelog topic of one of the worker's faust tables, declared rather than auto-made."""
    return hub_topic(f"{table}-changelog")


def faust_leader_topic() -> str:
    """The topic faust's partition assignor creates for leader election."""
    return f"{HUB_APP_ID}-__assignor-__leader"


# --- Added by the topology engineer (additive): names the topology's ACLs are built on. ---

# Every topic the topology manages starts with this; nothing outside it is ever deleted.
MANAGED_TOPIC_PREFIX = f"{PREFIX}."
SUBSCRIBER_GROUP_PREFIX = f"{PREFIX}.subscriber."


def member_group_prefix(member: str) -> str:
    """The consumer-group prefix a member may use (e.g. to read its own dead-letter topic)."""
    return f"{MEMBER_PREFIX}{check_member_id(member)}."


def subscriber_group_prefix(subscriber: str) -> str:
    """The consumer-group prefix a view subscriber may use."""
    return f"{SUBSCRIBER_GROUP_PREFIX}{check_member_id(subscriber)}."
