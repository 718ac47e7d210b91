"""What a local Kafka cluster looks like on disk and on the command line: pure rendering, no I/O.

One :class:`ClusterSpec` (port, node count, secure or not) decides every port, listener,
replication default and JVM flag, so ``kafka up``, ``kafka status`` and the tests agree on
them and the unit tests can check the rendered files without starting anything.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
NODE_PORT_STEP = 100  # node N listens on port + 100*(N-1); its controller on that + 1
ADMIN_USER = "admin"
BROKER_USER = "broker"  # inter-broker principal (SCRAM), kept apart from the operator's admin
CONTROLLER_USER = "controller"  # the broker->controller principal on the hardened CONTROLLER listener
SCRAM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class ClusterSpec:
    """The shape of a local cluster; its first node's client port names it."""

    port: int = 9092
    nodes: int = 1
    secure: bool = False

    def __post_init__(self) -> None:
        if self.nodes not in (1, 3):
            raise ValueError(f"nodes must be 1 or 3 (a KRaft quorum of one or three), not {self.nodes}")
        last = self.port + NODE_PORT_STEP * (self.nodes - 1) + 1
        if self.port < 1024 or last > 65535:
            raise ValueError(
                f"port {self.port} leaves no room for the ports this cluster needs (up to {last})"
            )

    @property
    def node_ids(self) -> tuple[int, ...]:
        """Node ids 1..nodes (each node is broker and controller)."""
        return tuple(range(1, self.nodes + 1))

    def client_port(self, node_id: int) -> int:
        """Port clients (and the other brokers) use for this node."""
        return self.port + NODE_PORT_STEP * (node_id - 1)

    def controller_port(self, node_id: int) -> int:
        """Port of this node's KRaft controller listener."""
        return self.client_port(node_id) + 1

    def ports(self) -> tuple[int, ...]:
        """Every port the cluster binds."""
        return tuple(p for n in self.node_ids for p in (self.client_port(n), self.controller_port(n)))

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for clients (every node, so a dead node does not stop a client)."""
        return ",".join(f"{HOST}:{self.client_port(n)}" for n in self.node_ids)

    @property
    def listener(self) -> str:
        """Name (and protocol) of the client and inter-broker listener."""
        return "SASL_PLAINTEXT" if self.secure else "PLAINTEXT"

    @property
    def heap(self) -> str:
        """JVM heap per node: three JVMs share our 2-core machines, so they get less."""
        return "512m" if self.nodes > 1 else "768m"

    def describe(self) -> str:
        """One line for humans: '3 nodes, SASL_PLAINTEXT + SCRAM-SHA-512, ACLs'."""
        nodes = "1 node" if self.nodes == 1 else f"{self.nodes} nodes"
        security = f"SASL_PLAINTEXT + {SCRAM}, ACLs" if self.secure else "PLAINTEXT, no auth"
        return f"{nodes}, {security}"

    def as_dict(self) -> dict[str, object]:
        """JSON form stored in the cluster directory."""
        return {"port": self.port, "nodes": self.nodes, "secure": self.secure}


@dataclass(frozen=True)
class Secrets:
    """Passwords of a secure cluster, made at format time and kept (0600) in its state directory."""

    admin_password: str
    broker_password: str
    controller_password: str

    @classmethod
    def generate(cls) -> Secrets:
        """Fresh random passwords (URL-safe: no comma, quote or '=' to break SCRAM or JAAS syntax)."""
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(24))

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {
            "admin_password": self.admin_password,
            "broker_password": self.broker_password,
            "controller_password": self.controller_password,
        }


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64, as ``StorageTool random-uuid`` makes.

    Kafka's own generator rejects ids starting with '-' (they read as a CLI flag); so do we.
    Doing it here saves a JVM start (~1 s).
    """
    while True:
        raw = secrets.token_bytes(16)
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not text.startswith("-") and any(raw):
            return text


def _jaas(module: str, username: str, password: str, extra: str = "") -> str:
    return f'{module} required username="{username}" password="{password}"{extra};'


def server_properties(spec: ClusterSpec, node_id: int, log_dir: Path, keys: Secrets | None) -> str:
    """The ``server.properties`` of one combined broker+controller node."""
    if spec.secure and keys is None:
        raise ValueError("a secure cluster needs its Secrets to render its config")
    client, controller = spec.client_port(node_id), spec.controller_port(node_id)
    props: dict[str, str | int | bool] = {
        "process.roles": "broker,controller",
        "node.id": node_id,
        "listeners": f"{spec.listener}://{HOST}:{client},CONTROLLER://{HOST}:{controller}",
        "advertised.listeners": f"{spec.listener}://{HOST}:{client},CONTROLLER://{HOST}:{controller}",
        "inter.broker.listener.name": spec.listener,
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(log_dir),
    }
    if spec.nodes == 1:
        # dynamic quorum (KIP-853): formatted with --standalone
        props["controller.quorum.bootstrap.servers"] = f"{HOST}:{controller}"
    else:
        # static quorum: formatted with the same cluster id and no quorum flag
        props["controller.quorum.voters"] = ",".join(
            f"{n}@{HOST}:{spec.controller_port(n)}" for n in spec.node_ids
        )
    props.update(_security(spec, keys))
    props.update(_replication(spec))
    props.update(
        {
            "num.partitions": 3,
            "group.initial.rebalance.delay.ms": 0,
            # the secure broker is managed through topologies/, so a typo must fail, not make a topic
            "auto.create.topics.enable": not spec.secure,
        }
    )
    lines = [
        f"# node {node_id} of a local BlueLight cluster ({spec.describe()}); written by `bluelight kafka up`"
    ]
    lines += [f"{key}={_value(value)}" for key, value in props.items()]
    return "\n".join(lines) + "\n"


