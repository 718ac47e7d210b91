"""The fixed broker ports of the test suite, moved by one offset per pytest session.

Two pytest sessions on one machine (two developers' work trees, or a helper beside CI) must
not share brokers or consumer groups: set ``BLUELIGHT_TEST_PORT_OFFSET`` (a multiple of 1000,
say) in one of them and every broker it starts or borrows moves by that much.
"""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Sequence


def offset() -> int:
    """The session's port offset (0 unless ``BLUELIGHT_TEST_PORT_OFFSET`` says otherwise)."""
    raw = os.environ.get("BLUELIGHT_TEST_PORT_OFFSET", "0").strip() or "0"
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"BLUELIGHT_TEST_PORT_OFFSET={raw!r} is not a whole number (e.g. 1000)") from None
    if value < 0 or value > 50_000:
        raise SystemExit(f"BLUELIGHT_TEST_PORT_OFFSET={value} is out of range: use 0 to 50000")
    return value


def port(base: int) -> int:
    """``base`` moved by the session's offset."""
    return base + offset()


PLAINTEXT = port(9092)  # the shared plaintext broker
SECURE = port(9392)  # the shared SASL/SCRAM broker
WORKERS = port(9742)  # several workers on a broker of the test's own
ORACLE = port(9492)  # oracle and SIGKILL tests (a fresh broker each)
DEPLOY = port(9592)  # deploy tests; a 3-node cluster takes +100 and +200
DEMO = port(9892)
BOUNCE = port(9992)
# within 9092-9999, so one session's ports never reach the next session's (offsets step by 1000)
HEALTH = port(9192)  # a broker stopped under a running worker (test_health_broker_down)
PROMETHEUS = port(9292)  # a worker scraped by a real Prometheus (test_prometheus_live)


EPHEMERAL_START = 32_768  # /proc/sys/net/ipv4/ip_local_port_range's default low end


def free_block(offsets: Sequence[int] = (0, 1, 100, 101, 200, 201), tries: int = 200) -> int:
    """A base port such that base + each offset is free now (a 3-node cluster: nodes on +0, +100,
    +200 and their controllers on +1), picked at random above the suite's fixed ports and below
    Linux's ephemeral range (32768 up), so no client connection's local port can take one of them
    between this check and the broker's bind (CI once lost a run to that)."""
    rng = random.Random()
    for _ in range(tries):
        base = rng.randrange(20_000, EPHEMERAL_START - max(offsets))
        if all(_free(base + o) for o in offsets):
            return base
    raise RuntimeError(f"no free block of ports {list(offsets)} found in {tries} tries")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


SINK = port(10092)  # the PostgreSQL sink test (a fresh broker)
ALERTS = port(9642)  # supplier alerts, with a SIGKILL (a fresh broker)
RESEND = port(9542)  # everything resent by new producers (a fresh broker)
NETWORK = port(11492)  # the worker behind a delaying/partitioning proxy (test_network_faults); +1..+3
DISK_FULL = port(11392)  # a broker whose log dir is a small tmpfs that the test fills (test_disk_full)
PUBLISH_DEADLINE = port(12692)  # a broker stopped under a publishing adapter (a fresh broker)
HUB_CLUSTER = port(11092)  # issue 13 row 1: a 3-node cluster (nodes +0, +100, +200; controllers +1)
SOAK = port(11892)  # issue 13 row 7: one worker under a steady load for 20 minutes (a fresh broker)
FUZZ = port(12092)  # issue 13 row 4: 100,000 malformed records through one worker (a fresh broker)
EVOLUTION = port(12392)  # issue 13 row 5: a worker without purchase-order v2, upgraded mid-stream
