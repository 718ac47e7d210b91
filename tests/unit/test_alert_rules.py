"""deploy/prometheus/alerts.yaml: promtool accepts the rules, their unit tests pass, and every
alert has a runbook line, a runbook section in docs/ops.md and a firing and a quiet test case."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yaml"
OPS = ROOT / "docs" / "ops.md"

# what issue 12 asks to be alerted on, and the alert that does it
WANTED = {
    "a member's feed has gone stale": "BlueLightMemberFeedStale",
    "a member's rejects are rising": "BlueLightMemberRejectsRising",
    "consumer lag is growing": "BlueLightConsumerLagGrowing",
    "hub faults above zero": "BlueLightHubFaults",
    "views not ready after a restart": "BlueLightViewsNotReady",
    "a worker down": "BlueLightWorkerDown",
    "no worker at all": "BlueLightNoWorker",
    "a worker missing from the group": "BlueLightWorkerOutOfGroup",
    "the broker unreachable": "BlueLightBrokerUnreachable",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: run ./hub setup, or apt-get install prometheus (Debian's package)")
    return found


def alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_promtool_checks_the_rules() -> None:
    out = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in out.stdout


def test_promtool_unit_tests_pass() -> None:
    out = subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_asked_for_alert_exists() -> None:
    names = {a["alert"] for a in alerts()}
    missing = {why: name for why, name in WANTED.items() if name not in names}
    assert not missing, f"no alert for: {missing}"


def test_every_alert_has_a_runbook_line_and_section() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in OPS.read_text().splitlines()
        if line.startswith("#")
    }
    for a in alerts():
        notes = a.get("annotations", {})
        assert notes.get("summary") and notes.get("runbook"), f"{a['alert']}: summary and runbook needed"
        url = notes.get("runbook_url", "")
        assert url == f"docs/ops.md#{a['alert'].lower()}", f"{a['alert']}: runbook_url {url!r}"
        assert a["alert"].lower() in anchors, f"docs/ops.md has no section {a['alert']}"


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = [c for t in yaml.safe_load(RULE_TESTS.read_text())["tests"] for c in t["alert_rule_test"]]
    for a in alerts():
        mine = [c for c in cases if c["alertname"] == a["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"{a['alert']}: no case where it fires"
        assert any(not c["exp_alerts"] for c in mine), f"{a['alert']}: no case where it stays quiet"
