"""Hostile input at the real webhook and `bluelight publish`, on the real broker (issue 15).

Every probe is sent after a valid event in the same request or file: the answer must be the
probe's 4xx, never a 500, and the member's topic must stay empty (all or nothing). Answers
stay small however many errors a body holds; a slow client is cut off; tokens stay out of
the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from adapter_kafka import create_member_topics, end_offsets, new_member
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.publisher import Publisher
from adapters.webhook.config import WebhookConfig, token_sha256
from adapters.webhook.server import MAX_ERRORS_LISTED, make_app, make_runner
from bluelight.cli import cli
from bluelight.settings import KafkaConnection
from tests.hostile import CASES, valid_order
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka

TOKEN = "kent-hostile-secret-token-0123456789"
READ_TIMEOUT = 1.0
MAX_EVENTS = 1_000


@dataclass
class Hook:
    url: str
    member: str
    bootstrap: str
    headers: dict[str, str]


@pytest.fixture
async def hook(kafka_bootstrap: str) -> AsyncIterator[Hook]:
    member = new_member()
    await create_member_topics(kafka_bootstrap, member)
    config = WebhookConfig(
        listen="127.0.0.1:0",
        max_body_bytes=2 * 1024 * 1024,
        read_timeout_seconds=READ_TIMEOUT,
        max_events=MAX_EVENTS,
        ack_timeout_seconds=20,
        members=[{"member": member, "token_sha256": token_sha256(TOKEN)}],  # type: ignore[list-item]
    )
    async with Publisher(KafkaConnection(bootstrap=kafka_bootstrap), "webhook") as publisher:
        runner = make_runner(
            make_app(config, publisher, {}, AdapterMetrics.create(CollectorRegistry())), config
        )
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield Hook(
                f"http://127.0.0.1:{port}", member, kafka_bootstrap, {"Authorization": f"Bearer {TOKEN}"}
            )
        finally:
            await runner.cleanup()


async def published(hook: Hook) -> int:
    """Records on the member's purchase-order topic; fails when the topic has no partitions."""
    ends = await end_offsets(hook.bootstrap, member_topic(hook.member, "purchase-order"))
    assert ends, "the member's topic has no partitions: the check would see nothing either way"
    return sum(ends.values())


async def post(hook: Hook, body: bytes) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.post(hook.url + "/events/purchase-order", data=body, headers=hook.headers) as r:
            return r.status, await r.read()


def batch(*events: bytes) -> bytes:
    return b"[" + b", ".join(events) + b"]"


async def test_every_probe_is_a_4xx_and_publishes_nothing(hook: Hook) -> None:
    good = json.dumps(valid_order("PO-GOOD")).encode()
    wrong: list[str] = []
    for case in CASES:
        status, body = await post(hook, batch(good, case.build(valid_order("PO-BAD"))))
        answer = json.loads(body)
        if status != case.status:
            wrong.append(f"{case}: {status} (wanted {case.status}): {str(answer)[:200]}")
        assert len(body) < 20_000, f"{case}: a {len(body)}-byte answer"
    assert not wrong, "\n".join(wrong)
    assert await published(hook) == 0
    # the control: the same valid event alone is accepted and lands on the topic
    status, _ = await post(hook, batch(good))
    assert status == 202 and await published(hook) == 1


async def test_many_errors_are_counted_not_listed(hook: Hook) -> None:
    started = time.perf_counter()
    status, body = await post(hook, b"[" + b",".join([b"{}"] * MAX_EVENTS) + b"]")
    answer = json.loads(body)
    assert status == 422 and answer["errors_total"] == MAX_EVENTS
    assert len(answer["errors"]) == MAX_ERRORS_LISTED and "first 100 errors are listed" in answer["error"]
    assert len(body) < 100_000 and time.perf_counter() - started < 5

    flood = b"[" + b",".join([b"{}"] * 349_000) + b"]"  # the probe: 1 MiB of empty objects
    started = time.perf_counter()
    status, body = await post(hook, flood)
    assert status == 413 and f"at most {MAX_EVENTS}" in json.loads(body)["error"]
    assert len(body) < 1_000 and time.perf_counter() - started < 5
    assert await published(hook) == 0


