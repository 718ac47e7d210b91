"""``bluelight adapter companies-house`` on the real broker: known suppliers only, resumable, from a
file and from a stream (a local stand-in for the Companies House stream, which is not reachable here).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from typing import Any

import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer

from adapters.topic_read import read_to_end
from deploy.broker import BrokerInfo
from schemas.serde import encode_record
from schemas.status import status_from_bytes
from streams.views.records import record_of, schema_name
from tests.hub_run import BLUELIGHT
from topologies.apply import ensure_hub_topics
from topologies.naming import SUPPLIER_STATUS, ref_topic, view_topic

pytestmark = [pytest.mark.kafka]

KNOWN, ALSO_KNOWN, UNKNOWN = "01471587", "SC098765", "09999999"


def profile(number: str, status: str, timepoint: int) -> str:
    return json.dumps(
        {
            "resource_kind": "company-profile",
            "data": {"company_number": number, "company_name": f"Company {number}", "company_status": status},
            "event": {"timepoint": timepoint, "published_at": "2026-11-20T10:01:02", "type": "changed"},
        }
    )


async def know(bootstrap: str, *numbers: str) -> None:
    """Make suppliers known to the hub: items on the supplier-exposure view topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in numbers:
            item = {
                "supplier_key": f"CH:{n}",
                "name": f"Company {n}",
                "order_total": "10.00",
                "live_contract_value": "0.00",
                "members": ["kent-police"],
                "categories": ["ppe"],
                "category_share": {"ppe": "1.0000"},
                "alternatives": {"ppe": []},
            }
            value = encode_record(schema_name("supplier-exposure"), record_of("supplier-exposure", item))
            await producer.send_and_wait(view_topic("supplier-exposure"), value, key=f"CH:{n}".encode())
    finally:
        await producer.stop()


def adapter(
    info: BrokerInfo, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BLUELIGHT, "adapter", "companies-house", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BLUELIGHT_BOOTSTRAP": info.bootstrap, **(env or {})},
        timeout=120,
        check=False,
    )


async def statuses(info: BrokerInfo) -> dict[int, Any]:
    records = await read_to_end(info.hub_settings().kafka, ref_topic(SUPPLIER_STATUS), "test-ch")
    return {e.entity_version: e for e in (status_from_bytes(r.value) for r in records)}


async def test_file_then_stream_publish_known_suppliers_once(kafka_broker: BrokerInfo, tmp_path: Any) -> None:
    await ensure_hub_topics(kafka_broker.hub_settings())
    await know(kafka_broker.bootstrap, KNOWN, ALSO_KNOWN)
    base = int(time.time() * 1000)  # past every timepoint this shared broker has seen
    lines = [
        profile(KNOWN, "administration", base + 1),
        profile(UNKNOWN, "liquidation", base + 2),  # not a supplier of any partner
        "",  # a heartbeat
        "{broken",
        profile("sc098765", "Liquidation", base + 3),
    ]
    feed = tmp_path / "profiles.jsonl"
    feed.write_text("\n".join(lines) + "\n")

    dry = adapter(kafka_broker, "--file", str(feed), "--dry-run")
    assert dry.returncode == 1 and "dry run: " in dry.stdout and "line 4: not JSON" in dry.stdout
    assert base + 1 not in await statuses(kafka_broker)

    done = adapter(kafka_broker, "--file", str(feed))
    assert done.returncode == 1, done.stderr  # line 4 is unreadable, and said so
    assert "published 2 status event(s); 1 not a known supplier" in done.stdout, done.stdout
    got = await statuses(kafka_broker)
    assert got[base + 1].supplier_key == f"CH:{KNOWN}" and got[base + 1].status == "administration"
    assert got[base + 3].supplier_key == f"CH:{ALSO_KNOWN}" and got[base + 3].status == "liquidation"
    assert base + 2 not in got

    again = adapter(kafka_broker, "--file", str(feed))  # a re-run sends nothing twice
    assert "published 0 status event(s)" in again.stdout and "3 already published" in again.stdout, (
        again.stdout
    )

    # the live stream resumes after the last timepoint published, with the key as basic auth
    asked: list[tuple[str | None, str | None]] = []

    async def companies(request: web.Request) -> web.StreamResponse:
        asked.append((request.query.get("timepoint"), request.headers.get("Authorization")))
        resp = web.StreamResponse()
        await resp.prepare(request)
        for line in (profile(KNOWN, "administration", base + 3), "", profile(KNOWN, "liquidation", base + 4)):
            await resp.write((line + "\n").encode())
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/companies", companies)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
    try:
        env = {"COMPANIES_HOUSE_STREAM_KEY": "test-key"}
        url = f"http://127.0.0.1:{port}/companies"
        streamed = await asyncio.to_thread(adapter, kafka_broker, "--stream", "--url", url, env=env)
    finally:
        await runner.cleanup()
    assert streamed.returncode == 0, streamed.stdout + streamed.stderr
    assert asked and asked[0][0] == str(base + 4) and (asked[0][1] or "").startswith("Basic ")
    assert "published 1 status event(s)" in streamed.stdout and "1 already published" in streamed.stdout
    assert (await statuses(kafka_broker))[base + 4].status == "liquidation"
