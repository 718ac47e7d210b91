"""The topology as typed data: what hub.yaml and members.yaml say, checked on load.

Two files because they change at different speeds and by different hands: ``hub.yaml`` is
edited by people (plans, the hub's own topics, subscribers) and keeps its comments;
``members.yaml`` is rewritten by ``bluelight members add``. Loading them gives one
:class:`Topology`; :mod:`topologies.desired` turns it into topics, users and ACLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Sector = Literal["police", "fire", "national"]
SECTORS: tuple[Sector, ...] = ("police", "fire", "national")
# suspended or removed: no user and no ACLs (no access); its topics, history and dead letters stay
MemberStatus = Literal["active", "suspended", "removed"]

HUB_FILE = "hub.yaml"
MEMBERS_FILE = "members.yaml"


def default_dir() -> Path:
    """The topology shipped with the project (this package's directory)."""
    return Path(__file__).resolve().parent


class TopologyError(ValueError):
    """A topology file that cannot be read or does not describe a valid topology."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopicPlan(_Frozen):
    """Settings shared by a family of topics (JulieOps calls these plans)."""

    description: str = ""
    partitions: int
    replication_factor: int = 3
    config: dict[str, str] = Field(default_factory=dict)

    @field_validator("config", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        # Kafka configs are strings on the wire; YAML gives ints for retention.ms and friends.
        if isinstance(value, dict):
            return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        return value


class MemberTopicPlans(_Frozen):
    """Which plan each kind of per-member topic follows."""

    input: str
    dead_letter: str
    alerts: str


class HubTable(_Frozen):
    """A faust table of the worker; its changelog is declared here, not made by faust."""

    name: str
    plan: str


class HubStream(_Frozen):
    """An internal stream topic of the hub (``naming.hub_topic(name)``)."""

    name: str
    plan: str


class Hub(_Frozen):
    """The hub's own principal and every topic it uses beyond member and view topics."""

    principal: str = "hub"
    app_id: str
    streams: list[HubStream]
    tables: list[HubTable]
    leader_plan: str


class Subscriber(_Frozen):
    """A consumer of national views (a dashboard, an analytics team)."""

    id: str
    name: str
    contact: str = ""
    reads: Literal["all"] | list[str] = "all"


class Member(_Frozen):
    """A partner that publishes its ERP's events: a police force, fire service or national body."""

    id: str
    name: str
    sector: Sector
    contact: str = ""
    status: MemberStatus = "active"

    @property
    def has_access(self) -> bool:
        """Whether the member may publish and read its dead letters (a user and ACLs)."""
        return self.status == "active"


class Topology(_Frozen):
    """Everything the cluster should hold, in one value."""

    context: str
    plans: dict[str, TopicPlan]
    member_topics: MemberTopicPlans
    view_plan: str
    reference: dict[str, str] = Field(default_factory=dict)  # ref name -> plan
    hub: Hub
    subscribers: list[Subscriber] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)

    def member(self, member_id: str) -> Member | None:
        """The member with this id, if declared."""
        return next((m for m in self.members if m.id == member_id), None)

    def with_member(self, member: Member) -> Topology:
        """A copy with ``member`` appended (validation is the caller's next step)."""
        return self.model_copy(update={"members": [*self.members, member]})


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TopologyError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise TopologyError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TopologyError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_topology(directory: Path | None = None) -> Topology:
    """Read ``hub.yaml`` and ``members.yaml`` from ``directory``; errors name the file and field."""
    directory = directory or default_dir()
    hub_path, members_path = directory / HUB_FILE, directory / MEMBERS_FILE
    hub = _read_yaml(hub_path)
    members = _read_yaml(members_path) if members_path.exists() else {}
    if "members" in hub:
        raise TopologyError(f"{hub_path}: members belong in {MEMBERS_FILE}, not {HUB_FILE}")
    extra = set(members) - {"members"}
    if extra:
        raise TopologyError(f"{members_path}: unexpected keys {sorted(extra)} (only 'members')")
    try:
        return Topology.model_validate({**hub, "members": members.get("members") or []})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            source = members_path if loc[:1] == ("members",) else hub_path
            problems.append(f"{source}: {_where(loc)}: {err['msg']}")
        raise TopologyError("\n".join(problems)) from exc


MEMBERS_HEADER = """\
# The partners plugged into the hub. Written by `bluelight members add`; edits by hand are
# fine (keep one member per entry). Each member gets its input topics, a dead-letter topic,
# a SCRAM user `member-<id>` and prefixed ACLs: see docs/topology.md.
"""


def dump_members(members: list[Member]) -> str:
    """The text of members.yaml for ``members`` (stable order and layout, so diffs stay small)."""
    # status is written only when it is not the default, so an active member's entry is unchanged;
    # an empty contact is left out rather than written as `contact: ''`
    def kept(k: str, v: object) -> bool:
        return not (k == "status" and v == "active") and not (k == "contact" and not v)

    rows = [{k: v for k, v in m.model_dump().items() if kept(k, v)} for m in members]
    body = yaml.safe_dump({"members": rows}, sort_keys=False, allow_unicode=True, width=100)
    return MEMBERS_HEADER + body


def write_members(directory: Path | None, members: list[Member]) -> Path:
    """Replace members.yaml atomically (write then rename), so a crash never leaves half a file."""
    path = (directory or default_dir()) / MEMBERS_FILE
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(dump_members(members), encoding="utf-8")
    tmp.replace(path)
    return path
