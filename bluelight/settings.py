"""One typed settings object for every process, loaded once in ``main()``.

Precedence is flags, then environment variables (``BLUELIGHT_*``, optionally read from an
env file such as the one ``bluelight kafka up --secure --env-file`` writes), then defaults.
Nothing here is read at import time: commands call :func:`load_settings`.
"""

from __future__ import annotations

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


def load_settings(env_file: Path | None = None, **overrides: Any) -> HubSettings:
    """Build the settings: flags (``overrides``, ``None`` meaning not given) over env over defaults."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if env_file is not None:
        return HubSettings(_env_file=env_file, **given)  # type: ignore[call-arg]
    return HubSettings(**given)
