"""`bluelight kafka up | down | status` find their port in a local BLUELIGHT_BOOTSTRAP."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bluelight.cli import cli
from deploy.cli import local_port


@pytest.mark.parametrize(
    ("bootstrap", "port"),
    [
        ("127.0.0.1:9392", 9392),
        ("localhost:19092,localhost:19192", 19092),
        ("[::1]:9500", 9500),
        ("kafka.example.org:9092", None),  # not this machine: no port to take
        ("127.0.0.1", None),
    ],
)
def test_local_port(bootstrap: str, port: int | None) -> None:
    assert local_port(bootstrap) == port


def test_status_looks_at_the_bootstrap_port_then_the_flag(tmp_path: Path) -> None:
    env = {"BLUELIGHT_BOOTSTRAP": "127.0.0.1:18765", "BLUELIGHT_STATE_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["kafka", "status"], env=env)
    assert result.output.startswith("port 18765: no cluster under"), result.output
    result = CliRunner().invoke(cli, ["kafka", "status", "--port", "18865"], env=env)
    assert result.output.startswith("port 18865: no cluster under"), result.output
