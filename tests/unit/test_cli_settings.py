"""A bad setting stops every command with what was wrong, named as the user set it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import load_settings


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


def test_precedence_is_flags_then_env_file_then_exported_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "member.env"
    env_file.write_text(
        "# written by members add\nBLUELIGHT_BOOTSTRAP=127.0.0.1:9392\n"
        "BLUELIGHT_SASL_USERNAME=member-kent-police\nexport BLUELIGHT_SASL_PASSWORD='s3cret'\nOTHER=x\n"
    )
    monkeypatch.setenv("BLUELIGHT_BOOTSTRAP", "127.0.0.1:9092")
    monkeypatch.setenv("BLUELIGHT_SASL_PASSWORD", "exported-secret")
    monkeypatch.setenv("BLUELIGHT_HTTP", "127.0.0.1:7000")
    warned: list[str] = []
    settings = load_settings(env_file, warn=warned.append)
    assert settings.bootstrap == "127.0.0.1:9392"  # the file beats the exported variable
    assert settings.sasl_password.get_secret_value() == "s3cret"
    assert settings.sasl_username == "member-kent-police"
    assert settings.http == "127.0.0.1:7000"  # not in the file: the exported one
    assert any("BLUELIGHT_BOOTSTRAP" in w and f"Using {env_file}" in w for w in warned), warned
    assert all("s3cret" not in w and "exported-secret" not in w for w in warned)  # never a password
    warned.clear()
    flagged = load_settings(env_file, warn=warned.append, bootstrap="10.0.0.1:9092")
    assert flagged.bootstrap == "10.0.0.1:9092"
    assert any("Using --bootstrap" in w for w in warned), warned


def test_no_warning_when_the_sources_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "admin.env"
    env_file.write_text("BLUELIGHT_BOOTSTRAP=127.0.0.1:9392\n")
    monkeypatch.setenv("BLUELIGHT_BOOTSTRAP", "127.0.0.1:9392")
    warned: list[str] = []
    assert load_settings(env_file, warn=warned.append).bootstrap == "127.0.0.1:9392"
    assert warned == []


def test_the_cli_prints_the_conflict_on_stderr(tmp_path: Path) -> None:
    env_file = tmp_path / "member.env"
    env_file.write_text("BLUELIGHT_BOOTSTRAP=127.0.0.1:9392\n")
    exported = {"BLUELIGHT_BOOTSTRAP": "127.0.0.1:9092"}
    result = CliRunner().invoke(cli, ["--env-file", str(env_file), "categories", "list"], env=exported)
    assert result.exit_code == 0, result.output
    assert "warning: BLUELIGHT_BOOTSTRAP" in result.stderr and "'127.0.0.1:9392'" in result.stderr
