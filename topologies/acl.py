"""Who may do what: the ACL bindings of each role, built from names in :mod:`topologies.naming`.

One builder per role (member, subscriber, hub), in the spirit of JulieOps' ACL binding
builders. Every grant is ALLOW on a prefix or a literal name; nothing is granted on ``*``.
Principals follow one convention (``member-<id>``, ``subscriber-<id>``, the hub's own name),
which is also how the planner recognises the users and ACLs it manages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from topologies import naming

ResourceType = Literal["TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"]
PatternType = Literal["LITERAL", "PREFIXED"]
Operation = Literal[
    "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
]  # fmt: skip
Permission = Literal["ALLOW", "DENY"]

MEMBER_USER_PREFIX = "member-"
SUBSCRIBER_USER_PREFIX = "subscriber-"


@dataclass(frozen=True, order=True)
class AclBinding:
    """One Kafka ACL: ``principal`` may (or may not) do ``operation`` on a resource pattern."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = "ALLOW"
    host: str = "*"

    def describe(self) -> str:
        """One readable line, e.g. for ``topology plan``."""
        return (
            f"{self.principal} {self.permission} {self.operation} on {self.resource_type} "
            f"{self.pattern.lower()} {self.resource_name!r}"
        )


def member_user(member_id: str) -> str:
    """The SCRAM user name of a member."""
    return MEMBER_USER_PREFIX + naming.check_member_id(member_id)


def subscriber_user(subscriber_id: str) -> str:
    """The SCRAM user name of a view subscriber."""
    return SUBSCRIBER_USER_PREFIX + naming.check_member_id(subscriber_id)


def principal(user: str) -> str:
    """The Kafka principal of a SCRAM user."""
    return f"User:{user}"


def is_managed_user(user: str, hub_user: str) -> bool:
    """Whether a user name belongs to the topology's convention (so it may be deleted when undeclared)."""
    return user == hub_user or user.startswith((MEMBER_USER_PREFIX, SUBSCRIBER_USER_PREFIX))


def is_managed_acl(binding: AclBinding, hub_user: str) -> bool:
    """Whether an ACL is the topology's: its principal follows the convention."""
    kind, _, user = binding.principal.partition(":")
    return kind == "User" and is_managed_user(user, hub_user)


def _grant(
    who: str, rtype: ResourceType, name: str, pattern: PatternType, *ops: Operation
) -> list[AclBinding]:
    return [AclBinding(principal(who), rtype, name, pattern, op) for op in ops]


def member_acls(member_id: str) -> list[AclBinding]:
    """Write its own input topics (prefix with the trailing dot), read its own dead letters and alerts."""
    who = member_user(member_id)
    return [
        *_grant(who, "TOPIC", naming.member_topic_prefix(member_id), "PREFIXED", "WRITE", "DESCRIBE"),
        *_grant(who, "TOPIC", naming.dlq_topic(member_id), "LITERAL", "READ", "DESCRIBE"),
        *_grant(who, "TOPIC", naming.alert_topic(member_id), "LITERAL", "READ", "DESCRIBE"),
        *_grant(who, "GROUP", naming.member_group_prefix(member_id), "PREFIXED", "READ"),
    ]


def subscriber_acls(subscriber_id: str, views: list[str] | None) -> list[AclBinding]:
    """Read the national views (all of them by prefix, or the listed ones literally), and its groups."""
    who = subscriber_user(subscriber_id)
    if views is None:
        topics = _grant(who, "TOPIC", naming.VIEW_PREFIX, "PREFIXED", "READ", "DESCRIBE")
    else:
        topics = [
            b
            for v in views
            for b in _grant(who, "TOPIC", naming.view_topic(v), "LITERAL", "READ", "DESCRIBE")
        ]
    return [*topics, *_grant(who, "GROUP", naming.subscriber_group_prefix(subscriber_id), "PREFIXED", "READ")]


def hub_acls(hub_user: str) -> list[AclBinding]:
    """Read every member's input and the reference data; write dead letters and views; own its internals.

    The hub reads the views back too: at start the publisher reconciles its index with
    what the view topics already hold (streams/publish.py).

    ``ALL`` on the prefix ``bluelight.hub`` (no dot) covers the hub's streams and changelogs
    (``bluelight.hub.…``) and faust's leader topic (``bluelight.hub-__assignor-__leader``);
    the group prefix covers the faust app's group and the ingest group. Create on views lets
    the worker make a missing view topic at start (``ensure_hub_topics``); members get no
    Create anywhere. Idempotent produce needs no cluster ACL since KIP-679 (Write implies it).
    """
    return [
        *_grant(hub_user, "TOPIC", naming.MEMBER_PREFIX, "PREFIXED", "READ", "DESCRIBE"),
        *_grant(hub_user, "TOPIC", naming.DLQ_PREFIX, "PREFIXED", "READ", "WRITE", "DESCRIBE"),  # pages
        *_grant(hub_user, "TOPIC", naming.VIEW_PREFIX, "PREFIXED", "READ", "WRITE", "DESCRIBE", "CREATE"),
        *_grant(hub_user, "TOPIC", naming.REF_PREFIX, "PREFIXED", "READ", "DESCRIBE"),
        # the reference adapter (bluelight adapter companies-house) runs as the hub
        *_grant(hub_user, "TOPIC", naming.ref_topic(naming.SUPPLIER_STATUS), "LITERAL", "WRITE"),
        *_grant(hub_user, "TOPIC", naming.ALERT_PREFIX, "PREFIXED", "READ", "WRITE", "DESCRIBE"),
        *_grant(hub_user, "TOPIC", naming.HUB_APP_ID, "PREFIXED", "ALL"),
        *_grant(hub_user, "GROUP", naming.HUB_APP_ID, "PREFIXED", "READ"),
    ]
