"""On CI (CI=true) Hypothesis runs without a deadline: a loaded machine must not fail a property."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _deadline(ci: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    probe = (
        "from hypothesis import settings; import tests.conftest; "
        "print(settings._current_profile, settings.default.deadline)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_ci_has_no_deadline_and_a_developer_machine_keeps_it() -> None:
    assert _deadline("true") == "bluelight-ci None"  # ours, whatever Hypothesis's version does
    assert _deadline(None).split()[1] != "None"
