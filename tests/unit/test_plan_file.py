"""topologies/plan_file.py: a plan written for review, read back, and compared with a fresh plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from topologies.desired import TopicSpec, desired_state
from topologies.model import load_topology
from topologies.plan import AddPartitions, CreateTopic, Plan
from topologies.plan_file import PlanFileError, desired_digest, drift_since, plan_document, read_plan_document

SPEC = TopicSpec("bluelight.member.x.purchase-orders.v1", "member-input", "x", 3, 1, {"retention.ms": "1"})
PLAN = Plan((CreateTopic(SPEC), AddPartitions("bluelight.view.a.v1", 1, 3)))
WHEN = datetime(2026, 12, 2, tzinfo=UTC)


def written(plan: Plan = PLAN, digest: str = "abc") -> dict[str, object]:
    doc = plan_document(plan, bootstrap="k:9092", allow_delete=False, topology_digest=digest, created_at=WHEN)
    return read_plan_document(json.dumps(doc))


def test_the_same_plan_again_is_no_drift() -> None:
    assert drift_since(written(), PLAN, "abc") == []
    assert written()["drift"] is True and written(Plan(()))["drift"] is False


def test_a_cluster_that_moved_is_drift() -> None:
    fixed_by_hand = Plan((CreateTopic(SPEC),))
    assert drift_since(written(), fixed_by_hand, "abc") == [
        "no longer planned: AddPartitions bluelight.view.a.v1 1 -> 3"
    ]
    more = Plan((*PLAN.actions, AddPartitions("bluelight.view.b.v1", 1, 3)))
    assert drift_since(written(), more, "abc") == ["newly planned: AddPartitions bluelight.view.b.v1 1 -> 3"]
    assert drift_since(written(), Plan(tuple(reversed(PLAN.actions))), "abc") == [
        "the same actions, in another order"
    ]


def test_changed_topology_files_are_drift_even_with_the_same_actions() -> None:
    assert drift_since(written(), PLAN, "def") == ["the topology files changed since the plan was made"]


def test_the_digest_follows_the_topology() -> None:
    t = load_topology()
    assert desired_digest(desired_state(t)) == desired_digest(desired_state(t))
    assert desired_digest(desired_state(t)) != desired_digest(desired_state(t, brokers=1))


def test_a_file_that_is_not_a_plan_is_refused() -> None:
    with pytest.raises(PlanFileError, match="not JSON"):
        read_plan_document("{")
    with pytest.raises(PlanFileError, match="bluelight-plan/1"):
        read_plan_document("{}")
    broken = written()
    del broken["actions"]
    with pytest.raises(PlanFileError, match="'actions'"):
        read_plan_document(json.dumps(broken))
