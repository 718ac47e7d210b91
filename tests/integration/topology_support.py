"""Helpers for the topology, members and security tests: temp topologies and one-shot clients."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import SecretStr

from bluelight.settings import KafkaConnection
from schemas.models import (
    Classification,
    ClassificationScheme,
    OrderLine,
    OrderStatus,
    PurchaseOrder,
    SupplierRef,
)
from schemas.serde import encode_event
from topologies.model import HUB_FILE, Member, default_dir, write_members


def uid() -> str:
    """A short unique suffix, so tests never collide on a shared broker."""
    return uuid4().hex[:8]


def make_topology(
    directory: Path,
    members: list[Member],
    *,
    hub_principal: str | None = None,
    subscribers: list[dict[str, object]] | None = None,
) -> Path:
    """A topology dir: the shipped hub.yaml (optionally edited) and exactly ``members``."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(default_dir() / HUB_FILE, directory / HUB_FILE)
    if hub_principal is not None or subscribers is not None:
        hub = yaml.safe_load((directory / HUB_FILE).read_text(encoding="utf-8"))
        if hub_principal is not None:
            hub["hub"]["principal"] = hub_principal
        if subscribers is not None:
            hub["subscribers"] = subscribers
        (directory / HUB_FILE).write_text(yaml.safe_dump(hub, sort_keys=False), encoding="utf-8")
    write_members(directory, members)
    return directory


def as_user(admin: KafkaConnection, user: str, password: str) -> KafkaConnection:
    """The same cluster, logged in as ``user``."""
    return admin.model_copy(update={"sasl_username": user, "sasl_password": SecretStr(password)})


async def produce(
    conn: KafkaConnection, topic: str, value: bytes, key: bytes = b"k", *, idempotent: bool = True
) -> int:
    """Send one record (idempotent, acks=all, like the SDK, unless told otherwise); returns its offset."""
    producer = AIOKafkaProducer(**conn.to_aiokafka_kwargs(), enable_idempotence=idempotent, acks="all")
    await producer.start()
    try:
        return (await producer.send_and_wait(topic, value, key=key)).offset
    finally:
        await producer.stop()


async def consume(
    conn: KafkaConnection, topic: str, group: str, want: int = 1, timeout_s: float = 15
) -> list[ConsumerRecord]:
    """Subscribe (so authorization errors surface: with ``assign`` aiokafka only logs them) and read."""
    consumer = AIOKafkaConsumer(
        **conn.to_aiokafka_kwargs(), group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    consumer.subscribe([topic])
    await consumer.start()
    got: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:  # at least one poll, so an authorization error surfaces even when want=0
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                got.extend(records)
            if len(got) >= want or loop.time() >= deadline:
                return got
    finally:
        await consumer.stop()


# --- a worker as a subprocess, and events to feed it ---------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BLUELIGHT = str(Path(sys.executable).parent / "bluelight")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Worker:
    """A `bluelight worker` process and how to ask it for views."""

    process: subprocess.Popen[bytes]
    http: str
    log: Path

    token: str | None = None  # sent as a bearer token when set (readers.yaml)

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        bearer = token or self.token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        request = urllib.request.Request(f"http://{self.http}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - http only
                body = resp.read()
                if resp.headers.get_content_type() != "application/json":
                    return resp.status, body.decode()  # /metrics, CSV
                return resp.status, json.loads(body)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait_for(self, path: str, predicate: Callable[[int, Any], bool], timeout: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.tail()}")
            try:
                last = self.get(path)
                if predicate(*last):
                    return last[1]
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {path}; last answer {last}\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_worker(env: dict[str, str], workdir: Path) -> Iterator[Worker]:
    """Start `bluelight worker` with ``env`` (BLUELIGHT_* settings); stop it with SIGTERM after."""
    http = f"127.0.0.1:{free_port()}"
    full = {**os.environ, **env, "BLUELIGHT_HTTP": http, "BLUELIGHT_STATE_DIR": str(workdir / "state")}
    log = workdir / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [BLUELIGHT, "worker"], cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT
        )
    worker = Worker(process, http, log)
    try:
        worker.wait_for("/health", lambda status, _body: status == 200, timeout=120)
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0, f"the worker did not stop cleanly ({code}):\n{worker.tail()}"


def purchase_order(member: str, entity: str, *, claimed_member: str | None = None) -> bytes:
    """One valid purchase order from ``member`` (or one claiming to be ``claimed_member``), encoded."""
    line = OrderLine(
        line_id="1",
        description="Safety goggles",
        quantity=Decimal("2"),
        unit="EA",
        unit_price=Decimal("12.5000"),
        line_total=Decimal("25.00"),
        classification=Classification(scheme=ClassificationScheme.CPV, code="33735100-7"),
    )
    order = PurchaseOrder(
        event_id=str(uuid5(NAMESPACE_URL, f"{member}/{entity}/{claimed_member}")),
        member_id=claimed_member or member,
        source_system="test-erp",
        entity_id=entity,
        entity_version=1,
        occurred_at=T0,
        published_at=T0 + timedelta(seconds=5),
        status=OrderStatus.ISSUED,
        order_date=date(2026, 10, 15),
        currency="GBP",
        supplier=SupplierRef(
            member_supplier_id="S-1", name="Acme Safety Ltd", companies_house_number="01234567"
        ),
        lines=[line],
        total_net=Decimal("25.00"),
    )
    return encode_event(order)
