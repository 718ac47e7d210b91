"""A bad setting stops every command with what was wrong, named as the user set it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bluelight.cli import cli


@pytest.mark.parametrize(
    ("env", "named", "why"),
    [
        ({"BLUELIGHT_FETCH_WAIT_MS": "0"}, "BLUELIGHT_FETCH_WAIT_MS='0'", "greater than or equal to 1"),
        ({"BLUELIGHT_FETCH_MIN_BYTES": "lots"}, "BLUELIGHT_FETCH_MIN_BYTES='lots'", "valid integer"),
        ({"BLUELIGHT_SECURITY_PROTOCOL": "TLS"}, "BLUELIGHT_SECURITY_PROTOCOL='TLS'", "PLAINTEXT"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_it(env: dict[str, str], named: str, why: str) -> None:
    result = CliRunner().invoke(cli, ["categories", "list"], env=env)
    assert result.exit_code == 2, result.output
    assert named in result.output and why in result.output
    assert "Traceback" not in result.output
