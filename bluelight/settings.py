"""One typed settings object for every process, loaded once in ``main()``.

Precedence, highest first: flags; then the ``--env-file`` file (such as the one ``bluelight
kafka up --secure --env-file`` or ``members add --env-file`` writes); then exported
``BLUELIGHT_*`` variables; then defaults. A file named on the command line is a deliberate
choice, so it beats whatever the shell happens to export; every conflict is warned about,
naming both values' sources (passwords are never shown). Nothing here is read at import
time: commands call :func:`load_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaConnection(BaseModel):
    """How a client reaches the cluster: the part every producer, consumer and admin shares."""

    model_config = ConfigDict(frozen=True)

    bootstrap: str = "127.0.0.1:9092"
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")

    def to_aiokafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by aiokafka's producer, consumer and admin client."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol != "PLAINTEXT":
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.security_protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context()
        return kwargs


class HubSettings(BaseSettings):
    """Everything a bluelight process may be configured with."""

    model_config = SettingsConfigDict(env_prefix="BLUELIGHT_", frozen=True, extra="ignore")

    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    http: str = Field("127.0.0.1:6066", description="The worker's HTTP address (host:port).")
    state_dir: Path = Field(
        Path.home() / ".local" / "state" / "bluelight",
        description="Local state: broker data, checkpoints, worker tables.",
    )
    security_protocol: SecurityProtocol = Field("PLAINTEXT", description="Kafka security protocol.")
    sasl_mechanism: SaslMechanism = Field("SCRAM-SHA-512", description="SASL mechanism.")
    sasl_username: str = Field("", description="SASL user name.")
    sasl_password: SecretStr = Field(SecretStr(""), description="SASL password.")
    topology_dir: Path | None = Field(
        None,
        description="Directory holding hub.yaml and members.yaml; default: the one shipped in topologies/.",
    )
    members_only: bool = Field(
        True,
        description="The worker reads only members of the topology; records on the input topics of "
        "anyone else are ignored, counted and logged (docs/topology.md, 'Who gets in').",
    )
    fetch_wait_ms: int = Field(
        15,
        ge=1,
        le=1000,
        description="Longest a worker's fetch waits for fetch_min_bytes to arrive: the latency "
        "each stage may add to save requests at a steady rate.",
    )
    fetch_min_bytes: int = Field(
        65536,
        ge=1,
        description="Bytes a worker's fetch waits for (up to fetch_wait_ms): fewer, larger "
        "fetches at a steady rate, for the worker and the broker alike.",
    )

    sink_dsn: SecretStr = Field(
        SecretStr(""),
        description="PostgreSQL connection string of `bluelight sink postgres` (libpq's PG* "
        "variables fill in what it leaves out).",
    )

    token: SecretStr = Field(
        SecretStr(""), description="Bearer token `bluelight views` sends to the worker (readers.yaml)."
    )

    @property
    def kafka(self) -> KafkaConnection:
        """The connection part, for building clients."""
        return KafkaConnection(
            bootstrap=self.bootstrap,
            security_protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
            sasl_username=self.sasl_username,
            sasl_password=self.sasl_password,
        )

    @property
    def http_host(self) -> str:
        """Host part of ``http``."""
        return self.http.rsplit(":", 1)[0]

    @property
    def http_port(self) -> int:
        """Port part of ``http``."""
        return int(self.http.rsplit(":", 1)[1])


ENV_PREFIX = "BLUELIGHT_"


def load_settings(
    env_file: Path | None = None, *, warn: Callable[[str], None] | None = None, **overrides: Any
) -> HubSettings:
    """Build the settings: flags over the env file over exported variables over defaults.

    ``overrides`` are the flags (``None``: not given); ``warn`` hears of every conflict.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    from_file = read_env_file(env_file) if env_file is not None else {}
    if warn is not None:
        for text in conflicts(given, from_file, env_file, os.environ):
            warn(text)
    return HubSettings(**{**from_file, **given})


def read_env_file(path: Path) -> dict[str, str]:
    """The ``BLUELIGHT_*`` settings of a KEY=VALUE file, keyed by field name.

    ``export``, quotes and comments are allowed; other keys are left alone.
    """
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key.startswith(ENV_PREFIX) and key.removeprefix(ENV_PREFIX).lower() in HubSettings.model_fields:
            out[key.removeprefix(ENV_PREFIX).lower()] = value
    return out


def conflicts(
    flags: Mapping[str, Any], from_file: Mapping[str, str], env_file: Path | None, environ: Mapping[str, str]
) -> list[str]:
    """One warning per setting given two different ways, saying which one wins."""
    out = []
    for field in sorted(set(flags) | set(from_file)):
        exported = environ.get(ENV_PREFIX + field.upper())
        candidates = [
            ("--" + field.replace("_", "-"), flags.get(field)),
            (str(env_file), from_file.get(field)),
            (f"the exported {ENV_PREFIX}{field.upper()}", exported),
        ]
        present = [(where, str(v)) for where, v in candidates if v is not None]
        if len({v for _, v in present}) <= 1:
            continue
        shown = [f"{where} says {_shown(field, v)}" for where, v in present]
        out.append(
            f"warning: {ENV_PREFIX}{field.upper()}: {'; '.join(shown)}. Using {present[0][0]} "
            "(flags, then --env-file, then exported variables)"
        )
    return out


def _shown(field: str, value: str) -> str:
    return "a different password" if "password" in field else repr(value)
