"""When `bluelight kafka up` cannot work: missing Java or Maven, a broker that dies, a half-done download."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from bluelight.cli import cli
from bluelight.settings import load_settings
from deploy import broker, jars
from deploy.errors import DeployError
from tests import ports

PORT = ports.DEPLOY  # a port of the deploy tests; each test here uses its own state dir


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def up(state: Path, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--state-dir", str(state), "kafka", "up", "--port", str(PORT)], env=env)
    return result.exit_code, result.output


def test_missing_java_says_how_to_get_it(tmp_path: Path) -> None:
    code, output = up(tmp_path / "state", {"PATH": str(tmp_path / "empty-bin")})
    assert code == 2
    assert "`java` not found" in output
    assert "apt-get install openjdk-17-jre-headless" in output


def test_old_java_is_refused(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script(bin_dir / "java", "echo 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    code, output = up(tmp_path / "state", {"PATH": str(bin_dir)})
    assert code == 2
    assert "is Java 11; Kafka 4 needs Java 17+" in output


def test_missing_maven_is_reported_when_the_jars_are_not_cached(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = os.path.realpath("/usr/bin/java")
    (bin_dir / "java").symlink_to(java)
    env = {"PATH": str(bin_dir), "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    code, output = up(tmp_path / "state", env)
    assert code == 2
    assert "`mvn` not found" in output
    assert "apt-get install maven" in output


@pytest.mark.kafka
def test_a_broker_that_dies_at_start_fails_up_with_its_log(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path / "state")
    info = broker.ensure_up(settings, PORT)
    broker.stop(settings, PORT)
    meta = info.root / "node-1" / "data" / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=7"))  # storage of another node

    code, output = up(tmp_path / "state", {})
    assert code == 1
    assert "node 1 (pid" in output and "exited" in output
    assert "Stored node id 7 doesn't match previous node id 1" in output  # the log tail says why
    assert broker.status(settings, PORT).nodes[0].pid is None  # nothing half-started left behind


# --- the jar cache, with a stand-in `mvn` (no network) ---------------------------------------


@pytest.fixture
def fake_mvn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `mvn` that 'downloads' the required jars into -DoutputDirectory and counts its runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "mvn-calls"
    touch = " ".join(f'"$out/{jar}"' for jar in jars.REQUIRED_JARS)
    script(
        bin_dir / "mvn",
        f'echo run >> "{calls}"\n'
        'for arg in "$@"; do\n'
        '  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac\n'
        "done\n"
        f'mkdir -p "$out" && touch {touch}\n',
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return calls


def test_jars_are_fetched_once_then_reused(tmp_path: Path, fake_mvn: Path) -> None:
    first = jars.resolve(root=tmp_path / "cache")
    assert first.fetched
    assert first.count == len(jars.REQUIRED_JARS)
    assert (first.lib / jars.MARKER).read_text().strip() == jars.pom_digest()
    second = jars.resolve(root=tmp_path / "cache")
    assert not second.fetched
    assert fake_mvn.read_text().count("run") == 1


def test_a_half_done_download_is_redone(tmp_path: Path, fake_mvn: Path) -> None:
    lib = jars.resolve(root=tmp_path / "cache").lib
    (lib / jars.MARKER).unlink()  # as if Maven had been interrupted before the marker
    assert jars.resolve(root=tmp_path / "cache").fetched
    (lib / jars.REQUIRED_JARS[0]).unlink()  # marker present but a jar missing
    assert jars.resolve(root=tmp_path / "cache").fetched
    assert fake_mvn.read_text().count("run") == 3
    assert not (lib.parent / "lib.partial").exists()


def test_a_failing_maven_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script(bin_dir / "mvn", "echo 'Could not transfer artifact org.apache.kafka:kafka_2.13'\nexit 1\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(DeployError, match="Could not transfer artifact") as caught:
        jars.resolve(root=tmp_path / "cache")
    assert "is Maven Central reachable?" in str(caught.value)
    assert not (tmp_path / "cache" / f"kafka-{jars.KAFKA_VERSION}" / "lib").exists()
