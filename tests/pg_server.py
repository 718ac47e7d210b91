"""A throw-away PostgreSQL server for tests: its own data dir, a free port, stopped at the end.

It runs Debian's ``postgresql`` binaries (``./hub setup`` installs the package). As root,
the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

START_TIMEOUT_S = 60.0


def bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory; a clear error naming the package if none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL's server binaries (initdb, postgres) are not installed: install Debian's "
        "'postgresql' package (`apt-get install postgresql`; `./hub setup` does it as root)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield its DSN (user ``bluelight``, database ``postgres``); stop and wipe it."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="bluelight-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    as_user: dict[str, object] = {}
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    port = free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "bluelight", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            **as_user,  # type: ignore[call-overload]
        )
        log = open(root / "server.log", "wb")  # noqa: SIM115 - closed with the server
        proc = subprocess.Popen(
            [
                str(binaries / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            **as_user,  # type: ignore[call-overload]
        )
        dsn = f"host=127.0.0.1 port={port} user=bluelight dbname=postgres"
        began = time.monotonic()
        while True:
            try:
                with psycopg.connect(dsn, connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() - began > START_TIMEOUT_S:
                    tail = (root / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start on port {port}:\n{tail}") from None
                time.sleep(0.2)
        yield dsn
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)
