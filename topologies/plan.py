"""The planner: what the cluster holds, what the topology wants, and the actions in between.

A pure function over plain data (:class:`ClusterState`, :class:`DesiredState`), so it is
tested with before/after fixtures and no broker; :mod:`topologies.admin` reads the state
and runs the actions. Deletes are planned but held back unless ``allow_delete``; only
``bluelight.*`` topics and users/ACLs following the topology's naming convention are ever
candidates, so the planner never touches what it did not make.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topologies import naming
from topologies.acl import AclBinding, is_managed_acl, is_managed_user
from topologies.desired import DesiredState, TopicSpec


@dataclass(frozen=True)
class TopicState:
    """A topic as the cluster reports it; ``config`` holds only what is set on the topic itself."""

    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterState:
    """What the cluster holds. ``acls``/``users`` are None when it has no authorizer (not managed)."""

    brokers: int
    topics: dict[str, TopicState]
    acls: frozenset[AclBinding] | None = None
    users: frozenset[str] | None = None


def _config_text(config: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(config.items()))


@dataclass(frozen=True)
class CreateTopic:
    """Make a missing topic."""

    spec: TopicSpec

    def describe(self) -> str:
        """One readable line of the plan."""
        s = self.spec
        return f"CreateTopic {s.name} partitions={s.partitions} replication={s.replication_factor} " + (
            _config_text(s.config)
        )


@dataclass(frozen=True)
class AddPartitions:
    """Grow a topic to the declared partition count (Kafka cannot shrink one)."""

    topic: str
    current: int
    desired: int

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"AddPartitions {self.topic} {self.current} -> {self.desired}"


@dataclass(frozen=True)
class UpdateConfig:
    """Set the topic's configs to exactly the declared ones (``changes`` lists what differs)."""

    topic: str
    config: dict[str, str]
    changes: tuple[tuple[str, str | None, str | None], ...]

    def describe(self) -> str:
        """One readable line of the plan."""
        shown = ", ".join(
            f"{k}: {old or '(default)'} -> {new or '(default)'}" for k, old, new in self.changes
        )
        return f"UpdateConfig {self.topic} {shown}"


@dataclass(frozen=True)
class CreateUser:
    """Create a SCRAM user with a fresh random password (shown once)."""

    user: str

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"CreateUser {self.user}"


@dataclass(frozen=True)
class CreateAcl:
    """Add one ACL binding."""

    binding: AclBinding

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"CreateAcl {self.binding.describe()}"


@dataclass(frozen=True)
class DeleteAcl:
    """Remove an ACL the topology no longer declares."""

    binding: AclBinding

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"DeleteAcl {self.binding.describe()}"


@dataclass(frozen=True)
class DeleteUser:
    """Remove the SCRAM credentials of a user the topology no longer declares."""

    user: str

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"DeleteUser {self.user}"


@dataclass(frozen=True)
class DeleteTopic:
    """Delete a ``bluelight.*`` topic the topology no longer declares (its data goes with it)."""

    topic: str

    def describe(self) -> str:
        """One readable line of the plan."""
        return f"DeleteTopic {self.topic}"


Action = (
    CreateTopic | AddPartitions | UpdateConfig | CreateUser | CreateAcl | DeleteAcl | DeleteUser | DeleteTopic
)
DELETES = (DeleteAcl, DeleteUser, DeleteTopic)


@dataclass(frozen=True)
class Plan:
    """The actions to run, the deletes held back, and notes on what cannot be reconciled."""

    actions: tuple[Action, ...]
    skipped: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()

    def render(self) -> list[str]:
        """The plan as readable lines, in the order ``apply`` runs it."""
        lines = [("- " if isinstance(a, DELETES) else "+ " if not isinstance(a, UpdateConfig) else "~ ")
                 + a.describe() for a in self.actions]  # fmt: skip
        lines += [f"- would delete (skipped, use --allow-delete): {a.describe()}" for a in self.skipped]
        lines += [f"! {n}" for n in self.notes]
        if not self.actions:
            lines.append("Nothing to do: the cluster matches the topology.")
        else:
            lines.append(f"{len(self.actions)} action(s) to apply, {len(self.skipped)} delete(s) skipped.")
        return lines


