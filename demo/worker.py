"""The demo's worker: ``bluelight worker`` in a child process, or the one already answering.

The child runs in its own session, so Ctrl-C reaches the demo only and the demo stops the
worker with SIGTERM (faust's clean shutdown), waiting for it, then SIGKILL as a last resort.
Its output goes to a log file under the state dir. The worker gets every setting through
``BLUELIGHT_*`` environment variables (passwords never on a command line).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bluelight.settings import HubSettings

HTTP_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 30


class DemoError(RuntimeError):
    """A demo step failed; the message says what to do about it."""


# --- HTTP ---------------------------------------------------------------------------------------


def get(url: str, timeout: float = HTTP_TIMEOUT_S) -> tuple[int, bytes] | None:
    """GET ``url``: status and body, or None when nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://host:port only
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return None


def get_json(url: str) -> Any:
    """GET a JSON document the worker must serve; DemoError otherwise."""
    answer = get(url)
    if answer is None:
        raise DemoError(f"the worker stopped answering at {url}")
    status, body = answer
    if status != 200:
        raise DemoError(f"{url} answered {status}: {body[:300].decode(errors='replace')}")
    return json.loads(body)


def received_by_member(metrics_text: str) -> dict[str, int]:
    """``bluelight_events_received_total`` summed over families, by member (what ingest read)."""
    out: dict[str, int] = defaultdict(int)
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "bluelight_events_received_total":
                out[sample.labels["member"]] += int(sample.value)
    return dict(out)


def metric_total(metrics_text: str, name: str) -> float:
    """The sum of every sample called ``name``."""
    return sum(
        s.value for f in text_string_to_metric_families(metrics_text) for s in f.samples if s.name == name
    )


# --- the process --------------------------------------------------------------------------------


def worker_env(settings: HubSettings) -> dict[str, str]:
    """The environment that makes ``bluelight worker`` use exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUELIGHT_")}
    env.update(
        BLUELIGHT_BOOTSTRAP=settings.bootstrap,
        BLUELIGHT_HTTP=settings.http,
        BLUELIGHT_STATE_DIR=str(settings.state_dir),
        BLUELIGHT_SECURITY_PROTOCOL=settings.security_protocol,
        BLUELIGHT_SASL_MECHANISM=settings.sasl_mechanism,
        BLUELIGHT_SASL_USERNAME=settings.sasl_username,
        BLUELIGHT_SASL_PASSWORD=settings.sasl_password.get_secret_value(),
    )
    if settings.topology_dir is not None:
        env["BLUELIGHT_TOPOLOGY_DIR"] = str(settings.topology_dir)
    return env


def worker_command() -> list[str]:
    """``bluelight worker`` from this interpreter's environment."""
    script = Path(sys.executable).with_name("bluelight")
    if script.is_file():
        return [str(script), "worker"]
    return [sys.executable, "-c", "from bluelight.cli import main; main()", "worker"]


@dataclass
class DemoWorker:
    """The worker the demo talks to; ``proc`` is None when it was already running."""

    base_url: str
    log: Path | None
    proc: subprocess.Popen[bytes] | None

    @property
    def ours(self) -> bool:
        """Started by this demo (and so stopped by it)."""
        return self.proc is not None

    def health(self) -> dict[str, Any] | None:
        """The /health body, or None when nothing answers."""
        answer = get(f"{self.base_url}/health", timeout=3.0)
        if answer is None:
            return None
        try:
            body = json.loads(answer[1])
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise DemoError(
                f"something that is not a bluelight worker answers on {self.base_url} "
                "(set --http or BLUELIGHT_HTTP to a free address)"
            )
        return body

    def check_alive(self) -> None:
        """DemoError with the log's tail if our worker has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise DemoError(
                f"the worker exited with code {self.proc.returncode}. Last lines of {self.log}:\n"
                + log_tail(self.log)
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Until /health says ok (views rebuilt); returns the seconds waited."""
        began = time.monotonic()
        while True:
            self.check_alive()
            body = self.health()
            if body is not None and body.get("status") == "ok":
                return time.monotonic() - began
            if time.monotonic() - began > timeout:
                state = "nothing answers" if body is None else f"/health says {body}"
                where = f"; see {self.log}" if self.log else ""
                raise DemoError(f"the worker was not ready after {timeout:.0f} s ({state}){where}")
            time.sleep(0.5)

    def stop(self) -> str:
        """Stop our worker cleanly (SIGTERM, wait, SIGKILL); how it ended."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return "not running"
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
            return f"stopped (exit code {proc.returncode})"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return f"killed after {STOP_TIMEOUT_S:.0f} s without a clean shutdown"


def find_or_start(settings: HubSettings, log: Path) -> DemoWorker:
    """Reuse a worker answering on ``settings.http``, else start ``bluelight worker`` logging to ``log``."""
    worker = DemoWorker(f"http://{settings.http}", None, None)
    if worker.health() is not None:
        return worker
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(
            f"\n===== bluelight demo: worker started at {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n".encode()
        )
        out.flush()
        proc = subprocess.Popen(
            worker_command(),
            env=worker_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return DemoWorker(worker.base_url, log, proc)


def log_tail(log: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file (empty when there is none)."""
    if log is None or not log.is_file():
        return ""
    with log.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 64_000))
        text = f.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])
