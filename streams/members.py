"""Who may feed the views: the members of the topology, re-read while the hub runs.

Ingest subscribes to every topic matching the member pattern, and a dev broker creates a
topic for anyone who asks about it (``auto.create.topics.enable``). So the pattern alone
would let a member that was never plugged in put spend in the national views. Ingest asks
:class:`Members` about each record's member and ignores, counts and logs outsiders.

``members.yaml`` is read again at most every ``REFRESH_S`` when an unknown member shows
up, so a partner plugged in with ``bluelight members add`` while the hub runs is let in
without a restart. Records an outsider sent before it was plugged in are skipped for good
(their offsets are committed like any other): publish them again after plugging it in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from topologies.model import TopologyError, load_topology

log = logging.getLogger(__name__)

REFRESH_S = 5.0


def topology_members(directory: Path | None) -> frozenset[str]:
    """The member ids of the topology in ``directory`` (default: the shipped one)."""
    return frozenset(m.id for m in load_topology(directory).members)


class Members:
    """The set of members, refreshed from the topology when an unknown one appears."""

    def __init__(
        self,
        load: Callable[[], frozenset[str]],
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._load = load
        self._clock = clock
        self._refresh_s = refresh_s
        self.known = load()
        self._loaded_at = clock()
        self._warned: dict[str, float] = {}

    def admits(self, member: str) -> bool:
        """Whether ``member`` is in the topology (re-reading it if it may have grown)."""
        if member in self.known:
            return True
        now = self._clock()
        if now - self._loaded_at >= self._refresh_s:
            self._loaded_at = now
            try:
                self.known = self._load()
            except TopologyError as exc:  # a half-written members.yaml: keep the last good set
                kept = len(self.known)
                log.warning("ingest: cannot re-read the topology (%s); keeping %d members", exc, kept)
        return member in self.known

    def should_log(self, member: str) -> bool:
        """True once per member per minute, so an outsider's flood is one log line a minute."""
        now = self._clock()
        if now - self._warned.get(member, -1e9) < 60.0:
            return False
        self._warned[member] = now
        return True
