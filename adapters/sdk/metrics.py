"""The adapters' Prometheus metrics, declared once.

Labels are bounded: member (dozens), family (three), adapter (a handful) and, for
rejections, the kind (``row`` for a source row the mapping could not read, else the
hub's rejection kinds).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter


@dataclass(frozen=True)
class AdapterMetrics:
    """Counters every adapter updates through the SDK."""

    published: Counter
    rejected: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AdapterMetrics:
        """Register the adapter metrics in ``registry`` (tests pass a fresh one)."""
        return cls(
            published=Counter(
                "bluelight_adapter_events_published_total",
                "Events the broker acknowledged, per member, family and adapter.",
                ["member", "family", "adapter"],
                registry=registry,
            ),
            rejected=Counter(
                "bluelight_adapter_events_rejected_total",
                "Rows or events refused before publishing, per member, family, adapter and kind.",
                ["member", "family", "adapter", "kind"],
                registry=registry,
            ),
        )


_default: AdapterMetrics | None = None


def default_metrics() -> AdapterMetrics:
    """The process-wide metrics on the default registry, created on first use."""
    global _default
    if _default is None:
        _default = AdapterMetrics.create(REGISTRY)
    return _default