def _topic_actions(current: ClusterState, desired: DesiredState) -> tuple[list[Action], list[str]]:
    actions: list[Action] = []
    notes: list[str] = []
    capped: list[TopicSpec] = []
    for name, spec in sorted(desired.topics.items()):
        have = current.topics.get(name)
        if have is None:
            actions.append(CreateTopic(spec))
            if spec.declared_replication is not None:
                capped.append(spec)
            continue
        if have.partitions < spec.partitions:
            actions.append(AddPartitions(name, have.partitions, spec.partitions))
        elif have.partitions > spec.partitions:
            notes.append(f"{name} has {have.partitions} partitions, the topology {spec.partitions}: "
                         "Kafka cannot shrink a topic (left as is)")  # fmt: skip
        if have.replication_factor not in (spec.replication_factor, spec.declared_replication):
            notes.append(f"{name} has replication {have.replication_factor}, the topology "
                         f"{spec.replication_factor}: reassign partitions by hand (left as is)")  # fmt: skip
        keys = sorted(set(spec.config) | set(have.config))
        changes = tuple(
            (k, have.config.get(k), spec.config.get(k))
            for k in keys
            if have.config.get(k) != spec.config.get(k)
        )
        if changes:
            actions.append(UpdateConfig(name, dict(spec.config), changes))
    if capped and current.brokers > 1:  # one broker is a dev cluster: capped by design
        remedy = "Start the missing broker(s) and plan again before applying"
        notes.append(capped_note(capped, current.brokers, remedy))
    return actions, notes


def capped_note(capped: list[TopicSpec], brokers: int, remedy: str, verb: str = "would get") -> str:
    """Why new topics get fewer replicas than declared (a broker is down), and ``remedy``."""
    declared = max(s.declared_replication or 0 for s in capped)
    names = ", ".join(s.name for s in capped[:3]) + (", ..." if len(capped) > 3 else "")
    return (
        f"{len(capped)} new topic(s) {verb} replication {brokers}, not the {declared} declared: only "
        f"{brokers} brokers are up, and Kafka never raises a topic's replication by itself. {remedy} "
        f"({names})"
    )


def _deletes(current: ClusterState, desired: DesiredState) -> list[Action]:
    out: list[Action] = []
    if current.acls is not None:
        out += [
            DeleteAcl(b) for b in sorted(current.acls - desired.acls) if is_managed_acl(b, desired.hub_user)
        ]
    if current.users is not None:
        out += [
            DeleteUser(u)
            for u in sorted(current.users - desired.users)
            if is_managed_user(u, desired.hub_user)
        ]
    out += [
        DeleteTopic(t)
        for t in sorted(current.topics)
        if t.startswith(naming.MANAGED_TOPIC_PREFIX) and t not in desired.topics
    ]
    return out


def plan(
    current: ClusterState, desired: DesiredState, *, allow_delete: bool = False, consider_deletes: bool = True
) -> Plan:
    """The actions that turn ``current`` into ``desired``.

    ``consider_deletes=False`` is for partial desired states (one member's, the hub's own):
    everything else in the cluster is then simply out of scope, not a delete candidate.
    """
    actions, notes = _topic_actions(current, desired)
    if current.users is not None:
        actions += [CreateUser(u) for u in sorted(desired.users - current.users)]
    if current.acls is not None:
        actions += [CreateAcl(b) for b in sorted(desired.acls - current.acls)]
    elif desired.acls or desired.users:
        notes.append(f"the cluster has no authorizer: {len(desired.users)} user(s) and "
                     f"{len(desired.acls)} ACL(s) not managed (topics only)")  # fmt: skip
    deletes = _deletes(current, desired) if consider_deletes else []
    if allow_delete:
        return Plan(tuple(actions + deletes), (), tuple(notes))
    return Plan(tuple(actions), tuple(deletes), tuple(notes))
