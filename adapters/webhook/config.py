"""The webhook's config: where it listens and which token belongs to which member.

Only a sha256 of each token is stored, so the config file can be read by operators
without handing out the members' credentials.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.sdk.sharing import PolicyError, SharingPolicy
from topologies.naming import check_member_id

MIB = 1024 * 1024


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    """The hex sha256 of a token, as the config stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def _sha256_hex(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("token_sha256 must be 64 hex digits (see `bluelight adapter webhook-token`)")
    return value


class WebhookMember(BaseModel):
    """One member's credentials and defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member: Annotated[str, AfterValidator(check_member_id)]
    token_sha256: Annotated[str, AfterValidator(_sha256_hex)]
    source_system: str | None = None
    policy: Path | None = Field(default=None, description="Sharing policy YAML, relative to the config file.")


class WebhookConfig(BaseModel):
    """The whole webhook config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = "127.0.0.1:8085"
    max_body_bytes: int = Field(default=MIB, gt=0)
    ack_timeout_seconds: float = Field(default=30.0, gt=0)
    read_timeout_seconds: float = Field(
        default=10.0, gt=0, description="For the request head, and for the body."
    )
    max_events: int = Field(default=1_000, gt=0, description="Events in one request.")
    members: list[WebhookMember]

    @model_validator(mode="after")
    def _unique(self) -> WebhookConfig:
        seen_members: set[str] = set()
        seen_tokens: set[str] = set()
        for m in self.members:
            if m.member in seen_members:
                raise ValueError(f"member {m.member} is listed twice")
            if m.token_sha256 in seen_tokens:
                raise ValueError(f"member {m.member} shares a token with another member")
            seen_members.add(m.member)
            seen_tokens.add(m.token_sha256)
        if ":" not in self.listen:
            raise ValueError(f"listen {self.listen!r} must be host:port")
        return self

    @property
    def host(self) -> str:
        """Host part of ``listen``."""
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """Port part of ``listen``."""
        return int(self.listen.rsplit(":", 1)[1])

    def with_listen(self, listen: str) -> WebhookConfig:
        """The same config listening elsewhere."""
        return WebhookConfig.model_validate({**self.model_dump(), "listen": listen})

    def policies(self, base: Path) -> dict[str, SharingPolicy]:
        """Each member's sharing policy (empty when none), paths relative to ``base``."""
        out: dict[str, SharingPolicy] = {}
        for m in self.members:
            if m.policy is None:
                out[m.member] = SharingPolicy()
                continue
            path = m.policy if m.policy.is_absolute() else base / m.policy
            try:
                out[m.member] = SharingPolicy.load(path)
            except PolicyError as exc:
                raise WebhookConfigError(f"member {m.member}: {exc}") from exc
        return out


class WebhookConfigError(ValueError):
    """A webhook config that cannot be used, with the reason."""


def load_webhook_config(path: Path) -> WebhookConfig:
    """Read and check a webhook config file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        config = WebhookConfig.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise WebhookConfigError(f"{path}: cannot read: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise WebhookConfigError(f"{path}: {problems}") from exc
    config.policies(path.parent)  # fail now, not on the first request
    return config
