"""SCRAM users through the Kafka protocol: the two admin requests aiokafka does not have.

aiokafka 0.14's admin client has topics and configs but no user credentials API, so the
DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51) requests of
KIP-554 are declared here with aiokafka's own protocol types and sent through its client.
That keeps ``members add`` a network call (no JVM start of ``kafka-configs.sh``, ~2 s, and no
dependency on the broker's jars being on this machine). The client salts and hashes the
password itself (RFC 5802 ``Hi()`` = PBKDF2-HMAC), as Kafka's own admin client does, so the
password never crosses the wire.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

# The mechanism ids of the protocol, and the hash behind each.
MECHANISMS: dict[str, tuple[int, str]] = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
ITERATIONS = 8192  # Kafka's minimum is 4096; 8192 as in Kafka's own examples


class DescribeUserScramCredentialsResponse_v0(Response):
    """Wire layout of the response (flexible version 0)."""

    API_KEY = 50
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", CompactString("utf-8")),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                (
                    "credential_infos",
                    CompactArray(("mechanism", Int8), ("iterations", Int32), ("tags", TaggedFields)),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeUserScramCredentialsRequest_v0(RequestStruct):
    """Wire layout of the request (flexible version 0)."""

    FLEXIBLE_VERSION = True
    API_KEY = 50
    API_VERSION = 0
    RESPONSE_TYPE = DescribeUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("users", CompactArray(("name", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class DescribeUserScramCredentials(Request[DescribeUserScramCredentialsRequest_v0]):
    """List the users that have SCRAM credentials (``users=None``: all of them)."""

    API_KEY = 50

    def __init__(self, users: list[str] | None) -> None:
        self._users = users

    def build(self, request_struct_class: type[DescribeUserScramCredentialsRequest_v0]) -> Any:
        """The version-0 struct (the only version there is)."""
        users: list[tuple[str, dict[int, bytes]]] | None = None
        if self._users is not None:
            users = [(u, {}) for u in self._users]
        return request_struct_class(users, {})


class AlterUserScramCredentialsResponse_v0(Response):
    """Wire layout of the response (flexible version 0)."""

    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):
    """Wire layout of the request (flexible version 0)."""

    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentials(Request[AlterUserScramCredentialsRequest_v0]):
    """Set (upsert) or delete SCRAM credentials."""

    API_KEY = 51

    def __init__(
        self, upsertions: list[tuple[str, int, int, bytes, bytes]], deletions: list[tuple[str, int]]
    ) -> None:
        self._upsertions = upsertions
        self._deletions = deletions

    def build(self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]) -> Any:
        """The version-0 struct (the only version there is)."""
        return request_struct_class(
            [(name, mech, {}) for name, mech in self._deletions],
            [(*u, {}) for u in self._upsertions],
            {},
        )


def new_password() -> str:
    """A random password: 32 URL-safe characters (no quote, comma or '=' to trip a JAAS line)."""
    return secrets.token_urlsafe(24)


def salted_password(password: str, salt: bytes, iterations: int, mechanism: str) -> bytes:
    """SCRAM's ``Hi(password, salt, i)``: PBKDF2 with the mechanism's HMAC."""
    _, digest = MECHANISMS[mechanism]
    return hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, iterations)


def upsertion(user: str, password: str, mechanism: str) -> tuple[str, int, int, bytes, bytes]:
    """One upsertion entry: a fresh salt, and the salted password (the password itself stays here)."""
    mech_id, _ = MECHANISMS[mechanism]
    salt = secrets.token_bytes(32)
    return (user, mech_id, ITERATIONS, salt, salted_password(password, salt, ITERATIONS, mechanism))
