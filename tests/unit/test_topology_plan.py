"""The planner as a pure function: a fake cluster (plain data) -> a topology -> actions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from topologies import acl, naming
from topologies.acl import AclBinding
from topologies.desired import DesiredState, desired_state, member_state
from topologies.model import load_topology
from topologies.plan import (
    Action,
    AddPartitions,
    ClusterState,
    CreateAcl,
    CreateTopic,
    CreateUser,
    DeleteAcl,
    DeleteTopic,
    DeleteUser,
    TopicState,
    UpdateConfig,
    plan,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "topologies"


def cluster_from(desired: DesiredState, *, secured: bool = True) -> ClusterState:
    """A fake cluster that holds exactly ``desired`` (what a successful apply leaves)."""
    topics = {
        n: TopicState(s.partitions, s.replication_factor, dict(s.config)) for n, s in desired.topics.items()
    }
    return ClusterState(
        brokers=1,
        topics=topics,
        acls=desired.acls if secured else None,
        users=desired.users if secured else None,
    )


def run_on_fake(state: ClusterState, actions: tuple[Action, ...]) -> ClusterState:
    """What the actions do to the fake cluster: the admin layer's contract, as plain data."""
    topics = dict(state.topics)
    acls = set(state.acls or ())
    users = set(state.users or ())
    for a in actions:
        match a:
            case CreateTopic(spec=s):
                topics[s.name] = TopicState(s.partitions, s.replication_factor, dict(s.config))
            case AddPartitions(topic=t, desired=n):
                topics[t] = replace(topics[t], partitions=n)
            case UpdateConfig(topic=t, config=c):
                topics[t] = replace(topics[t], config=dict(c))
            case CreateUser(user=u):
                users.add(u)
            case DeleteUser(user=u):
                users.discard(u)
            case CreateAcl(binding=b):
                acls.add(b)
            case DeleteAcl(binding=b):
                acls.discard(b)
            case DeleteTopic(topic=t):
                del topics[t]
    return ClusterState(
        state.brokers,
        topics,
        None if state.acls is None else frozenset(acls),
        None if state.users is None else frozenset(users),
    )


@pytest.fixture
def before() -> DesiredState:
    return desired_state(load_topology(FIXTURES / "before"), brokers=1)


@pytest.fixture
def after() -> DesiredState:
    return desired_state(load_topology(FIXTURES / "after"), brokers=1)


def kinds(actions: tuple[Action, ...]) -> dict[str, list[Action]]:
    out: dict[str, list[Action]] = {}
    for a in actions:
        out.setdefault(type(a).__name__, []).append(a)
    return out


def test_empty_cluster_gets_everything(before: DesiredState) -> None:
    empty = ClusterState(brokers=1, topics={}, acls=frozenset(), users=frozenset())
    p = plan(empty, before)
    by = kinds(p.actions)
    assert {a.spec.name for a in by["CreateTopic"]} == set(before.topics)  # type: ignore[union-attr]
    assert {a.user for a in by["CreateUser"]} == {"hub", "member-kent-police", "member-essex-police",  # type: ignore[union-attr]
                                                 "subscriber-dashboard"}  # fmt: skip
    assert {a.binding for a in by["CreateAcl"]} == set(before.acls)  # type: ignore[union-attr]
    assert p.skipped == ()
    # topics first, then users, then ACLs: a user's ACLs never precede its topics
    order = [type(a).__name__ for a in p.actions]
    assert order == sorted(order, key=["CreateTopic", "CreateUser", "CreateAcl"].index)


def test_applied_cluster_plans_nothing(before: DesiredState) -> None:
    p = plan(cluster_from(before), before, allow_delete=True)
    assert p.actions == () and p.skipped == () and p.notes == ()
    assert p.render()[-1].startswith("Nothing to do")


def test_before_to_after(before: DesiredState, after: DesiredState) -> None:
    p = plan(cluster_from(before), after)
    by = kinds(p.actions)

    created = {a.spec.name for a in by["CreateTopic"]}  # type: ignore[union-attr]
    assert created == {
        *naming.member_topics("dorset-fire"),
        naming.dlq_topic("dorset-fire"),
        naming.alert_topic("dorset-fire"),
    }

    grown = {(a.topic, a.current, a.desired) for a in by["AddPartitions"]}  # type: ignore[union-attr]
    # the fixture's reference topic shares the view plan, so it grows too
    assert grown == {(naming.view_topic(v), 3, 6) for v in naming.VIEWS} | {
        (naming.ref_topic("categories"), 3, 6)
    }

    updated = {a.topic: a.changes for a in by["UpdateConfig"]}  # type: ignore[union-attr]
    assert updated == {naming.dlq_topic("kent-police"): (("retention.ms", "31536000000", "63072000000"),)}

    assert [a.user for a in by["CreateUser"]] == ["member-dorset-fire"]  # type: ignore[union-attr]
    new_acls = {a.binding for a in by["CreateAcl"]}  # type: ignore[union-attr]
    assert set(acl.member_acls("dorset-fire")) <= new_acls
    assert AclBinding(
        "User:subscriber-dashboard", "TOPIC", naming.view_topic("category-spend"), "LITERAL", "READ"
    ) in (new_acls)

    # Deletes are planned but held back without --allow-delete.
    assert not any(isinstance(a, DeleteTopic | DeleteAcl | DeleteUser) for a in p.actions)
    skipped = kinds(p.skipped)
    assert {a.topic for a in skipped["DeleteTopic"]} == {  # type: ignore[union-attr]
        *naming.member_topics("essex-police"),
        naming.dlq_topic("essex-police"),
        naming.alert_topic("essex-police"),
    }
    assert [a.user for a in skipped["DeleteUser"]] == ["member-essex-police"]  # type: ignore[union-attr]
    dropped = {a.binding for a in skipped["DeleteAcl"]}  # type: ignore[union-attr]
    assert set(acl.member_acls("essex-police")) <= dropped
    assert AclBinding("User:subscriber-dashboard", "TOPIC", naming.VIEW_PREFIX, "PREFIXED", "READ") in dropped
    assert any(
        line.startswith("- would delete (skipped, use --allow-delete): DeleteTopic") for line in p.render()
    )