async def test_a_slow_client_is_cut_off(hook: Hook) -> None:
    host, port = hook.url.removeprefix("http://").split(":")
    # a request head that never ends: the connection is closed
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /events/purchase-order HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    started = time.perf_counter()
    closed = await asyncio.wait_for(reader.read(), timeout=READ_TIMEOUT * 10)
    assert time.perf_counter() - started < READ_TIMEOUT * 5 and b"202" not in closed
    writer.close()
    # a body that never ends: 408
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        "POST /events/purchase-order HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    writer.write(head.encode() + b'[{"entity_id": ')
    await writer.drain()
    answer = await asyncio.wait_for(reader.readline(), timeout=READ_TIMEOUT * 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    writer.close()
    assert await published(hook) == 0


async def test_an_over_long_authorization_header_keeps_the_token_out_of_the_log(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "S3CRET" + "x" * 10_000
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            hook.url + "/events/purchase-order", data=b"{}", headers={"Authorization": f"Bearer {secret}"}
        ) as response:
            assert 400 <= response.status < 500
    await asyncio.sleep(0.2)
    logged = caplog.text + "".join(str(r.exc_text or "") for r in caplog.records)
    assert "Bearer" in logged, "nothing was logged: the check would pass either way"
    assert "S3CRET" not in logged


def test_publish_sends_nothing_from_a_file_with_any_hostile_line(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    member = new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, member))
    path = tmp_path / "orders.jsonl"
    lines = [json.dumps(valid_order()).encode()] + [
        c.build(valid_order(f"PO-{i}")) for i, c in enumerate(CASES)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    args = ["--bootstrap", kafka_bootstrap, "--state-dir", str(tmp_path / "state"), "publish"]
    result = CliRunner().invoke(cli, [*args, "--member", member, "--family", "purchase-order", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        f"{len(CASES)} invalid line(s) of {len(CASES) + 1}; nothing from this file was published"
        in result.stderr
    )
    ends = asyncio.run(end_offsets(kafka_bootstrap, member_topic(member, "purchase-order")))
    assert ends and sum(ends.values()) == 0
    assert len(result.stderr) < 100 * 2_500


GLA_CONFIG = Path(__file__).parent.parent.parent / "adapters" / "csv" / "examples" / "gla-sap.yaml"


def hostile_csv() -> bytes:
    head = (
        "Vendor ID,Vendor Name,Cost Element,Expenditure Account Code Description,"
        "Document No,Amount,Clearing Date"
    )
    rows = [
        "1,GOOD SUPPLIER LTD,542320,Fees,D1,100.00,2013-10-03",
        "2,NUL\x00 SUPPLIER,542320,Fees,D2,100.00,2013-10-03",
        "3,RLO \u202e SUPPLIER,542320,Fees,D3,100.00,2013-10-03",
        "4,OLD SUPPLIER,542320,Fees,D4,100.00,1900-01-01",
        "5,FAR SUPPLIER,542320,Fees,D5,100.00,9999-12-31",
        f"6,LONG SUPPLIER,542320,{'x' * 1_000_000},D6,100.00,2013-10-03",
        f"7,BIG SUPPLIER,542320,Fees,D7,{'7' * 5_000},2013-10-03",
        f"8,ID SUPPLIER,542320,Fees,{'D' * 5_000},100.00,2013-10-03",
    ]
    return ("\n".join([head, *rows]) + "\n").encode()


def test_the_csv_adapter_rejects_each_hostile_row_and_publishes_only_the_good_one(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    member = new_member()
    asyncio.run(create_member_topics(kafka_bootstrap, member))
    path = tmp_path / "spend.csv"
    path.write_bytes(hostile_csv())
    args = ["--bootstrap", kafka_bootstrap, "--state-dir", str(tmp_path / "state"), "adapter", "csv"]
    result = CliRunner().invoke(cli, [*args, "--member", member, "--config", str(GLA_CONFIG), str(path)])
    assert result.exit_code == 1, result.output  # rejects, no crash
    assert "total: 1 events published, 7 rejected" in result.stdout, result.output[-500:]
    rejected = [
        line.split(":")[1].split()[0] for line in result.stderr.splitlines() if line.startswith("rejected ")
    ]
    assert rejected == ["3", "4", "5", "6", "7", "8", "9"]
    ends = asyncio.run(end_offsets(kafka_bootstrap, member_topic(member, "purchase-order")))
    assert ends and sum(ends.values()) == 1
