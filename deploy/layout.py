"""Where a local cluster's files live, and the small, careful ways they are read and written.

Everything about one cluster is under ``<state_dir>/kafka/<port>/``; see docs/kafka.md.
Writes are atomic (write, then rename) so a killed command never leaves half a config, and
anything holding a password is created 0600 from the start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from deploy import config, process
from deploy.config import ClusterSpec, Secrets
from deploy.errors import DeployError


class Layout:
    """Where one cluster's files live: ``<state_dir>/kafka/<port>/``."""

    def __init__(self, state_dir: Path, port: int) -> None:
        # absolute: the broker runs with its node dir as cwd and must find the same files
        self.root = Path(state_dir).expanduser().resolve() / "kafka" / str(port)

    @property
    def meta(self) -> Path:
        """Shape and cluster id; its presence means the storage was formatted."""
        return self.root / "cluster.json"

    @property
    def secrets(self) -> Path:
        """Passwords of a secure cluster (0600)."""
        return self.root / "secrets.json"

    @property
    def lock(self) -> Path:
        """Held while a command starts or stops this cluster."""
        return self.root / ".lock"

    @property
    def temporary(self) -> Path:
        """Present when a test session started the cluster (and may stop it)."""
        return self.root / "temporary"

    @property
    def leases(self) -> Path:
        """One file per test session using the cluster."""
        return self.root / "leases"

    @property
    def admin_properties(self) -> Path:
        """The admin's client config for Kafka's CLI tools (0600, secure only)."""
        return self.root / "admin.properties"

    @property
    def tools_log4j(self) -> Path:
        """log4j config of the short-lived CLI tools (stderr, WARN)."""
        return self.root / "tools-log4j2.properties"

    def node_dir(self, node_id: int) -> Path:
        """One node's config, data, log and pid."""
        return self.root / f"node-{node_id}"

    def properties(self, node_id: int) -> Path:
        """The node's ``server.properties``."""
        return self.node_dir(node_id) / "server.properties"

    def data(self, node_id: int) -> Path:
        """The node's ``log.dirs`` (topic data and KRaft metadata)."""
        return self.node_dir(node_id) / "data"

    def log(self, node_id: int) -> Path:
        """The broker's own log (its stdout and stderr)."""
        return self.node_dir(node_id) / "broker.log"

    def pid_file(self, node_id: int) -> Path:
        """Pid of the running node."""
        return self.node_dir(node_id) / "broker.pid"


@dataclass(frozen=True)
class Meta:
    """What ``cluster.json`` records."""

    spec: ClusterSpec
    cluster_id: str
    kafka_version: str


def running_pid(layout: Layout, node_id: int) -> int | None:
    """The pid in the node's pid file, if that process is alive and is this node's broker."""
    try:
        pid = int(layout.pid_file(node_id).read_text().strip())
    except (OSError, ValueError):
        return None
    argv = process.cmdline(pid)
    if process.alive(pid) and "kafka.Kafka" in argv and str(layout.properties(node_id)) in argv:
        return pid
    return None


def read_meta(layout: Layout) -> Meta | None:
    """The cluster's record, or None if it was never (completely) formatted."""
    try:
        raw = json.loads(layout.meta.read_text())
    except (OSError, ValueError):
        return None
    return Meta(ClusterSpec(**raw["spec"]), raw["cluster_id"], raw["kafka_version"])


def read_secrets(layout: Layout) -> Secrets:
    """A secure cluster's passwords; DeployError saying how to recover if they are unreadable."""
    try:
        return Secrets(**json.loads(layout.secrets.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise DeployError(
            f"cannot read the secure cluster's passwords from {layout.secrets} ({exc}); "
            f"recreate it with `bluelight kafka down --port <port> --wipe` then `kafka up --secure`"
        ) from exc


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` in one step, created with ``mode`` (never briefly world-readable)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, mode)
    tmp.replace(path)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (passwords)."""
    write_atomic(path, text, mode=0o600)


def write_meta(layout: Layout, meta: Meta) -> None:
    """Record that the cluster is formatted (the last step of formatting)."""
    raw = {"spec": meta.spec.as_dict(), "cluster_id": meta.cluster_id, "kafka_version": meta.kafka_version}
    write_atomic(layout.meta, json.dumps(raw, indent=2) + "\n")


def write_secrets(layout: Layout, keys: Secrets) -> None:
    """Keep a secure cluster's passwords, readable by their owner only."""
    write_private(layout.secrets, json.dumps(keys.as_dict(), indent=2) + "\n")


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``KEY=VALUE`` lines readable only by their owner (they hold the admin password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, config.env_file_text(env))