def test_apply_then_plan_is_empty(before: DesiredState, after: DesiredState) -> None:
    """Idempotence on the fake: running a plan leaves nothing to do (deletes only when allowed)."""
    state = cluster_from(before)
    held = run_on_fake(state, plan(state, after).actions)
    again = plan(held, after)
    assert again.actions == () and again.skipped  # only the held-back deletes remain
    full = run_on_fake(held, plan(held, after, allow_delete=True).actions)
    final = plan(full, after, allow_delete=True)
    assert final.actions == () and final.skipped == ()


def test_unmanaged_things_are_never_deleted(before: DesiredState) -> None:
    foreign_acl = AclBinding("User:someone-else", "TOPIC", "bluelight.member.x.", "PREFIXED", "READ")
    state = cluster_from(before)
    state = ClusterState(
        brokers=1,
        topics={
            **state.topics,
            "__consumer_offsets": TopicState(50, 1),
            "other.app.topic": TopicState(1, 1),
            "bluelight.member.gone.contracts.v1": TopicState(3, 1),
        },  # fmt: skip
        acls=(state.acls or frozenset()) | {foreign_acl},
        users=(state.users or frozenset()) | {"admin", "broker", "member-gone"},
    )
    p = plan(state, before, allow_delete=True)
    deleted = {a.describe() for a in p.actions}
    assert deleted == {"DeleteTopic bluelight.member.gone.contracts.v1", "DeleteUser member-gone"}


def test_config_drift_is_reset_including_unset_keys(before: DesiredState) -> None:
    state = cluster_from(before)
    view = naming.view_topic("category-spend")
    drifted = dict(state.topics[view].config) | {"retention.ms": "1000"}
    drifted["cleanup.policy"] = "delete"
    state = replace(state, topics={**state.topics, view: replace(state.topics[view], config=drifted)})
    (action,) = plan(state, before).actions
    assert isinstance(action, UpdateConfig)
    assert action.changes == (("cleanup.policy", "delete", "compact"), ("retention.ms", "1000", None))
    assert action.config == before.topics[view].config  # the full declared set is what gets sent
    assert "retention.ms: 1000 -> (default)" in action.describe()


def test_shrinking_and_replication_are_notes_not_actions(before: DesiredState) -> None:
    state = cluster_from(before)
    t = naming.member_topic("kent-police", "contract")
    state = replace(
        state, topics={**state.topics, t: replace(state.topics[t], partitions=12, replication_factor=2)}
    )
    p = plan(state, before)
    assert p.actions == ()
    assert any("cannot shrink" in n for n in p.notes) and any("replication 2" in n for n in p.notes)


def test_unsecured_cluster_manages_topics_only(before: DesiredState) -> None:
    p = plan(ClusterState(brokers=1, topics={}), before)
    assert all(isinstance(a, CreateTopic) for a in p.actions)
    assert any("no authorizer" in n for n in p.notes)


def test_member_scope_ignores_the_rest(before: DesiredState) -> None:
    t = load_topology(FIXTURES / "after")
    scoped = member_state(t, "dorset-fire", brokers=1)
    p = plan(cluster_from(before), scoped, consider_deletes=False)
    assert p.skipped == ()
    assert {type(a).__name__ for a in p.actions} == {"CreateTopic", "CreateUser", "CreateAcl"}
    assert all("dorset-fire" in a.describe() for a in p.actions)


def test_replication_is_capped_to_the_brokers() -> None:
    t = load_topology(FIXTURES / "before")
    one = desired_state(t, brokers=1).topics[naming.dlq_topic("kent-police")]
    three = desired_state(t, brokers=3).topics[naming.dlq_topic("kent-police")]
    declared = desired_state(t).topics[naming.dlq_topic("kent-police")]
    assert (one.replication_factor, one.config["min.insync.replicas"]) == (1, "1")
    assert (three.replication_factor, three.config["min.insync.replicas"]) == (3, "2")
    assert declared.replication_factor == 3


def test_a_broker_down_is_said_not_silently_capped() -> None:
    """Found by issue 13's cluster row: with one broker of three down, apply created topics with
    replication 2 and said nothing. Now the plan says so; a dev cluster of one broker stays quiet,
    and a topic created with 3 is not reported as differing from the topology while one is down."""
    t = load_topology(FIXTURES / "before")
    empty = ClusterState(brokers=2, topics={}, acls=frozenset(), users=frozenset())
    down = plan(empty, desired_state(t, brokers=2))
    (note,) = [n for n in down.notes if "not the 3 declared" in n]
    assert "would get replication 2" in note and "only 2 brokers are up" in note
    dev = plan(replace(empty, brokers=1), desired_state(t, brokers=1))
    assert not [n for n in dev.notes if "declared" in n]
    whole = cluster_from(desired_state(t, brokers=3))
    again = plan(replace(whole, brokers=2), desired_state(t, brokers=2))
    assert not [n for n in again.notes if "replication" in n], again.notes
