"""The topology's operations on a live cluster, as the CLI, the worker and the demo call them.

- :func:`plan_cluster` / :func:`apply_topology`: reconcile the whole topology (admin rights).
- :func:`add_member` / :func:`add_members`: plug partners in (topics, user and ACLs) and
  record them in members.yaml; returns connection settings, password included, to show once.
- :func:`ensure_hub_topics` / :func:`ensure_member_topics`: create what is missing and
  nothing else, so the worker can start on a fresh dev broker without faust declaring
  topics. Under least privilege the hub may create only view topics; anything else missing
  is an admin's ``topology apply`` away (the worker's start-up error says so).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bluelight.settings import HubSettings
from topologies import acl, naming
from topologies.admin import ApplyResult, ClusterAdmin, connect
from topologies.desired import (
    DesiredState,
    TopicSpec,
    desired_state,
    hub_topic_specs,
    member_acl_set,
    member_state,
    member_topic_specs,
)
from topologies.model import Member, MemberStatus, Topology, TopologyError, load_topology, write_members
from topologies.plan import Action, DeleteAcl, DeleteTopic, DeleteUser, Plan, capped_note, plan
from topologies.plan_file import desired_digest
from topologies.validate import validate

log = logging.getLogger(__name__)


def checked_topology(settings: HubSettings) -> Topology:
    """The topology in ``settings.topology_dir`` (or the shipped one), refusing an invalid one."""
    topology = load_topology(settings.topology_dir)
    problems = validate(topology)
    if problems:
        raise TopologyError("the topology is not valid:\n" + "\n".join(f"  - {p}" for p in problems))
    return topology


async def _plan(admin: ClusterAdmin, topology: Topology, allow_delete: bool) -> Plan:
    state = await admin.state()
    return plan(state, desired_state(topology, state.brokers), allow_delete=allow_delete)


async def plan_cluster(settings: HubSettings, *, allow_delete: bool = False) -> Plan:
    """What ``apply`` would do to the cluster ``settings`` points at."""
    topology = checked_topology(settings)
    async with connect(settings.kafka) as admin:
        return await _plan(admin, topology, allow_delete)


async def apply_topology(settings: HubSettings, *, allow_delete: bool = False) -> tuple[Plan, ApplyResult]:
    """Plan and run; a second call plans nothing. Passwords of users it created are in the result."""
    topology = checked_topology(settings)
    async with connect(settings.kafka) as admin:
        planned = await _plan(admin, topology, allow_delete)
        return planned, await admin.apply(planned)


async def plan_for_review(settings: HubSettings, *, allow_delete: bool = False) -> tuple[Plan, str]:
    """What ``apply`` would do, and the digest of the topology it was planned from (plan files)."""
    topology = checked_topology(settings)
    async with connect(settings.kafka) as admin:
        state = await admin.state()
        desired = desired_state(topology, state.brokers)
        return plan(state, desired, allow_delete=allow_delete), desired_digest(desired)


class PlanDrift(TopologyError):
    """``apply --plan``: planning again gives something other than the reviewed plan."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


async def apply_reviewed(
    settings: HubSettings, refuse: Callable[[Plan, str], list[str]], *, allow_delete: bool
) -> tuple[Plan, ApplyResult]:
    """Plan again and apply only if ``refuse(plan, topology digest)`` finds nothing; else PlanDrift."""
    topology = checked_topology(settings)
    async with connect(settings.kafka) as admin:
        state = await admin.state()
        desired = desired_state(topology, state.brokers)
        planned = plan(state, desired, allow_delete=allow_delete)
        reasons = refuse(planned, desired_digest(desired))
        if reasons:
            raise PlanDrift(reasons)
        return planned, await admin.apply(planned)


async def revoke_member(
    settings: HubSettings, member_id: str, status: MemberStatus, *, delete_data: bool = False
) -> Plan:
    """Take a member's access away (its SCRAM user and ACLs), then record ``status`` in members.yaml.

    Its topics stay, with their history and dead letters, unless ``delete_data``: then they are
    deleted too and the member leaves members.yaml. The cluster is changed first and the file
    last, as in :func:`add_members`; running it again is harmless.
    """
    topology = checked_topology(settings)
    member = topology.member(member_id)
    if member is None:
        raise TopologyError(f"{member_id!r} is not a member (see `bluelight members list`)")
    user = acl.member_user(member_id)
    topics = [t.name for t in member_topic_specs(topology, member_id)]
    async with connect(settings.kafka) as admin:
        state = await admin.state(topics=topics, users=[user])
        actions: list[Action] = []
        if state.acls is not None:
            actions += [DeleteAcl(b) for b in sorted(member_acl_set(member_id) & state.acls)]
        if state.users is not None and user in state.users:
            actions.append(DeleteUser(user))
        if delete_data:
            actions += [DeleteTopic(t) for t in topics if t in state.topics]
        revoked = Plan(tuple(actions))
        await admin.apply(revoked)
    if delete_data:
        write_members(settings.topology_dir, [m for m in topology.members if m.id != member_id])
    else:
        changed = member.model_copy(update={"status": status})
        write_members(settings.topology_dir, [changed if m.id == member_id else m for m in topology.members])
    return revoked


