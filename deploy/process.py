"""Broker processes: start detached, tell if alive, stop politely then firmly, and check ports.

A broker outlives the command that started it, so it runs in its own session with its
output appended to its log file. When the starter is a long-lived process (a test session),
it keeps the ``Popen`` so a killed broker is reaped rather than left as a zombie that
``kill -0`` would call alive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(cmd: list[str], log: Path, cwd: Path) -> int:
    """Start ``cmd`` in a new session, stdout and stderr appended to ``log``; return its pid."""
    with log.open("ab") as out:
        out.write(f"\n==> bluelight starting: {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return proc.pid


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` (empty if it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid``: with the pid, identifies a process across pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def stop(pids: list[int], timeout: float) -> dict[int, str]:
    """SIGTERM every pid, wait up to ``timeout`` s, then SIGKILL the rest; say how each ended."""
    how: dict[int, str] = {}
    for pid in pids:
        if _signal(pid, signal.SIGTERM):
            how[pid] = "stopped"
        else:
            how[pid] = "already gone"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            _signal(pid, signal.SIGKILL)
            how[pid] = f"killed (no exit {timeout:.0f} s after SIGTERM)"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        _children.pop(pid, None)
    return how


def kill(pid: int) -> None:
    """SIGKILL ``pid`` and wait until it is gone (for failure tests: no controlled shutdown)."""
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    _children.pop(pid, None)


def _signal(pid: int, sig: signal.Signals) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a listener could bind ``host:port`` now (with SO_REUSEADDR, as the JVM binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(log: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file (or a note that there is none)."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 200 * lines))  # long Kafka lines; enough for the tail
            text = handle.read().decode(errors="replace")
    except OSError:
        return f"(no log at {log})"
    return "\n".join(text.splitlines()[-lines:])
