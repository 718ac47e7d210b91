"""The fixed broker ports of the test suite, moved by one offset per pytest session.

Two pytest sessions on one machine (two developers' work trees, or a helper beside CI) must
not share brokers or consumer groups: set ``BLUELIGHT_TEST_PORT_OFFSET`` (a multiple of 1000,
say) in one of them and every broker it starts or borrows moves by that much.
"""

from __future__ import annotations

import os


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
ORACLE = port(9492)  # oracle and SIGKILL tests (a fresh broker each)
DEPLOY = port(9592)  # deploy tests; a 3-node cluster takes +100 and +200
DEMO = port(9892)
BOUNCE = port(9992)
SINK = port(10092)  # the PostgreSQL sink test (a fresh broker)
