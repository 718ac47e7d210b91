"""Rules a topology must satisfy before anything touches a cluster: one small function per rule.

Each rule takes the loaded :class:`Topology` and returns its problems as readable lines
(empty when the rule holds), so ``bluelight topology validate`` can list them all at once.
The shape of the files (types, required keys, sectors) is pydantic's job in
:mod:`topologies.model`; the rules here are about meaning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from topologies import acl, naming
from topologies.model import Topology

Rule = Callable[[Topology], list[str]]

# Topic configs the topology may set: a typo such as "retention.msec" is caught here
# rather than rejected by the broker halfway through an apply.
KNOWN_TOPIC_CONFIGS = frozenset({
    "cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas", "segment.ms",
    "segment.bytes", "delete.retention.ms", "min.compaction.lag.ms", "max.compaction.lag.ms",
    "min.cleanable.dirty.ratio", "max.message.bytes", "compression.type", "message.timestamp.type",
})  # fmt: skip
MIN_DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000


def _dupes(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def unique_member_ids(t: Topology) -> list[str]:
    """Two members with one id would share topics and credentials."""
    return [f"member id {d!r} is declared more than once" for d in _dupes([m.id for m in t.members])]


def unique_subscriber_ids(t: Topology) -> list[str]:
    """Subscriber ids name users; they must be unique too."""
    return [f"subscriber id {d!r} is declared more than once" for d in _dupes([s.id for s in t.subscribers])]


def slug_ids(t: Topology) -> list[str]:
    """Ids become topic names and user names, so they must be slugs."""
    problems = []
    for kind, ids in (("member", [m.id for m in t.members]), ("subscriber", [s.id for s in t.subscribers])):
        for i in ids:
            try:
                naming.check_member_id(i)
            except naming.NamingError as exc:
                problems.append(f"{kind} {exc}")
    return problems


def names_given(t: Topology) -> list[str]:
    """A member without a name cannot be shown in a view or a report."""
    return [f"member {m.id!r} has an empty name" for m in t.members if not m.name.strip()]


def plans_exist(t: Topology) -> list[str]:
    """Every plan a topic family refers to must be defined under ``plans``."""
    used = {
        "member_topics.input": t.member_topics.input,
        "member_topics.dead_letter": t.member_topics.dead_letter,
        "member_topics.alerts": t.member_topics.alerts,
        "view_plan": t.view_plan,
        "hub.leader_plan": t.hub.leader_plan,
        **{f"reference.{r}": p for r, p in t.reference.items()},
        **{f"hub.streams.{s.name}": s.plan for s in t.hub.streams},
        **{f"hub.tables.{x.name}": x.plan for x in t.hub.tables},
    }
    return [f"{where}: plan {p!r} is not defined in plans" for where, p in used.items() if p not in t.plans]


def partitions_positive(t: Topology) -> list[str]:
    """A topic needs at least one partition."""
    return [
        f"plan {n!r}: partitions must be > 0 (got {p.partitions})"
        for n, p in t.plans.items()
        if p.partitions < 1
    ]


def replication_positive(t: Topology) -> list[str]:
    """A topic needs at least one replica."""
    return [
        f"plan {n!r}: replication_factor must be > 0 (got {p.replication_factor})"
        for n, p in t.plans.items()
        if p.replication_factor < 1
    ]


def min_isr_within_replication(t: Topology) -> list[str]:
    """min.insync.replicas above the replica count would refuse every acks=all write."""
    problems = []
    for n, p in t.plans.items():
        raw = p.config.get("min.insync.replicas")
        if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= p.replication_factor):
            problems.append(f"plan {n!r}: min.insync.replicas={raw} must be 1..replication_factor")
    return problems


def known_configs(t: Topology) -> list[str]:
    """Only topic configs we know; catches typos before the broker does."""
    return [
        f"plan {n!r}: unknown topic config {k!r}"
        for n, p in t.plans.items()
        for k in sorted(p.config)
        if k not in KNOWN_TOPIC_CONFIGS
    ]


def compacted_where_required(t: Topology) -> list[str]:
    """Views, reference data and table changelogs are keyed state: compaction keeps the latest per key."""
    needs = {"view_plan": t.view_plan}
    needs |= {f"reference.{r}": p for r, p in t.reference.items()}
    needs |= {f"hub.tables.{x.name}": x.plan for x in t.hub.tables}
    problems = []
    for where, plan_name in needs.items():
        plan = t.plans.get(plan_name)
        if plan is not None and plan.config.get("cleanup.policy") != "compact":
            problems.append(f"{where}: plan {plan_name!r} must set cleanup.policy: compact")
    return problems


def dead_letters_kept_long(t: Topology) -> list[str]:
    """A member must have time to read and fix what was rejected: at least 30 days, or forever."""
    plan = t.plans.get(t.member_topics.dead_letter)
    if plan is None:
        return []
    raw = plan.config.get("retention.ms")
    if raw is None:
        return ["dead-letter plan must set retention.ms (>= 30 days, or -1 for forever)"]
    if raw == "-1" or (raw.isdigit() and int(raw) >= MIN_DLQ_RETENTION_MS):
        return []
    return [f"dead-letter plan: retention.ms={raw} is shorter than 30 days"]


def changelogs_match_source(t: Topology) -> list[str]:
    """Faust tables are co-partitioned with the stream that feeds them: same partition count."""
    if not t.hub.streams:
        return ["hub.streams: the hub declares no stream topic for its tables to follow"]
    source = t.plans.get(t.hub.streams[0].plan)
    problems = []
    for table in t.hub.tables:
        plan = t.plans.get(table.plan)
        if source is not None and plan is not None and plan.partitions != source.partitions:
            problems.append(
                f"hub.tables.{table.name}: changelog has {plan.partitions} partitions but the "
                f"stream {t.hub.streams[0].name!r} has {source.partitions}"
            )
    return problems


def hub_app_id_is_named(t: Topology) -> list[str]:
    """The faust app id is also the prefix of the hub's ACLs: it must be the one in naming.py."""
    if t.hub.app_id != naming.HUB_APP_ID:
        return [f"hub.app_id {t.hub.app_id!r} differs from naming.HUB_APP_ID {naming.HUB_APP_ID!r}"]
    return []


def hub_principal_distinct(t: Topology) -> list[str]:
    """The hub's user must not look like a member's or subscriber's, or their ACLs would mix."""
    user = t.hub.principal
    if user.startswith((acl.MEMBER_USER_PREFIX, acl.SUBSCRIBER_USER_PREFIX)) or not user:
        return [f"hub.principal {user!r} must be non-empty and not start with 'member-' or 'subscriber-'"]
    return []


def subscribers_read_known_views(t: Topology) -> list[str]:
    """A subscriber may only be granted views that exist."""
    return [
        f"subscriber {s.id!r} reads unknown view {v!r} (views: {', '.join(naming.VIEWS)})"
        for s in t.subscribers
        if s.reads != "all"
        for v in s.reads
        if v not in naming.VIEWS
    ]


RULES: tuple[Rule, ...] = (
    unique_member_ids, unique_subscriber_ids, slug_ids, names_given, plans_exist,
    partitions_positive, replication_positive, min_isr_within_replication, known_configs,
    compacted_where_required, dead_letters_kept_long, changelogs_match_source,
    hub_app_id_is_named, hub_principal_distinct, subscribers_read_known_views,
)  # fmt: skip


def validate(t: Topology) -> list[str]:
    """Every problem of every rule, in rule order."""
    return [problem for rule in RULES for problem in rule(t)]
