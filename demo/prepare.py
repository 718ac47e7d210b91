"""The demo's first two steps: a running Kafka, and a topology that holds the synthetic partners.

Kafka comes up through :func:`deploy.broker.ensure_up`, the code behind ``bluelight kafka up``
(a broker already running on the port is reused, whatever its shape). The 55 synthetic partners
are not members of the project's topology and must not become ones: the demo keeps its own
topology directory under the state dir (``<state_dir>/demo/topology``): the shipped
``hub.yaml`` copied as it is, and a ``members.yaml`` with the synthetic partners only, whose
ids all start with ``demo-``: no real force's topics are made on the demo's cluster.
``topologies.apply.apply_topology`` then reconciles that topology, so the demo's topics are
made by the same code, and can be inspected with the same commands (``bluelight topology plan
--dir ...``), as a real deployment's.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bluelight.settings import HubSettings
from demo.synthetic import MEMBERS
from demo.synthetic.members import DEMO_PREFIX
from deploy import broker
from deploy.jars import KAFKA_VERSION
from deploy.layout import Layout, read_meta
from topologies.apply import apply_topology
from topologies.model import HUB_FILE, Member, default_dir, load_topology, write_members
from topologies.plan import CreateTopic

Say = Callable[[str], None]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass(frozen=True)
class KafkaReady:
    """The broker the demo uses and what bringing it up took."""

    settings: HubSettings  # the demo's settings, pointing at it
    port: int | None  # None: a remote cluster the demo did not manage
    started: bool
    summary: str


def local_port(bootstrap: str) -> int | None:
    """The port of a single local bootstrap server (``127.0.0.1:9092``), else None."""
    if "," in bootstrap:
        return None
    host, _, port = bootstrap.strip().rpartition(":")
    return int(port) if host in LOCAL_HOSTS and port.isdigit() else None


def bring_up_kafka(settings: HubSettings, say: Say) -> KafkaReady:
    """Start (or reuse) the local broker ``settings.bootstrap`` names; a remote one is used as it is.

    A cluster already formatted on the port keeps its shape (nodes, security): the demo runs on
    whatever ``bluelight kafka up`` made there. On a secure cluster the demo acts as its admin.
    """
    port = local_port(settings.bootstrap)
    if port is None:
        return KafkaReady(
            settings, None, False, f"using the Kafka at {settings.bootstrap} (not managed here)"
        )
    meta = read_meta(Layout(settings.state_dir, port))
    secure = meta.spec.secure if meta else settings.security_protocol != "PLAINTEXT"
    nodes = meta.spec.nodes if meta else 1
    info = broker.ensure_up(settings, port, secure=secure, nodes=nodes, progress=say)
    if secure:
        ready = info.hub_settings(http=settings.http, state_dir=settings.state_dir)
    else:
        ready = settings.model_copy(update={"bootstrap": info.bootstrap})
    if info.started:
        how = f"started Kafka {KAFKA_VERSION} on {info.bootstrap}"
    elif info.managed:
        how = f"Kafka already running on {info.bootstrap}"
    else:
        how = f"reusing the Kafka broker that answers on {info.bootstrap}"
    return KafkaReady(ready, port, info.started, f"{how} ({info.spec.describe()})")


def demo_topology_dir(settings: HubSettings) -> Path:
    """Where the demo keeps its topology (never the project's ``topologies/``)."""
    return settings.state_dir / "demo" / "topology"


SYNTHETIC_CONTACT = "synthetic partner (bluelight demo)"  # and "(synthetic)" after each name


def is_demo_member(member: str) -> bool:
    """Whether ``member`` is one of the demo's own (every synthetic id starts with ``demo-``)."""
    return member.startswith(DEMO_PREFIX)


async def foreign_members(settings: HubSettings) -> list[str]:
    """Members with input topics on the cluster that are not the demo's (no ``demo-`` prefix).

    Read from the cluster's metadata with auto-creation off, so asking creates nothing.
    """
    from topologies.admin import connect
    from topologies.naming import parse_member_topic

    async with connect(settings.kafka) as admin:
        topics = await admin.topics(None, configs=False)
    present = {owner.member for t in topics if (owner := parse_member_topic(t)) is not None}
    return sorted(m for m in present if not is_demo_member(m))


def write_demo_topology(settings: HubSettings) -> HubSettings:
    """Write the demo's topology (the base hub, the synthetic partners as members); settings that use it.

    The base is ``settings.topology_dir`` (the shipped topology unless one was chosen). Its
    ``hub.yaml`` is copied afresh on every run, so a change to the hub's topics reaches the demo.
    Its members are left out: they are real partners, and the demo's cluster holds none.
    """
    base_dir = settings.topology_dir or default_dir()
    load_topology(base_dir)  # a broken base topology is named here, not half-copied
    target = demo_topology_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    if base_dir.resolve() != target.resolve():  # pointed at the demo's own copy: nothing to copy
        shutil.copyfile(base_dir / HUB_FILE, target / HUB_FILE)
    synthetic = [
        Member(id=m.id, name=f"{m.name} (synthetic)", sector=m.sector, contact=SYNTHETIC_CONTACT)
        for m in MEMBERS
    ]
    write_members(target, synthetic)
    return settings.model_copy(update={"topology_dir": target})


def apply_demo_topology(settings: HubSettings) -> str:
    """Reconcile the cluster with the demo topology; a one-line account of what changed."""
    planned, result = asyncio.run(apply_topology(settings))
    created = sum(isinstance(a, CreateTopic) for a in result.applied)
    others = len(result.applied) - created
    if not planned.actions:
        return "every topic already there"
    parts = [f"created {created} topics"] if created else []
    if others:
        parts.append(f"{others} other change(s) (configs, users, ACLs)")
    return ", ".join(parts)
