"""The adapter-side memory of each order: its live state, whether it is cancelled, and its ledger.

A Peppol OrderCancellation carries no lines, yet the event contract wants every event to
carry the order's full state; and a resend of the same documents must produce the same
versions. So the adapter keeps, per (member, order id), the highest-version state an Order
or OrderChange gave, the cancellation (if any), and a ledger of document -> version with a
digest of what that version said. One small JSON file per order, under
``<state_dir>/peppol/<member>/``, written atomically after each document.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.ocds.store import file_safe


@dataclass
class OrderRecord:
    """What the adapter remembers of one order."""

    state_version: int  # the highest version an Order or OrderChange gave
    state: dict[str, Any]  # that version's event (ISSUED or AMENDED)
    cancelled_by: str | None = None  # the OrderCancellation's document id
    cancelled_at: str | None = None  # its IssueDate/IssueTime, as occurred_at
    # document key ("OrderChange:Change-1") -> {"version": n, "digest": "..."}
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def document_for_version(self, version: int) -> str | None:
        """The Order or OrderChange that produced ``version``, if any."""
        return next((key for key, seen in self.documents.items() if seen["version"] == version), None)


class OrderStore:
    """Order records of one member, a file each; in memory only without a directory (or on a dry run)."""

    def __init__(self, root: Path | None, *, persist: bool = True) -> None:
        self.root = root
        self.persist = persist and root is not None
        self._orders: dict[str, OrderRecord | None] = {}

    @classmethod
    def for_member(cls, state_dir: str | Path | None, member: str, *, persist: bool = True) -> OrderStore:
        """The store of ``member`` under ``state_dir`` (``<state_dir>/peppol/<member>/``)."""
        if state_dir is None:
            return cls(None)
        root = Path(state_dir) / "peppol" / member
        if persist:
            return cls(root)
        # A dry run reads the store, and keeps what it adds for the life of the process only:
        # the SDK reads one file per call, and a cancellation must still find its order.
        return _DRY_RUN_STORES.setdefault(root, cls(root, persist=False))

    def get(self, order_id: str) -> OrderRecord | None:
        """The record of ``order_id``, or None if the adapter has never seen it."""
        if order_id not in self._orders:
            path = self.path_of(order_id)
            record = None
            if path is not None and path.exists():
                record = OrderRecord(**json.loads(path.read_text(encoding="utf-8")))
            self._orders[order_id] = record
        return self._orders[order_id]

    def put(self, order_id: str, record: OrderRecord) -> None:
        """Remember ``record`` and, unless in memory only, write it through atomically."""
        self._orders[order_id] = record
        path = self.path_of(order_id)
        if self.persist and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(vars(record), indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)

    def path_of(self, order_id: str) -> Path | None:
        """The file of one order: its id made file-safe, plus a hash so "PO/1" and "PO_1" differ."""
        if self.root is None:
            return None
        return self.root / f"{file_safe(order_id)}.json"

    def where(self) -> str:
        """How messages name this store."""
        return str(self.root) if self.root is not None else "memory (no state directory configured)"


_DRY_RUN_STORES: dict[Path, OrderStore] = {}


def digest(event: dict[str, Any]) -> str:
    """A short fingerprint of an event's content, to tell a resend from a conflicting document."""
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode("utf-8")).hexdigest()[:16]
