"""Taking a cluster down: stop its nodes (SIGTERM, wait, SIGKILL), and find the leases still held."""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy import process
from deploy.layout import Layout, running_pid

STOP_TIMEOUT_S = 30.0


def stop_nodes(layout: Layout, wipe: bool) -> dict[int, str]:
    """Stop every running node (how each ended, by node id); ``wipe`` deletes all but the lock."""
    ids = sorted(int(p.name.split("-", 1)[1]) for p in layout.root.glob("node-*") if p.name[5:].isdigit())
    pids = {n: pid for n in ids if (pid := running_pid(layout, n)) is not None}
    how = process.stop(list(pids.values()), STOP_TIMEOUT_S)
    for n in ids:
        layout.pid_file(n).unlink(missing_ok=True)
    layout.temporary.unlink(missing_ok=True)
    if wipe:
        for child in layout.root.iterdir():
            if child != layout.lock:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    return {n: how[pid] for n, pid in pids.items()}


def live_leases(layout: Layout) -> list[Path]:
    """Leases whose pytest process still runs (a crashed session's lease does not count)."""
    live = []
    for lease in layout.leases.glob("*-*-*") if layout.leases.is_dir() else []:
        pid_text, started, _ = lease.name.split("-", 2)
        if (
            pid_text.isdigit()
            and process.alive(int(pid_text))
            and process.start_time(int(pid_text)) == started
        ):
            live.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return live
