"""The committed Strimzi manifests are exactly what the topology exports now."""

from __future__ import annotations

from pathlib import Path

import yaml

from topologies import naming, strimzi
from topologies.desired import desired_state
from topologies.model import load_topology

COMMITTED = Path(__file__).resolve().parents[2] / "deploy" / "strimzi"


def test_committed_manifests_equal_a_fresh_export() -> None:
    fresh = strimzi.export(load_topology())
    committed = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.glob("*.yaml")}
    assert committed == fresh, (
        "deploy/strimzi is stale: run `bluelight topology export --strimzi deploy/strimzi`"
    )


def test_manifests_describe_every_topic_user_and_acl() -> None:
    t = load_topology()
    desired = desired_state(t)
    files = strimzi.export(t)
    topics = list(yaml.safe_load_all(files["topics.yaml"]))
    users = list(yaml.safe_load_all(files["users.yaml"]))
    assert {d["spec"]["topicName"] for d in topics} == set(desired.topics)
    assert {d["metadata"]["name"] for d in users} == set(desired.users)
    leader = next(d for d in topics if d["spec"]["topicName"] == naming.faust_leader_topic())
    assert "_" not in leader["metadata"]["name"]
    # every ACL binding appears once as (user, resource, operation)
    exported = {
        (
            u["metadata"]["name"],
            r["resource"]["type"],
            r["resource"].get("name"),
            r["resource"].get("patternType"),
            op,
        )
        for u in users
        for r in u["spec"]["authorization"]["acls"]
        for op in r["operations"]
    }
    assert len(exported) == len(desired.acls)
    kent = next(u for u in users if u["metadata"]["name"] == "member-kent-police")
    writes = {
        "resource": {"type": "topic", "name": "bluelight.member.kent-police.", "patternType": "prefix"},
        "operations": ["Describe", "Write"],
        "host": "*",
    }
    assert writes in kent["spec"]["authorization"]["acls"]
    assert all(u["spec"]["authentication"] == {"type": "scram-sha-512"} for u in users)
    assert all(t["spec"]["replicas"] == 3 for t in topics)  # production figure, not the dev cap
