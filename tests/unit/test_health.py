"""streams/health.py: the /health verdict, broker contact, the log's rate limit, backfilled latency."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, generate_latest

from streams.health import (
    BACKFILL_AFTER_S,
    BROKER_GRACE_S,
    BrokerContact,
    RepeatFilter,
    latency_sample,
    observe_latency,
    verdict,
    watch,
)
from streams.metrics import HubMetrics


def test_ok_while_the_broker_answers_and_the_views_are_ready() -> None:
    contact = BrokerContact(started=0.0)
    contact.ok(100.0)
    assert verdict(True, contact, 100.0 + BROKER_GRACE_S).word == "ok"
    assert contact.connected(100.0 + BROKER_GRACE_S)


def test_degraded_with_a_reason_after_the_grace_without_the_broker() -> None:
    contact = BrokerContact(started=0.0)
    contact.ok(100.0)
    contact.failed(ConnectionRefusedError("Connect call failed"))
    assert verdict(True, contact, 100.0 + BROKER_GRACE_S - 1).word == "ok"
    v = verdict(True, contact, 100.0 + BROKER_GRACE_S + 1)
    assert (v.status, v.word) == (503, "degraded")
    assert "Kafka broker for 16s" in v.reasons[0] and "Connect call failed" in v.reasons[0]
    assert not contact.connected(101.0), "a failed latest probe is not connected"


def test_a_worker_that_never_reached_the_broker_degrades_after_the_grace() -> None:
    contact = BrokerContact(started=50.0)
    assert verdict(False, contact, 60.0).word == "recovering"
    v = verdict(False, contact, 50.0 + BROKER_GRACE_S + 0.5)
    assert v.word == "degraded" and "never since the worker started" in v.reasons[0]
    assert len(v.reasons) == 2  # and the views are still being rebuilt


def test_backfilled_events_are_counted_not_observed_as_latency() -> None:
    assert latency_sample(0.2) == 0.2
    assert latency_sample(-3.0) == 0.0  # a publisher clock ahead of ours
    assert latency_sample(BACKFILL_AFTER_S + 1) is None
    m = HubMetrics.create(CollectorRegistry())
    observe_latency(m.latency, m.backfilled, "purchase-order", 160 * 86400.0)
    observe_latency(m.latency, m.backfilled, "purchase-order", 0.3)
    text = generate_latest(m.registry).decode()
    assert 'bluelight_events_backfilled_total{family="purchase-order"} 1.0' in text
    assert 'bluelight_event_latency_seconds_count{family="purchase-order"} 1.0' in text


def test_metrics_start_fault_counters_at_zero_and_drop_created_series() -> None:
    m = HubMetrics.create(CollectorRegistry())
    contact = BrokerContact(started=0.0)
    watch(m, contact, lambda: True)
    text = generate_latest(m.registry).decode()
    assert 'bluelight_hub_faults_total{stage="ingest"} 0.0' in text
    assert 'bluelight_hub_faults_total{stage="views"} 0.0' in text
    assert "_created" not in text
    assert "bluelight_views_ready 1.0" in text
    assert "bluelight_broker_connected 0.0" in text


def _record(msg: str, level: int = logging.ERROR, name: str = "aiokafka.client") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, ("x",), None)


def test_repeated_lines_are_held_back_and_counted() -> None:
    now = [0.0]
    f = RepeatFilter(burst=3, window=10.0, clock=lambda: now[0])
    passed = [f.filter(_record("Unable connect to node %s")) for _ in range(100)]
    assert passed.count(True) == 3
    assert f.filter(_record("Unable connect to node %s", name="aiokafka.conn")), "another logger"
    assert f.filter(_record("chatty", level=logging.INFO)), "INFO lines are left alone"
    now[0] = 10.5
    later = _record("Unable connect to node %s")
    assert f.filter(later)
    assert "97 similar lines suppressed" in str(later.msg)


def test_lines_naming_different_things_are_not_held_back_for_each_other() -> None:
    """Six outsiders each logged once: every line passes (the same error repeated is what is held)."""
    f = RepeatFilter(burst=3, window=10.0, clock=lambda: 0.0)
    lines = [
        logging.LogRecord("streams.ingest", logging.WARNING, __file__, 1, "%s is out", (f"m{i}",), None)
        for i in range(6)
    ]
    assert all(f.filter(r) for r in lines)
