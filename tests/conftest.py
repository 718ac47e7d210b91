"""Session fixtures: the real Kafka brokers the integration tests run against.

They start brokers through the same code as ``bluelight kafka up`` (deploy.broker), only
when a test asks for them. A broker that already runs and answers is reused as is; one a
session started is stopped when the last pytest session using it ends (``broker.borrowed``
counts the sessions). A broker that cannot start fails the run: integration tests never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from hypothesis import settings as hypothesis_settings

from bluelight.settings import load_settings
from deploy import broker
from deploy.broker import BrokerInfo
from deploy.errors import DeployError
from tests import ports

# Most worker tests publish as throwaway members (``t-1a2b3c4d``) that no topology lists; the
# worker's membership gate (streams/members.py) is tested on its own, with it set to true.
os.environ.setdefault("BLUELIGHT_MEMBERS_ONLY", "false")

PLAINTEXT_PORT = ports.PLAINTEXT
SECURE_PORT = ports.SECURE

# CI machines are shared and slow in bursts: a Hypothesis deadline there fails on the machine's
# load, not on the code. `CI=true` (what CI services set) loads this profile: no deadline, a
# fixed seed and no example database (a CI failure reproduces from its printed blob). Recent
# Hypothesis releases have a similar built-in "ci" profile; ours does not depend on the version.
hypothesis_settings.register_profile(
    "bluelight-ci", deadline=None, derandomize=True, database=None, print_blob=True
)
if os.environ.get("CI", "").lower() == "true":
    hypothesis_settings.load_profile("bluelight-ci")


@contextmanager
def _borrow(request: pytest.FixtureRequest, port: int, secure: bool) -> Iterator[BrokerInfo]:
    """Borrow the broker on ``port``; fail the test (with the broker's log tail) if it cannot start."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def progress(message: str) -> None:
        # shown live: the first run fetches the jars with Maven, which would otherwise look like a hang
        if capture is None:
            print(f"[kafka :{port}] {message}", flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(f"[kafka :{port}] {message}", flush=True)

    stack = ExitStack()
    try:
        info = stack.enter_context(broker.borrowed(load_settings(), port, secure=secure, progress=progress))
    except DeployError as exc:
        pytest.fail(f"the Kafka broker on port {port} did not start: {exc}", pytrace=False)
    with stack:
        yield info


@pytest.fixture(scope="session")
def kafka_broker(request: pytest.FixtureRequest) -> Iterator[BrokerInfo]:
    """The shared plaintext broker on 127.0.0.1:9092 (PLAINTEXT, auto topic creation on)."""
    with _borrow(request, PLAINTEXT_PORT, secure=False) as info:
        yield info


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: BrokerInfo) -> str:
    """Bootstrap servers of the plaintext broker: "127.0.0.1:9092"."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def secure_kafka(request: pytest.FixtureRequest) -> Iterator[BrokerInfo]:
    """The SASL/SCRAM + ACL broker on 127.0.0.1:9392, seen as its admin (a super user).

    ``.bootstrap``, ``.username``, ``.password``, ``.env`` (BLUELIGHT_* mapping),
    ``.connection`` (KafkaConnection) and ``.hub_settings(**overrides)`` (HubSettings).
    Topics are not auto-created there, and users other than the admin can do nothing
    until they are granted ACLs.
    """
    with _borrow(request, SECURE_PORT, secure=True) as info:
        yield info
