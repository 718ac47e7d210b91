"""What a cluster is once it runs: its nodes, how to reach it as admin, what ``status`` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from bluelight.settings import HubSettings, KafkaConnection
from deploy import config, health
from deploy.config import ADMIN_USER, HOST, ClusterSpec
from deploy.layout import Layout, Meta, read_secrets, running_pid


@dataclass(frozen=True)
class Node:
    """One combined broker+controller process."""

    node_id: int
    port: int
    controller_port: int
    log: Path
    pid: int | None

    @property
    def address(self) -> str:
        """host:port clients use."""
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class BrokerInfo:
    """A running cluster and how to reach it as its administrator."""

    spec: ClusterSpec
    root: Path
    nodes: tuple[Node, ...]
    connection: KafkaConnection
    env: dict[str, str]
    started: bool  # this call started at least one node
    managed: bool = True  # False: a broker that answers on the port but was not started from this state dir
    temporary: bool = False  # started by a test session, which will stop it when the last one ends
    timings: dict[str, float] = field(default_factory=dict)
    cluster_id: str | None = None

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers (all nodes)."""
        return self.connection.bootstrap

    @property
    def username(self) -> str:
        """The admin's SASL user name ('' on a plaintext cluster)."""
        return self.connection.sasl_username

    @property
    def password(self) -> str:
        """The admin's SASL password ('' on a plaintext cluster)."""
        return self.connection.sasl_password.get_secret_value()

    def node(self, node_id: int) -> Node:
        """The node with this id."""
        return next(n for n in self.nodes if n.node_id == node_id)

    def hub_settings(self, **overrides: object) -> HubSettings:
        """HubSettings that connect as this cluster's admin (``overrides`` e.g. ``state_dir=...``)."""
        values: dict[str, object] = {
            "bootstrap": self.bootstrap,
            "security_protocol": self.connection.security_protocol,
            "sasl_mechanism": self.connection.sasl_mechanism,
            "sasl_username": self.username,
            "sasl_password": self.connection.sasl_password,
        }
        values.update(overrides)
        return HubSettings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Status:
    """What ``kafka status`` reports for one port."""

    layout: Layout
    meta: Meta | None
    nodes: tuple[Node, ...]
    probes: tuple[health.Probe, ...]

    @property
    def healthy(self) -> bool:
        """Every node runs and answers with the full broker list."""
        if self.meta is None or not self.probes:
            return False
        want = self.meta.spec.nodes
        return all(n.pid is not None for n in self.nodes) and all(
            p.ok and len(p.brokers) == want for p in self.probes
        )


def nodes_of(spec: ClusterSpec, layout: Layout) -> tuple[Node, ...]:
    """Every node of the spec, with the pid of its process if it runs."""
    return tuple(
        Node(n, spec.client_port(n), spec.controller_port(n), layout.log(n), running_pid(layout, n))
        for n in spec.node_ids
    )


def broker_info(
    spec: ClusterSpec, layout: Layout, meta: Meta, started: bool, timings: dict[str, float]
) -> BrokerInfo:
    """The cluster as callers see it once it answers (``started``: this call started a node)."""
    keys = read_secrets(layout) if spec.secure else None
    return BrokerInfo(
        spec=spec,
        root=layout.root,
        nodes=nodes_of(spec, layout),
        connection=admin_connection(spec, layout),
        env=config.client_env(spec, keys),
        started=started,
        temporary=layout.temporary.exists(),
        timings=timings,
        cluster_id=meta.cluster_id,
    )


def admin_connection(spec: ClusterSpec, layout: Layout) -> KafkaConnection:
    """How the administrator connects: plaintext, or SCRAM with the password in secrets.json."""
    if not spec.secure:
        return KafkaConnection(bootstrap=spec.bootstrap)
    keys = read_secrets(layout)
    return KafkaConnection(
        bootstrap=spec.bootstrap,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=ADMIN_USER,
        sasl_password=SecretStr(keys.admin_password),
    )
