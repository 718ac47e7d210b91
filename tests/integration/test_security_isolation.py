"""Members are kept apart by the broker itself: SCRAM users and the topology's prefixed ACLs.

Against the real secured broker (`kafka up --secure`, fixture ``secure_kafka``). The topology
of this module is applied as admin first: two members (a police force A and a fire service B),
a subscriber reading every view, one reading a single view, and a hub principal of its own.
Every denial is asserted as the specific Kafka error, and every denial has a positive twin
(the same client doing what it is allowed), so a test cannot pass by everything failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from topology_support import as_user, consume, make_topology, produce, uid

from bluelight.settings import HubSettings, KafkaConnection
from deploy.broker import BrokerInfo
from topologies import naming
from topologies.acl import AclBinding, member_user, subscriber_user
from topologies.admin import ApplyError, connect
from topologies.apply import apply_topology, ensure_hub_topics
from topologies.desired import TopicSpec
from topologies.model import Member

pytestmark = [pytest.mark.kafka, pytest.mark.secure]


@dataclass(frozen=True)
class Tenants:
    settings: HubSettings  # the admin's, with this module's topology
    a: str
    b: str
    reader: str  # subscriber of every view
    narrow: str  # subscriber of category-spend only
    hub: str
    probe_view: str  # a topic under the view prefix with one record
    passwords: dict[str, str]

    def conn(self, user: str) -> KafkaConnection:
        return as_user(self.settings.kafka, user, self.passwords[user])


async def _setup(settings: HubSettings, t: Tenants) -> dict[str, str]:
    _, result = await apply_topology(settings)
    async with connect(settings.kafka) as admin:
        await admin.create_topics(
            [TopicSpec(t.probe_view, "view", "hub", 1, 1, {"cleanup.policy": "compact"})]
        )
    await produce(settings.kafka, t.probe_view, b"national view item")
    await produce(settings.kafka, naming.dlq_topic(t.a), b"rejected event of A")
    await produce(settings.kafka, naming.alert_topic(t.a), b"alert for A")
    await produce(settings.kafka, naming.alert_topic(t.b), b"alert for B")
    await produce(settings.kafka, naming.member_topic(t.b, "contract"), b"B's contract")
    return result.passwords


@pytest.fixture(scope="module")
def tenants(secure_kafka: BrokerInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    u = uid()
    a, b, reader, narrow, hub = f"t-{u}-police", f"t-{u}-fire", f"t-{u}-all", f"t-{u}-one", f"hub-t-{u}"
    directory = make_topology(
        tmp_path_factory.mktemp("topology"),
        [Member(id=a, name="Force A", sector="police"), Member(id=b, name="Fire B", sector="fire")],
        hub_principal=hub,
        subscribers=[
            {"id": reader, "name": "Reads all views", "reads": "all"},
            {"id": narrow, "name": "Reads one view", "reads": ["category-spend"]},
        ],
    )
    settings = secure_kafka.hub_settings(topology_dir=directory)
    probe = f"{naming.VIEW_PREFIX}probe-{u}.v1"
    t = Tenants(settings, a, b, subscriber_user(reader), subscriber_user(narrow), hub, probe, {})
    passwords = asyncio.run(_setup(settings, t))
    assert set(passwords) >= {member_user(a), member_user(b), subscriber_user(reader), hub}
    yield Tenants(**{**t.__dict__, "passwords": passwords})

    async def cleanup() -> None:
        async with connect(settings.kafka) as admin:
            await admin._admin.delete_topics([probe])

    asyncio.run(cleanup())


async def test_member_writes_its_own_topics_and_no_one_elses(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    # idempotent producer with no IdempotentWrite ACL: Write on the topic is enough (KIP-679)
    for family in naming.FAMILIES:
        assert await produce(a, naming.member_topic(tenants.a, family), b"A's own event") >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(a, naming.member_topic(tenants.b, "contract"), b"A pretending to be B")
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(a, naming.dlq_topic(tenants.a), b"A writing its own dead letters")


async def test_member_cannot_read_anothers_input_or_dead_letters(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    group = naming.member_group_prefix(tenants.a) + "reader"
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(a, naming.member_topic(tenants.b, "contract"), group)
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(a, naming.dlq_topic(tenants.b), group)
    with pytest.raises(TopicAuthorizationFailedError):  # nor its own input: only the hub reads that
        await consume(a, naming.member_topic(tenants.a, "contract"), group)


async def test_member_reads_its_own_dead_letters(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    got = await consume(a, naming.dlq_topic(tenants.a), naming.member_group_prefix(tenants.a) + "dlq")
    assert [r.value for r in got] == [b"rejected event of A"]


async def test_member_reads_its_own_alerts_and_no_one_elses(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    group = naming.member_group_prefix(tenants.a) + "alerts"
    got = await consume(a, naming.alert_topic(tenants.a), group)
    assert [r.value for r in got] == [b"alert for A"]
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(a, naming.alert_topic(tenants.b), group)
    with pytest.raises(TopicAuthorizationFailedError):  # the national alerts carry everyone's exposure
        await consume(a, naming.NATIONAL_ALERTS, group)


async def test_member_cannot_create_topics(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    inside_own_prefix = naming.member_topic_prefix(tenants.a) + "extra.v1"
    async with connect(a) as as_a:
        with pytest.raises(ApplyError) as err:
            await as_a.create_topics([TopicSpec(inside_own_prefix, "member-input", tenants.a, 1, 1)])
    assert err.value.error is TopicAuthorizationFailedError
    async with connect(tenants.settings.kafka) as admin:
        assert inside_own_prefix not in await admin.topics([inside_own_prefix])


async def test_member_cannot_join_the_hubs_or_anothers_groups(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    own_dlq = naming.dlq_topic(tenants.a)
    for group in (
        naming.INGEST_GROUP,
        naming.HUB_APP_ID,
        naming.member_group_prefix(tenants.b) + "x",
        "any-group",
    ):
        with pytest.raises(GroupAuthorizationFailedError):
            await consume(a, own_dlq, group)


async def test_member_cannot_grant_itself_or_change_users(tenants: Tenants) -> None:
    a = tenants.conn(member_user(tenants.a))
    grab = AclBinding(
        f"User:{member_user(tenants.a)}", "TOPIC", naming.member_topic_prefix(tenants.b), "PREFIXED", "WRITE"
    )
    async with connect(a) as as_a:
        with pytest.raises(ApplyError) as err:
            await as_a.create_acls([grab])
        assert err.value.error is ClusterAuthorizationFailedError
        with pytest.raises(ApplyError) as err:
            await as_a.acls()
        assert err.value.error is ClusterAuthorizationFailedError
        with pytest.raises(ApplyError) as err:
            await as_a.set_password(member_user(tenants.b), "taken-over")
        assert err.value.error is ClusterAuthorizationFailedError


async def test_subscriber_reads_views_but_not_member_topics(tenants: Tenants) -> None:
    reader = tenants.conn(tenants.reader)
    group = naming.subscriber_group_prefix(tenants.reader.removeprefix("subscriber-")) + "dash"
    got = await consume(reader, tenants.probe_view, group)
    assert [r.value for r in got] == [b"national view item"]
    for topic in (naming.member_topic(tenants.b, "contract"), naming.dlq_topic(tenants.a)):
        with pytest.raises(TopicAuthorizationFailedError):
            await consume(reader, topic, group)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(reader, tenants.probe_view, b"a subscriber writing a view", idempotent=False)
    # An idempotent producer is stopped earlier: with Write on no topic at all, InitProducerId
    # needs IdempotentWrite on the cluster (KIP-679), which nobody but admins has.
    with pytest.raises(ClusterAuthorizationFailedError):
        await produce(reader, tenants.probe_view, b"a subscriber writing a view")


async def test_narrow_subscriber_reads_only_its_view(tenants: Tenants) -> None:
    narrow = tenants.conn(tenants.narrow)
    group = naming.subscriber_group_prefix(tenants.narrow.removeprefix("subscriber-")) + "x"
    # allowed: polling raises nothing (the view may or may not hold items on a shared broker)
    got = await consume(narrow, naming.view_topic("category-spend"), group, want=0, timeout_s=1)
    assert all(r.topic == naming.view_topic("category-spend") for r in got)
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(narrow, tenants.probe_view, group)


async def test_hub_principal_reads_members_and_writes_dead_letters_only(tenants: Tenants) -> None:
    hub = tenants.conn(tenants.hub)
    got = await consume(hub, naming.member_topic(tenants.b, "contract"), naming.INGEST_GROUP + f".{uid()}")
    assert [r.value for r in got] == [b"B's contract"]
    assert await produce(hub, naming.dlq_topic(tenants.b), b"rejected event of B") >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(hub, naming.member_topic(tenants.b, "contract"), b"the hub forging B's input")
    # the worker's start-up check runs as the hub: everything it needs already exists
    assert await ensure_hub_topics(tenants.settings.model_copy(update={
        "sasl_username": tenants.hub, "sasl_password": hub.sasl_password})) == []  # fmt: skip


async def test_wrong_password_is_refused(tenants: Tenants) -> None:
    wrong = as_user(
        tenants.settings.kafka, member_user(tenants.a), "not-" + tenants.passwords[member_user(tenants.a)]
    )
    with pytest.raises(KafkaConnectionError):
        await produce(wrong, naming.member_topic(tenants.a, "contract"), b"x")


def test_topology_dir_is_free_of_secrets(tenants: Tenants) -> None:
    assert tenants.settings.topology_dir is not None
    text = "".join(p.read_text() for p in Path(tenants.settings.topology_dir).glob("*.yaml"))
    assert not any(pw in text for pw in tenants.passwords.values())


async def test_publishing_to_anothers_topic_says_who_may_not_do_what(tenants: Tenants) -> None:
    from prometheus_client import CollectorRegistry

    from adapters.sdk.metrics import AdapterMetrics
    from adapters.sdk.publisher import Publisher, RefusedError

    user = member_user(tenants.a)
    metrics = AdapterMetrics.create(CollectorRegistry())
    async with Publisher(tenants.conn(user), "test", metrics=metrics) as pub:
        assert await pub.partitions(naming.member_topic(tenants.a, "contract"))  # its own: fine
        with pytest.raises(RefusedError) as err:
            await pub.partitions(naming.member_topic(tenants.b, "contract"))
    assert f"not authorised: {user} may not write to {naming.member_topic(tenants.b, 'contract')}" in str(
        err.value
    )
