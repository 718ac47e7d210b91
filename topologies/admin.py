"""Talk to a live cluster: read its state for the planner, then run the planner's actions.

Built on aiokafka's ``AIOKafkaAdminClient`` for topics and configs. Its gaps are filled with
aiokafka's own protocol classes sent through the admin's client: ACLs (the request structs
exist in ``aiokafka.protocol.admin`` but the admin client has no methods for them; we also
batch many bindings into one request) and SCRAM users (:mod:`topologies.scram`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request
from aiokafka.protocol.metadata import MetadataRequest
from pydantic import SecretStr

from bluelight.settings import KafkaConnection
from topologies import naming, scram
from topologies.acl import AclBinding
from topologies.desired import TopicSpec
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
    Plan,
    TopicState,
    UpdateConfig,
)

# Kafka protocol codes (org.apache.kafka.common.acl / resource).
RESOURCE_TYPES = {"ANY": 1, "TOPIC": 2, "GROUP": 3, "CLUSTER": 4, "TRANSACTIONAL_ID": 5}
PATTERN_TYPES = {"ANY": 1, "MATCH": 2, "LITERAL": 3, "PREFIXED": 4}
OPERATIONS = {
    "ANY": 1, "ALL": 2, "READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8,
    "CLUSTER_ACTION": 9, "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11, "IDEMPOTENT_WRITE": 12,
}  # fmt: skip
PERMISSIONS = {"ANY": 1, "DENY": 2, "ALLOW": 3}
_NAMES: dict[str, dict[int, str]] = {
    "resource": {v: k for k, v in RESOURCE_TYPES.items()},
    "pattern": {v: k for k, v in PATTERN_TYPES.items()},
    "operation": {v: k for k, v in OPERATIONS.items()},
    "permission": {v: k for k, v in PERMISSIONS.items()},
}
SECURITY_DISABLED = 54
TOPIC_ALREADY_EXISTS = 36
UNKNOWN_TOPIC = 3
RESOURCE_NOT_FOUND = 91
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source of a value set on the topic itself
LOGIN_WAIT_S = 15.0


class ApplyError(RuntimeError):
    """The cluster refused an action; the message names the action and Kafka's error."""

    def __init__(self, message: str, error: type[KafkaError]) -> None:
        super().__init__(message)
        self.error = error  # e.g. ClusterAuthorizationFailedError, for callers and tests to match on


def _check(code: int, message: str | None, what: str) -> None:
    if code:
        error = for_code(code)
        raise ApplyError(f"{what}: {error.__name__} ({code}){': ' + message if message else ''}", error)


