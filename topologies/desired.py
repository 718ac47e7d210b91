"""From a :class:`Topology` to what the cluster should hold: topics, SCRAM users and ACLs.

Pure: the same topology and broker count always give the same state, which is what lets the
planner, ``ensure_hub_topics`` and the Strimzi export share one source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from topologies import acl, naming
from topologies.model import TopicPlan, Topology

TopicKind = Literal[
    "member-input", "dead-letter", "alerts", "view", "reference", "hub-stream", "changelog", "leader"
]
HUB_KINDS: frozenset[TopicKind] = frozenset({"view", "reference", "hub-stream", "changelog", "leader"})


@dataclass(frozen=True)
class TopicSpec:
    """A topic as declared: name, size and the configs set on it."""

    name: str
    kind: TopicKind
    owner: str  # member id, or "hub"
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    declared_replication: int | None = None  # set when capped to the brokers up (below)


@dataclass(frozen=True)
class DesiredState:
    """Everything the topology asks of the cluster."""

    topics: dict[str, TopicSpec]
    users: frozenset[str]
    acls: frozenset[acl.AclBinding]
    hub_user: str


def _spec(name: str, kind: TopicKind, owner: str, plan: TopicPlan, brokers: int | None) -> TopicSpec:
    # A dev cluster has one broker: the declared replication is capped to what exists, and
    # min.insync.replicas with it, so the same topology runs on 1 node and on 3.
    rf = plan.replication_factor if brokers is None else min(plan.replication_factor, brokers)
    config = dict(plan.config)
    if "min.insync.replicas" in config:
        config["min.insync.replicas"] = str(min(int(config["min.insync.replicas"]), rf))
    declared = plan.replication_factor if rf < plan.replication_factor else None
    return TopicSpec(name, kind, owner, plan.partitions, rf, config, declared)


def member_topic_specs(topology: Topology, member_id: str, brokers: int | None = None) -> list[TopicSpec]:
    """A member's input topics (one per family), its dead-letter topic and its alert topic."""
    inp = topology.plans[topology.member_topics.input]
    dlq = topology.plans[topology.member_topics.dead_letter]
    alerts = topology.plans[topology.member_topics.alerts]
    specs = [_spec(t, "member-input", member_id, inp, brokers) for t in naming.member_topics(member_id)]
    return [
        *specs,
        _spec(naming.dlq_topic(member_id), "dead-letter", member_id, dlq, brokers),
        _spec(naming.alert_topic(member_id), "alerts", member_id, alerts, brokers),
    ]


def hub_topic_specs(topology: Topology, brokers: int | None = None) -> list[TopicSpec]:
    """The topics the worker uses beyond member topics: views, reference data, its internals."""
    plans, hub = topology.plans, topology.hub
    return [
        *(
            _spec(naming.view_topic(v), "view", "hub", plans[topology.view_plan], brokers)
            for v in naming.VIEWS
        ),
        *(
            _spec(naming.ref_topic(r), "reference", "hub", plans[p], brokers)
            for r, p in topology.reference.items()
        ),
        *(_spec(naming.hub_topic(s.name), "hub-stream", "hub", plans[s.plan], brokers) for s in hub.streams),
        *(
            _spec(naming.hub_changelog_topic(t.name), "changelog", "hub", plans[t.plan], brokers)
            for t in hub.tables
        ),
        _spec(naming.faust_leader_topic(), "leader", "hub", plans[hub.leader_plan], brokers),
        _spec(naming.NATIONAL_ALERTS, "alerts", "hub", plans[topology.member_topics.alerts], brokers),
    ]


def member_acl_set(member_id: str) -> frozenset[acl.AclBinding]:
    """The ACLs of one member."""
    return frozenset(acl.member_acls(member_id))


def desired_state(topology: Topology, brokers: int | None = None) -> DesiredState:
    """The whole cluster as the topology declares it (``brokers`` caps replication; None = as declared)."""
    topics = [s for m in topology.members for s in member_topic_specs(topology, m.id, brokers)]
    topics += hub_topic_specs(topology, brokers)
    hub_user = topology.hub.principal
    bindings = set(acl.hub_acls(hub_user))
    for m in topology.members:
        if m.has_access:
            bindings |= member_acl_set(m.id)
    for s in topology.subscribers:
        bindings |= set(acl.subscriber_acls(s.id, None if s.reads == "all" else list(s.reads)))
    users = {hub_user}
    users |= {acl.member_user(m.id) for m in topology.members if m.has_access}
    users |= {acl.subscriber_user(s.id) for s in topology.subscribers}
    return DesiredState(
        topics={t.name: t for t in topics},
        users=frozenset(users),
        acls=frozenset(bindings),
        hub_user=hub_user,
    )


def member_state(topology: Topology, member_id: str, brokers: int | None = None) -> DesiredState:
    """Only what one member needs: its topics, its user, its ACLs (for ``members add``)."""
    return DesiredState(
        topics={t.name: t for t in member_topic_specs(topology, member_id, brokers)},
        users=frozenset({acl.member_user(member_id)}),
        acls=member_acl_set(member_id),
        hub_user=topology.hub.principal,
    )


def hub_state(topology: Topology, brokers: int | None = None) -> DesiredState:
    """Only the hub's own topics (for ``ensure_hub_topics``; users and ACLs are the admin's job)."""
    return DesiredState(
        topics={t.name: t for t in hub_topic_specs(topology, brokers)},
        users=frozenset(),
        acls=frozenset(),
        hub_user=topology.hub.principal,
    )
