"""Kafka stopped under a running worker: /health degrades with a reason, the gauges say so, the
log stays readable, and all of it recovers when the broker is back.

Before streams/health.py the worker kept answering ``200 {"status": "ok"}`` with the broker
gone and logged ~130 ERROR lines a second.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluelight.settings import load_settings
from deploy import broker
from deploy.broker import BrokerInfo
from streams.health import BROKER_GRACE_S, PROBE_EVERY_S, PROBE_TIMEOUT_S
from tests import ports
from tests.hub_run import Worker, create_topics, fresh_broker, publish, sample, scrape
from tests.oracle_gen import Plan, generate

pytestmark = [pytest.mark.kafka]

PORT = ports.HEALTH
MEMBERS = ("kent-police", "wiltshire-fire")
OUTAGE_S = 40.0  # long enough to see the log's rate limit at work


@pytest.fixture(scope="module")
def health_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("health-broker")


@pytest.fixture(scope="module")
def health_broker(health_dir: Path) -> Iterator[BrokerInfo]:
    with fresh_broker(health_dir, PORT) as info:
        yield info


async def health(worker: Worker) -> tuple[int, dict[str, Any]]:
    """GET /health: status and JSON body (Worker.get leaves a non-200 body as text)."""
    status, body = await worker.aget("/health")
    if isinstance(body, str):
        body = json.loads(body) if body.startswith("{") else {"status": None, "text": body}
    return status, body


def problem_lines(worker: Worker) -> int:
    """WARNING and ERROR lines the worker has logged so far."""
    text = worker.log.read_text(errors="replace") if worker.log.exists() else ""
    return sum(1 for line in text.splitlines() if re.search(r"\b(WARNING|ERROR)\b", line))


async def test_broker_stopped_under_a_running_worker(
    health_broker: BrokerInfo, health_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(state_dir=health_dir)
    await create_topics(health_broker.hub_settings(), MEMBERS)
    worker = Worker(health_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log")
    worker.start()
    try:
        await worker.wait_ready()
        await publish(health_broker.bootstrap, generate(12, Plan(members=MEMBERS, orders=10, contracts=4)))
        status, body = await health(worker)
        assert status == 200 and body["status"] == "ok" and body["broker_connected"], body
        metrics = scrape(worker)
        assert sample(metrics, "bluelight_broker_connected") == 1.0
        assert sample(metrics, "bluelight_views_ready") == 1.0
        assert "_created" not in metrics, "the _created series are still exported"
        for stage in ("ingest", "views"):
            assert f'bluelight_hub_faults_total{{stage="{stage}"}} 0.0' in metrics

        stopping = time.monotonic()  # the broker stops answering somewhere inside stop()
        broker.stop(settings, PORT)
        stopped = time.monotonic()
        before = problem_lines(worker)
        degraded_after = None
        while time.monotonic() - stopped < OUTAGE_S:
            status, body = await health(worker)
            if degraded_after is None and status == 503 and body["status"] == "degraded":
                degraded_after = time.monotonic() - stopping
                degraded = body
            await asyncio.sleep(0.5)
        assert worker.alive(), f"the worker died without its broker:\n{worker.tail()}"
        assert degraded_after is not None, f"/health never degraded; last answer {status} {body}"
        took = stopped - stopping
        print(f"\nbroker stop took {took:.1f}s; /health degraded {degraded_after:.1f}s after it began")
        print(f"reasons: {degraded['reasons']}")
        # not before the stated grace (the last good probe may precede the stop by one interval),
        # and soon after it once the broker is gone
        assert BROKER_GRACE_S - PROBE_EVERY_S <= degraded_after <= took + BROKER_GRACE_S + PROBE_TIMEOUT_S + 3
        assert any("Kafka broker" in r for r in degraded["reasons"]), degraded
        assert degraded["broker_connected"] is False
        metrics = scrape(worker)
        assert sample(metrics, "bluelight_broker_connected") == 0.0
        assert sample(metrics, "bluelight_broker_silence_seconds") > BROKER_GRACE_S
        logged = problem_lines(worker) - before
        print(f"{logged} WARNING/ERROR lines in {OUTAGE_S:.0f}s without a broker")
        assert logged < 4 * OUTAGE_S, f"{logged} problem lines in {OUTAGE_S:.0f}s: the log is flooded"

        broker.ensure_up(settings, PORT)
        back = time.monotonic()
        while time.monotonic() - back < 60:
            status, body = await health(worker)
            if status == 200:
                break
            await asyncio.sleep(0.5)
        assert status == 200 and body["status"] == "ok", f"/health did not recover: {status} {body}"
        print(f"/health ok again {time.monotonic() - back:.1f}s after the broker was back")
    finally:
        worker.stop()
