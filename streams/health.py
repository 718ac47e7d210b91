"""What ops need to notice, as pure logic: broker contact, the /health verdict, quiet logs, latency.

Tried as a new user would, a worker whose broker had stopped kept answering
``200 {"status": "ok"}`` and logged ~130 identical ERROR lines a second. This module holds the
decisions; ``streams/ingest.py`` (the probe), ``streams/app.py`` (the page and the gauges) and
``streams/cli.py`` (the log filter) only call it.

- :class:`BrokerContact` remembers the last successful round trip to the broker (ingest asks
  for the cluster's metadata every few seconds) and the last error.
- :func:`verdict` turns readiness and contact into the /health status: ``degraded`` (503)
  with a reason once ``BROKER_GRACE_S`` pass without a reply.
- :class:`RepeatFilter` lets ``burst`` lines of one kind through per window and then one
  line saying how many were held back.
- :func:`latency_sample` keeps backfilled, backdated events out of the latency histogram.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

    from streams.metrics import HubMetrics

BROKER_GRACE_S = 15.0  # /health degrades after this long without a reply from the broker
PROBE_EVERY_S = 2.0
PROBE_TIMEOUT_S = 5.0
BACKFILL_AFTER_S = 3600.0  # an event published longer ago than this is a backfill, not latency
FAULT_STAGES = ("ingest", "views")


@dataclass
class BrokerContact:
    """When the worker last heard from the broker (monotonic seconds), and the last failure."""

    started: float = field(default_factory=time.monotonic)
    last_ok: float | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed probes

    def ok(self, now: float) -> None:
        """A round trip to the broker succeeded."""
        self.last_ok = now
        self.failures = 0
        self.last_error = None

    def failed(self, error: BaseException | str) -> None:
        """A round trip failed (or timed out)."""
        self.failures += 1
        self.last_error = error if isinstance(error, str) else (str(error) or type(error).__name__)

    def silence(self, now: float) -> float:
        """Seconds without a reply: since the last one, or since the worker started if none yet."""
        since = self.last_ok if self.last_ok is not None else self.started
        return max(now - since, 0.0)

    def connected(self, now: float, grace: float = BROKER_GRACE_S) -> bool:
        """Heard from within ``grace`` seconds, and the latest probe did not fail."""
        return self.last_ok is not None and self.failures == 0 and self.silence(now) <= grace


@dataclass(frozen=True)
class Verdict:
    """The /health answer: HTTP status, ``status`` word and the reasons behind it."""

    status: int
    word: str
    reasons: tuple[str, ...]


def verdict(ready: bool, contact: BrokerContact, now: float, grace: float = BROKER_GRACE_S) -> Verdict:
    """``ok`` (200), ``recovering`` (503, views rebuilding) or ``degraded`` (503, with reasons).

    A broker silent for more than ``grace`` seconds degrades the worker whatever else holds:
    it neither reads new events nor publishes the views, so what it serves is going stale.
    """
    reasons: list[str] = []
    silent = contact.silence(now)
    if silent > grace:
        heard = "never since the worker started" if contact.last_ok is None else f"for {silent:.0f}s"
        error = f" (last error: {contact.last_error})" if contact.last_error else ""
        reasons.append(f"no reply from the Kafka broker {heard}{error}; the views are not being updated")
    if not ready:
        reasons.append("the views are being rebuilt from the changelogs after a start")
    if silent > grace:
        return Verdict(503, "degraded", tuple(reasons))
    if not ready:
        return Verdict(503, "recovering", tuple(reasons))
    return Verdict(200, "ok", ())


def health_body(v: Verdict, contact: BrokerContact, now: float, details: dict[str, Any]) -> dict[str, Any]:
    """The JSON of /health: the verdict first, then the broker's contact, then ``details``."""
    return {
        "status": v.word,
        "reasons": list(v.reasons),
        "broker_connected": contact.connected(now),
        "broker_silent_seconds": round(contact.silence(now), 1),
        "broker_grace_seconds": BROKER_GRACE_S,
        **details,
    }


def latency_sample(published_age_s: float, backfill_after: float = BACKFILL_AFTER_S) -> float | None:
    """The latency to observe for an event applied ``published_age_s`` after its published_at.

    None for a backfill (published longer ago than ``backfill_after``): counted apart, so a
    partner loading last year's orders does not read as a 160-day latency.
    """
    if published_age_s > backfill_after:
        return None
    return max(published_age_s, 0.0)


def observe_latency(latency: Histogram, backfilled: Counter, family: str, published_age_s: float) -> None:
    """Observe an applied event's latency, or count it as a backfill (see :func:`latency_sample`)."""
    sample = latency_sample(published_age_s)
    if sample is None:
        backfilled.labels(family).inc()
    else:
        latency.labels(family).observe(sample)


def watch(metrics: HubMetrics, contact: BrokerContact, ready: Callable[[], bool]) -> None:
    """Make the broker and readiness gauges read their current values at every scrape."""
    metrics.broker_connected.set_function(lambda: float(contact.connected(time.monotonic())))
    metrics.broker_silence.set_function(lambda: contact.silence(time.monotonic()))
    metrics.views_ready.set_function(lambda: float(ready()))


class RepeatFilter(logging.Filter):
    """Rate-limits WARNING-and-above lines per (logger, message as written).

    ``burst`` lines of a kind pass in each ``window`` seconds; the rest are dropped, and the
    first line of the kind in a later window carries "(N similar lines suppressed in the last
    Ws)". A broker outage logs the same connection error many times a second from several
    clients; one line every few seconds says as much.
    """

    def __init__(
        self, burst: int = 5, window: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self._seen: dict[tuple[str, str], list[float]] = {}  # kind -> [window start, passed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass or drop ``record``; a passing one may gain the count of those dropped before it."""
        if record.levelno < logging.WARNING:
            return True
        # the message with its arguments: the same error repeated is one kind, but lines that
        # name different things (two outsiders, two partitions) are not held back for each other
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = str(record.msg)
        key = (record.name, text)
        now = self.clock()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self.window:
            dropped = int(entry[2]) if entry is not None else 0
            self._seen[key] = [now, 1, 0]
            if dropped:
                note = f"{dropped} similar lines suppressed in the last {self.window:.0f}s"
                record.msg = f"{record.msg} ({note})"
            return True
        if entry[1] < self.burst:
            entry[1] += 1
            return True
        entry[2] += 1
        return False
