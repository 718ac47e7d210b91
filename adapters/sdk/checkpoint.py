"""Where each input got to: written only after the broker acknowledged everything before it.

One JSON file per source under ``<state_dir>/adapters/<member>/``. A checkpoint records how
many of the source's outcomes (events, rejects and skipped lines, in input order) are fully
handled, plus a fingerprint of the input and of the mapping that read it. A restart skips
exactly that prefix; a changed file or mapping starts again from the top, which is safe
because every event carries a deterministic id and its entity version, so a resend changes
nothing downstream.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from adapters.sdk.envelope import iso_z, utc_now


@dataclass(frozen=True)
class Checkpoint:
    """How far one source has been published."""

    source: str  # the input's absolute path (or other source name)
    fingerprint: str  # sha256 of the input bytes and the mapping/policy that read it
    position: int  # outcomes fully handled from the start (acked, rejected or skipped)
    line: int | None  # the last source line among them, for people reading the file
    complete: bool
    updated_at: str


def fingerprint(data: bytes, *extra: object) -> str:
    """The sha256 of an input's bytes together with what shaped its mapping."""
    digest = hashlib.sha256(data)
    for item in extra:
        digest.update(b"\0")
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class CheckpointStore:
    """Checkpoints of one member's sources for one adapter."""

    def __init__(self, state_dir: Path, member: str, adapter: str) -> None:
        self.directory = state_dir / "adapters" / member
        self.adapter = adapter

    def path_for(self, source: Path) -> Path:
        """``<adapter>-<file name>-<hash of its absolute path>.json``: readable and collision-free."""
        absolute = str(source.resolve())
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[:80]
        tag = hashlib.sha256(absolute.encode()).hexdigest()[:10]
        return self.directory / f"{self.adapter}-{safe}-{tag}.json"

    def load(self, source: Path) -> Checkpoint | None:
        """The checkpoint of ``source``, or None if it was never (validly) written."""
        path = self.path_for(source)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return Checkpoint(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise CheckpointError(
                f"{path}: unreadable checkpoint ({exc}); delete it to start the source again"
            ) from exc

    def save(self, source: Path, fp: str, position: int, line: int | None, complete: bool) -> Checkpoint:
        """Write atomically (temp file, fsync, rename): a crash leaves the old or the new one."""
        cp = Checkpoint(
            source=str(source.resolve()),
            fingerprint=fp,
            position=position,
            line=line,
            complete=complete,
            updated_at=iso_z(utc_now()),
        )
        path = self.path_for(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(asdict(cp), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return cp


class CheckpointError(RuntimeError):
    """A checkpoint file that exists but cannot be trusted."""
