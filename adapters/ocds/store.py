"""The adapter's memory of each process: every release seen, so a partial release is never mapped alone.

Find a Tender publishes a process as partial releases in separate packages (the award
notice does not repeat the tender), and the SDK reads one file at a time. Mapping an award
release on its own would publish a thinner state under a newer version. So, per (member,
ocid), the adapter keeps the releases it has seen (and the newest record compiledRelease)
and compiles from all of them every time. One JSON file per process under
``<state_dir>/ocds/<member>/``; amounts are stored as exact decimals. A dry run reads the
store but keeps its additions in memory for the life of the process only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass
class ProcessMemory:
    """Everything known about one process."""

    releases: dict[str, dict[str, Any]] = field(default_factory=dict)  # release id -> release
    compiled: dict[str, Any] | None = None  # the newest record compiledRelease seen
    compiled_count: int = 0  # releases that compiledRelease already includes


class ReleaseStore:
    """Process memories of one member; in memory only when there is no state directory."""

    def __init__(self, root: Path | None, *, persist: bool = True) -> None:
        self.root = root
        self.persist = persist and root is not None
        self._memory: dict[str, ProcessMemory] = {}

    @classmethod
    def for_member(cls, state_dir: str | Path | None, member: str, *, persist: bool = True) -> ReleaseStore:
        """The store of ``member`` under ``state_dir``; one per process for dry runs."""
        if state_dir is None:
            return cls(None)
        root = Path(state_dir) / "ocds" / member
        if persist:
            return cls(root)
        return _DRY_RUN_STORES.setdefault(root, cls(root, persist=False))

    def get(self, ocid: str) -> ProcessMemory:
        """What is known of ``ocid`` (empty when nothing is)."""
        if ocid not in self._memory:
            path = self._path(ocid)
            if path is not None and path.exists():
                raw = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
                self._memory[ocid] = ProcessMemory(**raw)
            else:
                self._memory[ocid] = ProcessMemory()
        return self._memory[ocid]

    def put(self, ocid: str, memory: ProcessMemory) -> None:
        """Remember ``memory`` and, unless in memory only, write it through atomically."""
        self._memory[ocid] = memory
        path = self._path(ocid)
        if not self.persist or path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(_encode(vars(memory)), sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def _path(self, ocid: str) -> Path | None:
        return None if self.root is None else self.root / f"{file_safe(ocid)}.json"


_DRY_RUN_STORES: dict[Path, ReleaseStore] = {}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_safe(key: str) -> str:
    """``key`` as a file name: unsafe characters replaced, a short hash so "a/b" and "a_b" differ."""
    return f"{_UNSAFE.sub('_', key)[:80]}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10]}"


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$decimal"}:
        return Decimal(obj["$decimal"])
    return obj