@dataclass(frozen=True)
class MemberConnection:
    """What a partner needs to connect; printed once by ``members add`` (the password is not kept)."""

    member_id: str
    bootstrap_servers: str
    security_protocol: str
    sasl_mechanism: str
    username: str
    password: str
    topics: dict[str, str] = field(default_factory=dict)  # family -> input topic
    dead_letter_topic: str = ""
    consumer_group_prefix: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON form (``members add --json``)."""
        return asdict(self)


def _merged(states: list[DesiredState]) -> DesiredState:
    return DesiredState(
        topics={name: spec for st in states for name, spec in st.topics.items()},
        users=frozenset().union(*(st.users for st in states)),
        acls=frozenset().union(*(st.acls for st in states)),
        hub_user=states[0].hub_user,
    )


async def add_member(settings: HubSettings, member: Member) -> MemberConnection:
    """Plug one partner in; see :func:`add_members`."""
    (connection,) = await add_members(settings, [member])
    return connection


async def add_members(settings: HubSettings, members: list[Member]) -> list[MemberConnection]:
    """Plug partners in: topics, ACLs, fresh SCRAM passwords (secured cluster), then members.yaml.

    One apply for all of them (the demo adds the 43 forces at once). The cluster is changed
    first and the file last: if the apply fails the file does not claim members that are not
    there, and re-running after a crash in between is harmless (the apply is idempotent).
    """
    topology = checked_topology(settings)
    for member in members:
        if topology.member(member.id) is not None:
            raise TopologyError(
                f"{member.id!r} is already a member; `bluelight topology credentials "
                f"{acl.member_user(member.id)}` issues it a new password"
            )
        topology = topology.with_member(member)
    problems = validate(topology)
    if problems:
        names = ", ".join(repr(m.id) for m in members)
        raise TopologyError(f"cannot add {names}:\n" + "\n".join(f"  - {p}" for p in problems))
    async with connect(settings.kafka) as admin:
        brokers = await admin.broker_count()
        wanted = _merged([member_state(topology, m.id, brokers) for m in members])
        state = await admin.state(topics=sorted(wanted.topics), users=sorted(wanted.users))
        result = await admin.apply(plan(state, wanted, consider_deletes=False))
        secured = state.acls is not None
        passwords = {m.id: "" for m in members}
        if secured:
            passwords = await _fresh_passwords(admin, members, result.passwords)
        mechanism = admin.mechanism if secured else ""
    write_members(settings.topology_dir, topology.members)
    return [
        MemberConnection(
            member_id=m.id,
            bootstrap_servers=settings.bootstrap,
            security_protocol=settings.security_protocol if secured else "PLAINTEXT",
            sasl_mechanism=mechanism,
            username=acl.member_user(m.id) if secured else "",
            password=passwords[m.id],
            topics={f: naming.member_topic(m.id, f) for f in naming.FAMILIES},
            dead_letter_topic=naming.dlq_topic(m.id),
            consumer_group_prefix=naming.member_group_prefix(m.id),
        )
        for m in members
    ]


async def _fresh_passwords(
    admin: ClusterAdmin, members: list[Member], created: dict[str, str]
) -> dict[str, str]:
    """Each member's password, working when returned: new users' from the apply, others reset."""

    async def one(m: Member) -> tuple[str, str]:
        user = acl.member_user(m.id)
        # An existing user (say, left from an earlier removal) gets a new password: shown once.
        password = created.get(user) or await admin.set_password(user)
        await admin.wait_for_access(user, password, naming.member_topics(m.id))
        return m.id, password

    return dict(await asyncio.gather(*(one(m) for m in members)))


async def issue_credentials(settings: HubSettings, user: str, password: str | None = None) -> str:
    """Set a new (random unless given) password for a user the topology declares; returns it."""
    topology = checked_topology(settings)
    declared = desired_state(topology).users
    if user not in declared:
        raise TopologyError(f"{user!r} is not a user of the topology (users: {', '.join(sorted(declared))})")
    async with connect(settings.kafka) as admin:
        return await admin.set_password(user, password)


async def _ensure(settings: HubSettings, specs_for: Callable[[int], list[TopicSpec]]) -> list[str]:
    async with connect(settings.kafka) as admin:
        brokers = await admin.broker_count()
        specs = specs_for(brokers)
        present = await admin.topics([s.name for s in specs], configs=False)
        missing = [s for s in specs if s.name not in present]
        capped = [s for s in missing if s.declared_replication is not None]
        if capped and brokers > 1:  # one broker is a dev cluster: capped by design
            remedy = "Raise it with a partition reassignment once they all are"
            log.warning("topology: %s", capped_note(capped, brokers, remedy, verb="created with"))
        return await admin.create_topics(missing, exist_ok=True)


async def ensure_hub_topics(settings: HubSettings) -> list[str]:
    """Create the hub's declared views, reference and internal topics that are missing; returns them.

    Called by the worker at start with its own (hub) credentials, so faust needs to declare
    nothing. Existing topics are left as they are (``topology apply`` reconciles configs).
    """
    topology = checked_topology(settings)
    return await _ensure(settings, lambda brokers: hub_topic_specs(topology, brokers))


async def ensure_member_topics(settings: HubSettings, member: str) -> list[str]:
    """Create a member's input, dead-letter and alert topics if missing (users and ACLs: ``members add``)."""
    topology = checked_topology(settings)
    member = naming.check_member_id(member)
    return await _ensure(settings, lambda brokers: member_topic_specs(topology, member, brokers))