class _CreateAcls(Request[CreateAclsRequest_v1]):
    """CreateAcls with many bindings in one request (aiokafka's builder takes one)."""

    API_KEY = 30

    def __init__(self, rows: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self._rows = rows

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> Any:
        return request_struct_class(self._rows)


class _DeleteAcls(Request[DeleteAclsRequest_v1]):
    """DeleteAcls with many exact filters in one request."""

    API_KEY = 31

    def __init__(self, rows: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self._rows = rows

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> Any:
        return request_struct_class(self._rows)


def _acl_row(b: AclBinding) -> tuple[int, str, int, str, str, int, int]:
    return (
        RESOURCE_TYPES[b.resource_type], b.resource_name, PATTERN_TYPES[b.pattern], b.principal, b.host,
        OPERATIONS[b.operation], PERMISSIONS[b.permission],
    )  # fmt: skip


def _binding(rtype: int, name: str, pattern: int, acl: tuple[str, str, int, int]) -> AclBinding | None:
    """An ACL from the wire, or None for kinds the topology never makes (delegation tokens...)."""
    principal, host, op, perm = acl
    names = (_NAMES["resource"].get(rtype), _NAMES["pattern"].get(pattern),
             _NAMES["operation"].get(op), _NAMES["permission"].get(perm))  # fmt: skip
    if None in names or names[0] == "ANY" or names[1] not in ("LITERAL", "PREFIXED"):
        return None
    return AclBinding(principal, names[0], name, names[1], names[2], names[3], host)  # type: ignore[arg-type]


@dataclass
class ApplyResult:
    """What ``apply`` did, and the passwords of users it created (to be shown once, never stored)."""

    applied: list[Action] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)


class ClusterAdmin:
    """One admin connection: read the state, run actions."""

    def __init__(self, admin: AIOKafkaAdminClient, connection: KafkaConnection) -> None:
        self._admin = admin
        self.connection = connection
        mechanism = connection.sasl_mechanism
        self.mechanism = mechanism if mechanism in scram.MECHANISMS else "SCRAM-SHA-512"

    async def _send(self, request: Request[Any]) -> Any:
        return await self._admin._send_request(request)  # noqa: SLF001 - no public raw-send in aiokafka

    # --- reading ------------------------------------------------------------------------

    async def broker_count(self) -> int:
        """How many brokers the cluster reports."""
        return len((await self._admin.describe_cluster())["brokers"])

    async def topics(self, names: list[str] | None = None, *, configs: bool = True) -> dict[str, TopicState]:
        """The ``bluelight.*`` topics (or just ``names``), with partitions, replication and own configs.

        ``configs=False`` reads metadata only (Describe), which is all a non-admin such as the
        hub may do on most topics (DescribeConfigs is not granted).
        """
        # Not AIOKafkaAdminClient.describe_topics: its metadata request allows auto-creation,
        # so asking about a missing topic on a dev broker (auto.create.topics.enable) makes it.
        metadata = await self._send(MetadataRequest(names, allow_auto_topic_creation=False))
        described = metadata.to_object()["topics"]
        sizes: dict[str, tuple[int, int]] = {}
        for t in described:
            if t["error_code"] == 0 and t["topic"].startswith(naming.MANAGED_TOPIC_PREFIX):
                parts = t["partitions"]
                sizes[t["topic"]] = (len(parts), len(parts[0]["replicas"]) if parts else 0)
        if not sizes or not configs:
            return {n: TopicState(p, r) for n, (p, r) in sizes.items()}
        responses = await self._admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in sorted(sizes)]
        )
        own: dict[str, dict[str, str]] = {}
        for response in responses:
            for error, message, _rtype, name, entries in response.resources:
                if error == UNKNOWN_TOPIC:  # deleted since the metadata answer: gone
                    continue
                _check(error, message, f"DescribeConfigs {name}")
                own[name] = {e[0]: e[1] for e in entries if e[3] == DYNAMIC_TOPIC_CONFIG}
        return {n: TopicState(p, r, own[n]) for n, (p, r) in sizes.items() if n in own}

    async def acls(self) -> frozenset[AclBinding] | None:
        """Every ACL in the cluster; None when it runs without an authorizer."""
        request = DescribeAclsRequest(
            RESOURCE_TYPES["ANY"],
            None,
            PATTERN_TYPES["ANY"],
            None,
            None,
            OPERATIONS["ANY"],
            PERMISSIONS["ANY"],
        )
        response = await self._send(request)
        if response.error_code == SECURITY_DISABLED:
            return None
        _check(response.error_code, response.error_message, "DescribeAcls")
        found = set()
        for rtype, name, pattern, acls in response.resources:
            found |= {b for acl in acls if (b := _binding(rtype, name, pattern, acl)) is not None}
        return frozenset(found)

    async def users(self, names: list[str] | None = None) -> dict[str, list[int]]:
        """SCRAM users (all, or those of ``names`` that exist) with their mechanism ids."""
        response = await self._send(scram.DescribeUserScramCredentials(names))
        _check(response.error_code, response.error_message, "DescribeUserScramCredentials")
        out: dict[str, list[int]] = {}
        for user, code, message, infos, _tags in response.results:
            if code == RESOURCE_NOT_FOUND:  # asked for a user that has no credentials
                continue
            _check(code, message, f"DescribeUserScramCredentials {user}")
            out[user] = [mech for mech, _iterations, _t in infos]
        return out

    async def state(self, topics: list[str] | None = None, users: list[str] | None = None) -> ClusterState:
        """The state the planner needs: everything, or just the named topics and users.

        Users and ACLs are only read (and managed) when the cluster has an authorizer.
        """
        brokers, found, acls = await asyncio.gather(self.broker_count(), self.topics(topics), self.acls())
        scram_users = None if acls is None else frozenset(await self.users(users))
        return ClusterState(brokers=brokers, topics=found, acls=acls, users=scram_users)

    # --- changing -----------------------------------------------------------------------

    async def create_topics(self, specs: list[TopicSpec], *, exist_ok: bool = False) -> list[str]:
        """Create topics; returns those created (``exist_ok``: one made meanwhile is not an error)."""
        if not specs:
            return []
        new = [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config) for s in specs]
        response = await self._admin.create_topics(new)
        created = []
        for name, code, message in (row[:3] for row in response.topic_errors):
            if code == TOPIC_ALREADY_EXISTS and exist_ok:
                continue
            _check(code, message, f"CreateTopic {name}")
            created.append(name)
        return created

    async def set_password(self, user: str, password: str | None = None) -> str:
        """Create or reset a SCRAM user's credentials; returns the password once it works.

        The controller acknowledges before the broker's credential cache has the new record
        (measured: a login right after the reply fails for up to ~1 s), so the password is
        tried until a login succeeds: whoever it is shown to can use it at once.
        """
        password = password or scram.new_password()
        response = await self._send(
            scram.AlterUserScramCredentials([scram.upsertion(user, password, self.mechanism)], [])
        )
        for name, code, message, _tags in response.results:
            _check(code, message, f"CreateUser {name}")
        await self._wait_for_login(user, password)
        return password

    async def _wait_for_login(self, user: str, password: str, timeout_s: float = LOGIN_WAIT_S) -> None:
        await self.wait_for_access(user, password, [], timeout_s)

    async def wait_for_access(
        self, user: str, password: str, topics: list[str], timeout_s: float = LOGIN_WAIT_S
    ) -> None:
        """Wait until ``user`` can log in to every broker and see (Describe) ``topics``.

        The controller acknowledges new credentials and ACLs before every broker applies them
        (under load we saw a fresh password refused for a moment), so what is shown to a
        partner is checked to work first.
        """
        if self.connection.security_protocol == "PLAINTEXT":
            return
        login = self.connection.model_copy(
            update={"sasl_username": user, "sasl_password": SecretStr(password)}
        )
        kwargs = login.to_aiokafka_kwargs()
        hosts = [h.strip().rsplit(":", 1) for h in kwargs.pop("bootstrap_servers").split(",")]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        for host, port in hosts:  # each broker keeps its own credential cache and ACL image
            while True:
                try:
                    conn = await create_conn(host, int(port), request_timeout_ms=5000, **kwargs)
                    try:
                        if topics:
                            answer = await conn.send(MetadataRequest(topics, allow_auto_topic_creation=False))
                            for t in answer.to_object()["topics"]:
                                _check(t["error_code"], None, f"{user} describing {t['topic']}")
                    finally:
                        conn.close()
                    break
                except (KafkaError, ApplyError) as exc:
                    if loop.time() > deadline:
                        error = exc.error if isinstance(exc, ApplyError) else type(exc)
                        raise ApplyError(
                            f"{user}: still no access after {timeout_s:.0f} s: {exc}", error
                        ) from exc
                    await asyncio.sleep(0.2)

    async def delete_user(self, user: str) -> None:
        """Remove every SCRAM credential of ``user``."""
        mechanisms = (await self.users([user])).get(user, [])
        if not mechanisms:
            return
        response = await self._send(scram.AlterUserScramCredentials([], [(user, m) for m in mechanisms]))
        for name, code, message, _tags in response.results:
            _check(code, message, f"DeleteUser {name}")

    async def create_acls(self, bindings: list[AclBinding]) -> None:
        """Add ACL bindings (one request)."""
        if not bindings:
            return
        response = await self._send(_CreateAcls([_acl_row(b) for b in bindings]))
        for b, (code, message) in zip(bindings, response.creation_responses, strict=True):
            _check(code, message, f"CreateAcl {b.describe()}")

    async def delete_acls(self, bindings: list[AclBinding]) -> None:
        """Remove exactly these ACL bindings (one request, one exact filter each)."""
        if not bindings:
            return
        response = await self._send(_DeleteAcls([_acl_row(b) for b in bindings]))
        for b, row in zip(bindings, response.filter_responses, strict=True):
            _check(row[0], row[1], f"DeleteAcl {b.describe()}")

    async def apply(self, plan: Plan) -> ApplyResult:
        """Run a plan's actions in order: topics, configs, users, ACLs, then deletes."""
        result = ApplyResult()
        by_kind: dict[type, list[Any]] = {}
        for action in plan.actions:
            by_kind.setdefault(type(action), []).append(action)
        # a topic that appeared since the plan was made (another process applying, a dev broker's
        # auto-creation) is not an error: the next plan shows anything about it that differs
        await self.create_topics([a.spec for a in by_kind.get(CreateTopic, [])], exist_ok=True)
        grow = {a.topic: NewPartitions(a.desired) for a in by_kind.get(AddPartitions, [])}
        if grow:
            await self._admin.create_partitions(grow)
        updates = by_kind.get(UpdateConfig, [])
        if updates:
            for response in await self._admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, a.topic, a.config) for a in updates]
            ):
                for code, message, _rtype, name in response.resources:
                    _check(code, message, f"UpdateConfig {name}")
        users = [a.user for a in by_kind.get(CreateUser, [])]
        passwords = await asyncio.gather(*(self.set_password(u) for u in users))
        result.passwords.update(zip(users, passwords, strict=True))
        await self.create_acls([a.binding for a in by_kind.get(CreateAcl, [])])
        await self.delete_acls([a.binding for a in by_kind.get(DeleteAcl, [])])
        for a in by_kind.get(DeleteUser, []):
            await self.delete_user(a.user)
        deletes = [a.topic for a in by_kind.get(DeleteTopic, [])]
        if deletes:
            response = await self._admin.delete_topics(deletes)
            for name, code in response.topic_error_codes:
                _check(code, None, f"DeleteTopic {name}")
        result.applied = list(plan.actions)
        return result


@asynccontextmanager
async def connect(connection: KafkaConnection, timeout_ms: int = 30000) -> AsyncIterator[ClusterAdmin]:
    """An admin session on the cluster ``connection`` points at (its user needs admin rights)."""
    client = AIOKafkaAdminClient(**connection.to_aiokafka_kwargs(), request_timeout_ms=timeout_ms)
    await client.start()
    try:
        yield ClusterAdmin(client, connection)
    finally:
        await client.close()
