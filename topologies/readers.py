"""Who may read what from the worker's HTTP API: bearer tokens from topologies/readers.yaml.

Only the sha256 of each token is stored, as the webhook does. :func:`decide` is the whole
rule, a pure function of the configuration, the request's path and its Authorization header;
the worker's pages only call it (``streams/pages.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from topologies.naming import VIEWS, check_member_id

READERS_FILE = "readers.yaml"
OPEN_PATHS = frozenset({"/health", "/metrics", "/openapi.json"})
ANONYMOUS_NOTICE = "unauthenticated: a plaintext local cluster (the demo); see topologies/readers.yaml"


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    """The hex sha256 of a token, as readers.yaml stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def _sha256_hex(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("token_sha256 must be 64 lower-case hex digits (`bluelight topology reader-token`)")
    return value


def _role(value: str) -> str:
    if value in ("national", "subscriber"):
        return value
    if value.startswith("member:"):
        check_member_id(value.removeprefix("member:"))
        return value
    raise ValueError(f"role {value!r}: use national, subscriber or member:<member id>")


class Reader(BaseModel):
    """One token holder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: Annotated[str, AfterValidator(_role)]
    token_sha256: Annotated[str, AfterValidator(_sha256_hex)]
    views: tuple[str, ...] | None = None  # a subscriber's views; None: all

    @field_validator("views")
    @classmethod
    def _known(cls, views: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for view in views or ():
            if view not in VIEWS:
                raise ValueError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
        return views

    @property
    def member(self) -> str | None:
        """The member id of a ``member:<id>`` reader."""
        return self.role.removeprefix("member:") if self.role.startswith("member:") else None


class Access(BaseModel):
    """readers.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_anonymous_on_local_plaintext: bool = True
    member_views: tuple[str, ...] = ()
    readers: tuple[Reader, ...] = ()
    local_plaintext: bool = False  # set by the worker from its settings, never from the file

    @field_validator("member_views")
    @classmethod
    def _views(cls, views: tuple[str, ...]) -> tuple[str, ...]:
        for view in views:
            if view not in VIEWS:
                raise ValueError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
        return views


def load_access(directory: Path, local_plaintext: bool) -> Access:
    """readers.yaml of a topology directory (none: no readers); errors name the file."""
    path = directory / READERS_FILE
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    try:
        access = Access.model_validate({**(raw or {}), "local_plaintext": local_plaintext})
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None
    hashes = [r.token_sha256 for r in access.readers]
    if len(set(hashes)) != len(hashes):
        raise ValueError(f"{path}: two readers share a token")
    return access


def is_local_plaintext(security_protocol: str, bootstrap: str) -> bool:
    """A PLAINTEXT cluster whose every bootstrap server is on this machine."""
    if security_protocol != "PLAINTEXT":
        return False
    for server in bootstrap.split(","):
        host = server.strip().rsplit(":", 1)[0].strip("[]")
        if host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return True


# -- the decision -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Whether to serve a request; ``only_member`` narrows a member-activity listing."""

    status: int  # 200 to serve, 401 or 403
    reason: str = ""
    reader: str = ""
    only_member: str | None = None
    notice: str = ""


def identify(access: Access, authorization: str | None) -> Reader | None:
    """The reader whose token the header carries (compared in constant time), or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    presented = token_sha256(authorization.removeprefix("Bearer ").strip()).encode()
    found = None
    for reader in access.readers:
        if hmac.compare_digest(presented, reader.token_sha256.encode()):
            found = reader
    return found


def resource(path: str) -> tuple[str, str | None, str | None]:
    """``/views/<view>[.csv][/<key>]`` -> ("view", view, key); ``/views`` -> ("list", ...)."""
    parts = path.split("/", 3)  # "", "views", view, key
    if path in ("/views", "/views/"):
        return "list", None, None
    if len(parts) >= 3 and parts[1] == "views":
        view = unquote(parts[2]).removesuffix(".csv")
        key = unquote(parts[3]) if len(parts) == 4 else None
        return "view", view, key
    return "other", None, None


def readable(reader: Reader, view: str) -> bool:
    """Whether a reader may read a view at all (a member: its own items of member-activity)."""
    if reader.role == "national":
        return True
    if reader.role == "subscriber":
        return reader.views is None or view in reader.views
    return False


def decide(access: Access, path: str, authorization: str | None) -> Decision:
    """Serve, or 401 (who are you?) or 403 (not yours), for a GET of ``path``."""
    if path in OPEN_PATHS:
        return Decision(200)
    reader = identify(access, authorization)
    if reader is None:
        if authorization:
            return Decision(401, "the bearer token is not known here; ask for one (docs/consumers.md)")
        if access.local_plaintext and access.allow_anonymous_on_local_plaintext:
            return Decision(200, reader="anonymous", notice=ANONYMOUS_NOTICE)
        return Decision(401, "send Authorization: Bearer <token> (docs/consumers.md, 'Who may see what')")
    kind, view, key = resource(path)
    if kind == "list" or reader.role == "national":
        return Decision(200, reader=reader.name)
    if kind != "view" or view is None:
        return Decision(403, f"{reader.role} may read the views only", reader.name)
    member = reader.member
    if member is not None:
        if view == "member-activity":
            if key is not None and key != member:
                return Decision(403, f"{reader.role} may read its own activity only", reader.name)
            return Decision(200, reader=reader.name, only_member=member)
        if view in access.member_views:
            return Decision(200, reader=reader.name)
        return Decision(403, f"the topology does not let members read {view}", reader.name)
    if readable(reader, view):
        return Decision(200, reader=reader.name)
    return Decision(403, f"{reader.name} may not read {view}", reader.name)


def visible_views(access: Access, authorization: str | None) -> tuple[str, ...]:
    """The views ``GET /views`` lists for whoever asks."""
    reader = identify(access, authorization)
    if reader is None:
        return VIEWS if access.local_plaintext and access.allow_anonymous_on_local_plaintext else ()
    if reader.member is not None:
        return tuple(v for v in VIEWS if v == "member-activity" or v in access.member_views)
    return tuple(v for v in VIEWS if readable(reader, v))