def _value(value: str | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _security(spec: ClusterSpec, keys: Secrets | None) -> dict[str, str | int | bool]:
    if not spec.secure or keys is None:
        return {"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"}
    scram_module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain_module = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return {
        # hardened: the controller listener authenticates too (SASL/PLAIN; SCRAM is not supported
        # there), so no anonymous principal has to be a super user
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": SCRAM,
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": SCRAM,
        "sasl.mechanism.inter.broker.protocol": SCRAM,
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": _jaas(
            scram_module, BROKER_USER, keys.broker_password
        ),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(
            plain_module,
            CONTROLLER_USER,
            keys.controller_password,
            f' user_{CONTROLLER_USER}="{keys.controller_password}"',
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN_USER};User:{BROKER_USER};User:{CONTROLLER_USER}",
        "allow.everyone.if.no.acl.found": False,
    }


def _replication(spec: ClusterSpec) -> dict[str, str | int | bool]:
    if spec.nodes == 1:
        # Kafka's defaults (RF 3, min ISR 2) cannot be met by one node: internal topics would never appear
        return {
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 1,  # default 50: a slow first group join on one node
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
        }
    # three nodes exist to test failures: every write waits for two replicas
    return {
        "default.replication.factor": 3,
        "min.insync.replicas": 2,
        "unclean.leader.election.enable": False,
        "offsets.topic.replication.factor": 3,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": 3,
        "transaction.state.log.min.isr": 2,
        "transaction.state.log.num.partitions": 3,
        "share.coordinator.state.topic.replication.factor": 3,
        "share.coordinator.state.topic.min.isr": 2,
    }


def log4j_properties(to_stderr: bool, level: str) -> str:
    """A log4j2 config that writes to the console (the broker's stdout is its log file).

    Without one, log4j2 prints only ERRORs and a starting broker looks hung.
    """
    lines = [
        "appender.out.type=Console",
        "appender.out.name=OUT",
        *(["appender.out.target=SYSTEM_ERR"] if to_stderr else []),
        "appender.out.layout.type=PatternLayout",
        "appender.out.layout.pattern=[%d] %p %m (%c)%n",
        f"rootLogger.level={level}",
        "rootLogger.appenderRef.out.ref=OUT",
        "logger.req.name=kafka.request.logger",
        "logger.req.level=WARN",
    ]
    return "\n".join(lines) + "\n"


def broker_command(java: str, classpath: str, node_dir: Path, heap: str) -> list[str]:
    """The JVM command of one node (what ``kafka-server-start.sh`` would run, minus the scripts)."""
    return [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={node_dir / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(node_dir / "server.properties"),
    ]


def tool_command(java: str, classpath: str, tools_log4j: Path, main_class: str, *args: str) -> list[str]:
    """A short-lived Kafka CLI tool: small heap, C1 only (starts faster), logging on stderr."""
    return [
        java,
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={tools_log4j}",
        "-cp",
        classpath,
        main_class,
        *args,
    ]


def format_args(spec: ClusterSpec, cluster_id: str, properties: Path, keys: Secrets | None) -> list[str]:
    """``StorageTool`` arguments formatting one node's log dir."""
    args = ["format", "--cluster-id", cluster_id, "--config", str(properties)]
    if spec.nodes == 1:
        args.append("--standalone")  # only with controller.quorum.bootstrap.servers; an error with voters
    if spec.secure and keys is not None:
        # the broker's own SCRAM credential must exist before it starts: it goes into the bootstrap metadata
        for user, password in ((ADMIN_USER, keys.admin_password), (BROKER_USER, keys.broker_password)):
            args += ["--add-scram", f"{SCRAM}=[name={user},password={password}]"]
    return args


def admin_client_properties(keys: Secrets) -> str:
    """The admin's client config for Kafka's own CLI tools (``--command-config``)."""
    jaas = _jaas("org.apache.kafka.common.security.scram.ScramLoginModule", ADMIN_USER, keys.admin_password)
    return f"security.protocol=SASL_PLAINTEXT\nsasl.mechanism={SCRAM}\nsasl.jaas.config={jaas}\n"


def client_env(spec: ClusterSpec, keys: Secrets | None) -> dict[str, str]:
    """The admin's ``BLUELIGHT_*`` settings for this cluster (what HubSettings reads)."""
    env = {"BLUELIGHT_BOOTSTRAP": spec.bootstrap, "BLUELIGHT_SECURITY_PROTOCOL": spec.listener}
    if spec.secure and keys is not None:
        env.update(
            {
                "BLUELIGHT_SASL_MECHANISM": SCRAM,
                "BLUELIGHT_SASL_USERNAME": ADMIN_USER,
                "BLUELIGHT_SASL_PASSWORD": keys.admin_password,
            }
        )
    return env


def env_file_text(env: dict[str, str]) -> str:
    """KEY=VALUE lines, readable by ``bluelight --env-file`` and by ``set -a; . file``."""
    return "".join(f"{key}={value}\n" for key, value in env.items())
