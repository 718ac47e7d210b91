"""A drop folder: each new or changed file is handed to the adapter once it stops growing.

Polling, not inotify: it works the same on network shares, where partners' ERPs usually
drop their exports. A file is read when its size and modification time are the same on
two polls in a row (so a half-copied file is not read), and again only when they change;
the checkpoints make a repeat harmless anyway (a completed, unchanged file is not re-read).
"""

from __future__ import annotations

import asyncio
import fnmatch
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.sdk.publisher import PublishError

Stat = tuple[int, int]


async def watch(
    directory: Path,
    patterns: tuple[str, ...],
    handle: Callable[[Path], Awaitable[object]],
    *,
    interval: float = 5.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Poll ``directory`` every ``interval`` seconds until ``stop`` is set."""
    stop = stop or asyncio.Event()
    seen: dict[Path, Stat] = {}
    handled: dict[Path, Stat] = {}
    while not stop.is_set():
        for path in sorted(directory.iterdir()):
            if not path.is_file() or not any(fnmatch.fnmatch(path.name, p) for p in patterns):
                continue
            try:
                info = path.stat()
            except FileNotFoundError:  # removed between listing and looking
                continue
            now: Stat = (info.st_size, info.st_mtime_ns)
            stable = seen.get(path) == now
            seen[path] = now
            if stable and handled.get(path) != now:
                try:
                    await handle(path)
                except (PublishError, OSError) as exc:  # broker away, file moved: try on the next poll
                    print(f"{path.name}: {exc}; will retry", file=sys.stderr)
                    continue
                handled[path] = now
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
