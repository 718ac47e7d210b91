"""Regression (issue 13, disk full): `kafka up` on a full log dir said only "node exited" and a
stack trace; it now names the full dir and what to do."""

from pathlib import Path

from deploy.readiness import disk_full_hint

TAIL = """ERROR Error while appending records to t-1 in dir /d (LogDirFailureChannel)
java.io.IOException: No space left on device
ERROR Shutdown broker because all log dirs in /d have failed (kafka.log.LogManager)"""


def test_a_full_log_dir_is_named_with_what_to_do() -> None:
    hint = disk_full_hint(TAIL, Path("/d"))
    assert "log dir /d is full" in hint and "free space" in hint and "kafka up" in hint


def test_other_failures_get_no_disk_hint() -> None:
    assert disk_full_hint("ERROR Address already in use", Path("/d")) == ""
