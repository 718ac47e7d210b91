"""The Kafka jars: resolved once from Maven Central with Maven, then reused from a cache.

The pinned ``deploy/kafka/pom.xml`` names the broker, its log4j binding and the CLI tools;
Maven copies their runtime closure into ``<cache>/kafka-<version>/lib``. The cache lives
outside the repo (``$XDG_CACHE_HOME/bluelight``, else ``~/.cache/bluelight``) so every
checkout and worktree on the machine shares one download. Maven writes into a scratch
directory that only becomes ``lib`` once it finished, and ``lib`` carries a marker with the
pom's hash: an interrupted download, or a changed pom, is simply redone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import DeployError
from deploy.locks import file_lock
from deploy.tools import require_maven

KAFKA_VERSION = "4.1.1"
POM = Path(__file__).parent / "kafka" / "pom.xml"
MARKER = ".bluelight-complete"
# jars whose absence means the resolve went wrong even though Maven said nothing
REQUIRED_JARS = (
    f"kafka_2.13-{KAFKA_VERSION}.jar",
    f"kafka-clients-{KAFKA_VERSION}.jar",
    f"kafka-tools-{KAFKA_VERSION}.jar",
    "log4j-core-2.24.3.jar",
    "log4j-slf4j-impl-2.24.3.jar",
)
MAVEN_TIMEOUT_S = 900
TICK_S = 10.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Jars:
    """A complete jar directory and how it was obtained."""

    lib: Path
    fetched: bool  # False when the cache was reused
    seconds: float
    count: int

    @property
    def classpath(self) -> str:
        """The java ``-cp`` value (a quoted wildcard; java expands it, not the shell)."""
        return str(self.lib / "*")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/bluelight`` (or ``~/.cache/bluelight``): shared by all checkouts."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bluelight"


def pom_digest(pom: Path = POM) -> str:
    """Hash of the pom; the marker stores it so editing the pom invalidates the cache."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def is_complete(lib: Path, digest: str) -> bool:
    """Whether ``lib`` is a finished resolve of the pom with this digest."""
    marker = lib / MARKER
    if not marker.is_file() or marker.read_text().strip() != digest:
        return False
    return all((lib / jar).is_file() for jar in REQUIRED_JARS)


def resolve(progress: Progress = lambda _msg: None, root: Path | None = None) -> Jars:
    """Return the jar directory, running Maven first if the cache is missing or stale."""
    started = time.monotonic()
    home = (root or cache_root()) / f"kafka-{KAFKA_VERSION}"
    lib = home / "lib"
    digest = pom_digest()
    if is_complete(lib, digest):
        return Jars(lib, fetched=False, seconds=time.monotonic() - started, count=_count(lib))
    home.mkdir(parents=True, exist_ok=True)
    with file_lock(
        home / ".lock", waiting=lambda: progress("waiting for another resolve of the Kafka jars...")
    ):
        if not is_complete(lib, digest):  # another process may have finished while we waited
            _fetch(home, lib, digest, progress)
            return Jars(lib, fetched=True, seconds=time.monotonic() - started, count=_count(lib))
    return Jars(lib, fetched=False, seconds=time.monotonic() - started, count=_count(lib))


def _count(lib: Path) -> int:
    return sum(1 for p in lib.glob("*.jar"))


def _fetch(home: Path, lib: Path, digest: str, progress: Progress) -> None:
    """Run Maven into a scratch dir, check it, mark it, then swap it in as ``lib``."""
    mvn = require_maven()
    scratch = home / "lib.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    work = home / "work"
    work.mkdir(exist_ok=True)
    shutil.copyfile(POM, work / "pom.xml")  # Maven runs on a copy: nothing is written into the repo
    log = home / "maven.log"
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(work / "pom.xml"),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={scratch}",
    ]
    progress(f"fetching Kafka {KAFKA_VERSION} jars from Maven Central with Maven (first run only)...")
    _run_with_ticks(cmd, work, log, progress)
    missing = [jar for jar in REQUIRED_JARS if not (scratch / jar).is_file()]
    if missing:
        raise DeployError(f"Maven finished but {', '.join(missing)} is missing from {scratch}; see {log}")
    (scratch / MARKER).write_text(digest + "\n")
    shutil.rmtree(lib, ignore_errors=True)
    scratch.rename(lib)


def _run_with_ticks(cmd: list[str], cwd: Path, log: Path, progress: Progress) -> None:
    """Run Maven with its output in ``log``, saying every few seconds that it still runs."""
    started = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(TICK_S):
            progress(f"  still resolving ({time.monotonic() - started:.0f} s)...")

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        with log.open("w") as out:
            result = subprocess.run(
                cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=MAVEN_TIMEOUT_S, check=False
            )
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"Maven did not finish in {MAVEN_TIMEOUT_S} s; see {log}") from exc
    finally:
        done.set()
        ticker.join()
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise DeployError(
            f"Maven could not resolve the Kafka jars (exit {result.returncode}); "
            f"is Maven Central reachable? Last lines of {log}:\n{tail}"
        )
