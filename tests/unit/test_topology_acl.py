"""The ACL builders: which names each grant covers (prefix semantics checked by hand)."""

from __future__ import annotations

from topologies import acl, naming
from topologies.acl import AclBinding


def covers(binding: AclBinding, name: str) -> bool:
    """Kafka's matching: a literal names one resource, a prefix every name starting with it."""
    if binding.pattern == "LITERAL":
        return name == binding.resource_name
    return name.startswith(binding.resource_name)


def granted(bindings: list[AclBinding], rtype: str, name: str) -> set[str]:
    return {b.operation for b in bindings if b.resource_type == rtype and covers(b, name)}


def test_a_members_prefix_stops_at_the_dot() -> None:
    kent = acl.member_acls("kent")
    assert granted(kent, "TOPIC", naming.member_topic("kent", "contract")) == {"WRITE", "DESCRIBE"}
    assert granted(kent, "TOPIC", naming.member_topic("kent-fire", "contract")) == set()
    assert granted(kent, "TOPIC", naming.dlq_topic("kent")) == {"READ", "DESCRIBE"}
    assert granted(kent, "TOPIC", naming.dlq_topic("kent-fire")) == set()
    assert granted(kent, "GROUP", naming.member_group_prefix("kent") + "dlq-reader") == {"READ"}
    assert granted(kent, "GROUP", naming.member_group_prefix("kent-fire") + "x") == set()
    assert granted(kent, "GROUP", naming.INGEST_GROUP) == set()
    assert all(b.principal == "User:member-kent" and b.permission == "ALLOW" for b in kent)
    assert not any(b.resource_type == "CLUSTER" or b.operation in ("CREATE", "ALL", "ALTER") for b in kent)


def test_the_hub_covers_faust_internals_and_no_member_writes() -> None:
    hub = acl.hub_acls("hub")
    for internal in (
        naming.faust_leader_topic(),
        naming.hub_topic("canonical"),
        naming.hub_changelog_topic("x"),
    ):
        assert granted(hub, "TOPIC", internal) == {"ALL"}
    for group in (naming.HUB_APP_ID, naming.INGEST_GROUP):
        assert granted(hub, "GROUP", group) == {"READ"}
    assert granted(hub, "TOPIC", naming.member_topic("kent", "supplier")) == {"READ", "DESCRIBE"}
    assert granted(hub, "TOPIC", naming.dlq_topic("kent")) == {"READ", "WRITE", "DESCRIBE"}  # READ: pages
    assert granted(hub, "TOPIC", naming.view_topic("category-spend")) == {
        "READ",
        "WRITE",
        "DESCRIBE",
        "CREATE",
    }


def test_subscribers_read_views_only() -> None:
    everything = acl.subscriber_acls("dash", None)
    one = acl.subscriber_acls("narrow", ["price-benchmark"])
    for view in naming.VIEWS:
        assert granted(everything, "TOPIC", naming.view_topic(view)) == {"READ", "DESCRIBE"}
        assert granted(one, "TOPIC", naming.view_topic(view)) == (
            {"READ", "DESCRIBE"} if view == "price-benchmark" else set()
        )
    assert granted(everything, "TOPIC", naming.member_topic("kent", "contract")) == set()
    assert granted(everything, "GROUP", naming.subscriber_group_prefix("dash") + "x") == {"READ"}


def test_managed_principals_follow_the_convention() -> None:
    assert acl.is_managed_user("member-kent", "hub") and acl.is_managed_user("subscriber-x", "hub")
    assert acl.is_managed_user("hub", "hub") and not acl.is_managed_user("admin", "hub")
    assert not acl.is_managed_acl(AclBinding("User:admin", "TOPIC", "bluelight.", "PREFIXED", "ALL"), "hub")
    assert not acl.is_managed_acl(AclBinding("Group:member-x", "TOPIC", "t", "LITERAL", "READ"), "hub")
