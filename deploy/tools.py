"""The two programs the broker needs on the machine: Java 17+ and Maven.

Checked before anything is downloaded or started, so a missing one is a one-line
message saying how to get it, not a Java stack trace halfway through.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from deploy.errors import PrerequisiteError

MIN_JAVA = 17
JAVA_HINT = "Install Java 17 or newer, e.g. `apt-get install openjdk-17-jre-headless`."
MAVEN_HINT = "Install Maven, e.g. `apt-get install maven`; it fetches the Kafka jars from Maven Central."

_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


def java_major(version_output: str) -> int | None:
    """The major version in ``java -version`` output ("1.8.0_392" is 8, "17.0.15" is 17)."""
    match = _VERSION_RE.search(version_output)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def require_java() -> str:
    """Path of a Java 17+ ``java``, or PrerequisiteError saying what is wrong."""
    java = shutil.which("java")
    if java is None:
        raise PrerequisiteError(f"`java` not found on PATH. {JAVA_HINT}")
    done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    output = done.stderr + done.stdout
    major = java_major(output)
    if major is None:
        raise PrerequisiteError(f"could not read the Java version from `{java} -version`: {output.strip()!r}")
    if major < MIN_JAVA:
        raise PrerequisiteError(f"{java} is Java {major}; Kafka 4 needs Java {MIN_JAVA}+. {JAVA_HINT}")
    return java


def require_maven() -> str:
    """Path of ``mvn``, or PrerequisiteError saying how to get it."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise PrerequisiteError(f"`mvn` not found on PATH. {MAVEN_HINT}")
    return mvn
