"""The dashboard and the alert rules against a real Prometheus scraping a real worker with traffic.

A worker on a broker of its own carries live events (published now), backfilled ones (published
months ago) and rejects; Debian's ``prometheus`` scrapes it every second with the alert rules
loaded. Then every query of every panel of deploy/grafana/bluelight.json must parse and return
series, and so must every alert expression of deploy/prometheus/alerts.yaml, with its
threshold turned into a ``bool`` comparison (so a healthy hub still returns a 0 per series)
and, for ``absent(...)``, its inner expression. Every rule must evaluate without error.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.broker import BrokerInfo
from tests import ports
from tests.hub_run import Worker, create_topics, free_port, fresh_broker, publish
from tests.oracle_gen import Plan, generate

pytestmark = [pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "bluelight.json"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PORT = ports.PROMETHEUS
MEMBERS = ("kent-police", "wiltshire-fire")
COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)\s*(?=[0-9(])")


def panel_queries() -> list[tuple[str, str]]:
    dash = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]


def alert_queries() -> list[tuple[str, str]]:
    """Each alert's expression with its thresholds as ``bool`` comparisons."""
    out = []
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            expr = " ".join(rule["expr"].split())
            inner = re.fullmatch(r"absent\((.*)\)", expr)
            out.append((rule["alert"], COMPARISON.sub(r"\1 bool ", inner.group(1) if inner else expr)))
    return out


def test_bool_rewrite_of_the_alerts() -> None:
    rewritten = dict(alert_queries())
    assert rewritten["BlueLightNoWorker"] == 'up{job="bluelight-worker"} == bool 1'
    assert rewritten["BlueLightHubFaults"].endswith("> bool 0")
    assert len(rewritten) == 9


@pytest.fixture(scope="module")
def prom_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path_factory.mktemp("prometheus-broker"), PORT) as info:
        yield info


class Prometheus:
    """Debian's prometheus server in a subprocess, scraping ``target`` every second."""

    def __init__(self, target: str, workdir: Path) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail(
                "prometheus not found: run ./hub setup, or apt-get install prometheus (Debian's package)"
            )
        config = yaml.safe_load(CONFIG.read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        config["rule_files"] = [str(RULES)]
        config["scrape_configs"][0]["static_configs"] = [{"targets": [target]}]
        path = workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        self.address = f"127.0.0.1:{free_port()}"
        self.log = workdir / "prometheus.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={path}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address={self.address}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())

    def query(self, expr: str) -> dict[str, Any]:
        """The API's answer to an instant query (errors come back as ``status: error``)."""
        try:
            return dict(self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
        except urllib.error.HTTPError as exc:
            return dict(json.loads(exc.read()))

    async def wait_ready(self, timeout: float = 60.0) -> None:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            assert self.proc.poll() is None, f"prometheus exited:\n{self.log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://{self.address}/-/ready", timeout=2):  # noqa: S310
                    return
            except OSError:
                await asyncio.sleep(0.3)
        raise AssertionError(f"prometheus not ready after {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def test_every_panel_and_alert_returns_series(prom_broker: BrokerInfo, tmp_path: Path) -> None:
    await create_topics(prom_broker.hub_settings(), MEMBERS)
    worker = Worker(prom_broker.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log")
    worker.start()
    prom: Prometheus | None = None
    try:
        await worker.wait_ready()
        prom = Prometheus(worker.http, tmp_path)
        await prom.wait_ready()
        now = datetime.now(UTC)
        live = generate(21, Plan(members=MEMBERS, orders=40, contracts=10, start=now, id_prefix="live-"))
        old = generate(22, Plan(members=MEMBERS, orders=10, contracts=3, start=now - timedelta(days=160)))
        await publish(prom_broker.bootstrap, old + live, rate=150)
        # a few more scrapes after the traffic, so every rate() has samples on both sides
        began = time.monotonic()
        while time.monotonic() - began < 60:
            scraped = prom.query('count_over_time(up{job="bluelight-worker"}[5m])')["data"]["result"]
            if scraped and float(scraped[0]["value"][1]) >= 15:
                break
            await asyncio.sleep(1)

        failures = []
        for name, expr in [*panel_queries(), *alert_queries()]:
            answer = prom.query(expr)
            if answer.get("status") != "success":
                failures.append(f"{name}: {expr}\n    does not parse: {answer.get('error')}")
            elif not answer["data"]["result"]:
                failures.append(f"{name}: {expr}\n    returned no series")
        assert not failures, "\n".join(failures) + f"\nworker /metrics:\n{worker.tail(5)}"

        rules = prom.get("/api/v1/rules")["data"]["groups"]
        loaded = [r for g in rules for r in g["rules"]]
        assert len(loaded) == len(alert_queries())
        broken = [f"{r['name']}: {r.get('lastError')}" for r in loaded if r["health"] != "ok"]
        assert not broken, f"rules failing on live data: {broken}"
        print(
            f"\n{len(panel_queries())} panel queries and {len(loaded)} alert rules checked against live data"
        )
    finally:
        if prom is not None:
            prom.stop()
        worker.stop()
