"""The webhook adapter over HTTP, publishing to the real broker."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from adapter_kafka import create_member_topics, end_offsets, new_member, read_topic
from aiohttp import web
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.publisher import Publisher
from adapters.webhook.config import WebhookConfig, WebhookConfigError, load_webhook_config, token_sha256
from adapters.webhook.server import make_app
from bluelight.cli import cli
from bluelight.settings import KafkaConnection
from schemas.serde import event_from_bytes
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka

LIMIT = 4096


@dataclass
class Hook:
    url: str
    kent: str
    essex: str
    tokens: dict[str, str]
    bootstrap: str

    def auth(self, member: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[member]}"}


def order(entity_id: str, member: str | None = None, total: str = "37.04") -> dict[str, Any]:
    event: dict[str, Any] = {
        "source_system": "kent-erp",
        "entity_id": entity_id,
        "entity_version": 1,
        "occurred_at": "2026-03-01T09:30:00Z",
        "status": "ISSUED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": {"member_supplier_id": "V-1", "name": "Acme Protective Ltd"},
        "lines": [
            {
                "line_id": "1",
                "description": "Goggles",
                "quantity": "3",
                "unit": "EA",
                "unit_price": "12.3457",
                "line_total": total,
                "classification": {"scheme": "CPV", "code": "33735100"},
            }
        ],
        "total_net": total,
    }
    if member is not None:
        event["member_id"] = member
    return event


@pytest.fixture
async def hook(kafka_bootstrap: str) -> AsyncIterator[Hook]:
    kent, essex = new_member(), new_member()
    for m in (kent, essex):
        await create_member_topics(kafka_bootstrap, m)
    tokens = {kent: "kent-secret-token", essex: "essex-secret-token"}
    config = WebhookConfig(
        listen="127.0.0.1:0",
        max_body_bytes=LIMIT,
        ack_timeout_seconds=20,
        members=[{"member": m, "token_sha256": token_sha256(t)} for m, t in tokens.items()],  # type: ignore[misc]
    )
    async with Publisher(KafkaConnection(bootstrap=kafka_bootstrap), "webhook") as publisher:
        app = make_app(config, publisher, {}, AdapterMetrics.create(CollectorRegistry()))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield Hook(f"http://127.0.0.1:{port}", kent, essex, tokens, kafka_bootstrap)
        finally:
            await runner.cleanup()


async def post(hook: Hook, path: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any], Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(hook.url + path, data=data, headers=headers) as response:
            return response.status, dict(response.headers), await response.json()


async def nothing_on(hook: Hook, member: str) -> bool:
    return sum((await end_offsets(hook.bootstrap, member_topic(member, "purchase-order"))).values()) == 0


async def test_auth_failures_are_401_with_a_json_reason(hook: Hook) -> None:
    for headers, reason in [
        ({}, "missing Authorization header"),
        ({"Authorization": "Bearer wrong-token"}, "unknown token"),
        ({"Authorization": f"Basic {hook.tokens[hook.kent]}"}, "must be 'Bearer <your token>'"),
    ]:
        status, response_headers, body = await post(hook, "/events/purchase-order", order("PO-1"), headers)
        assert status == 401 and reason in body["error"]
        assert response_headers["WWW-Authenticate"].startswith("Bearer")
    assert await nothing_on(hook, hook.kent)


async def test_accepted_only_after_the_broker_acknowledged(hook: Hook) -> None:
    events = [order(f"PO-{i}") for i in range(1, 4)]
    status, _, body = await post(hook, "/events/purchase-order", events, hook.auth(hook.kent))

    assert status == 202, body
    topic = member_topic(hook.kent, "purchase-order")
    assert body["accepted"] == 3 and body["topic"] == topic
    records = await read_topic(hook.bootstrap, topic)
    on_topic = {
        (r.partition, r.offset): event_from_bytes(r.value, hook.kent, "purchase-order") for r in records
    }
    for sent in body["events"]:  # every acknowledged position holds the event the answer names
        event = on_topic[(sent["partition"], sent["offset"])]
        assert (event.entity_id, event.event_id, event.member_id) == (
            sent["entity_id"],
            sent["event_id"],
            hook.kent,
        )
    assert sorted(e.entity_id for e in on_topic.values()) == ["PO-1", "PO-2", "PO-3"]
    assert {e.source_system for e in on_topic.values()} == {"kent-erp"}

    one = await post(hook, "/events/purchase-order", order("PO-9", hook.kent), hook.auth(hook.kent))
    assert one[0] == 202 and one[2]["accepted"] == 1  # a single object is fine too


async def test_bad_events_are_422_with_every_error_and_nothing_published(hook: Hook) -> None:
    missing_status = order("PO-2")
    del missing_status["status"]
    batch = [order("PO-1"), missing_status, order("PO-3", total="37.00"), "not an object"]
    status, _, body = await post(hook, "/events/purchase-order", batch, hook.auth(hook.kent))

    assert status == 422 and "3 of 4 event(s) invalid; nothing was published" in body["error"]
    assert [(e["index"], e["kind"], e["field"]) for e in body["errors"]] == [
        (1, "schema", "status"),
        (2, "validation", "lines[0].line_total"),
        (3, "schema", None),
    ]
    assert "missing" in body["errors"][0]["reason"]
    assert await nothing_on(hook, hook.kent)


async def test_an_event_for_another_member_is_403(hook: Hook) -> None:
    status, _, body = await post(
        hook, "/events/purchase-order", [order("PO-1", hook.essex)], hook.auth(hook.kent)
    )

    assert status == 403 and f"claims another member than {hook.kent}" in body["error"]
    [error] = body["errors"]
    assert (error["kind"], error["field"]) == ("tenant", "member_id") and hook.essex in error["reason"]
    assert await nothing_on(hook, hook.kent) and await nothing_on(hook, hook.essex)


async def test_oversize_bodies_are_413(hook: Hook) -> None:
    big = [order(f"PO-{i}") for i in range(40)]
    assert len(json.dumps(big)) > LIMIT
    status, _, body = await post(hook, "/events/purchase-order", big, hook.auth(hook.kent))
    assert status == 413 and f"over the {LIMIT}-byte limit" in body["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        data = json.dumps(big).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    async with aiohttp.ClientSession() as session:
        async with session.post(
            hook.url + "/events/purchase-order", data=chunks(), headers=hook.auth(hook.kent)
        ) as response:
            assert response.status == 413 and "over the" in (await response.json())["error"]
    assert await nothing_on(hook, hook.kent)


async def test_unknown_family_bad_json_and_health(hook: Hook) -> None:
    status, _, body = await post(hook, "/events/invoice", order("PO-1"), hook.auth(hook.kent))
    assert status == 404 and "unknown family 'invoice'" in body["error"]
    status, _, body = await post(hook, "/events/purchase-order", b'{"entity_id": ', hook.auth(hook.kent))
    assert status == 400 and "not JSON at line 1" in body["error"]
    status, _, body = await post(hook, "/events/purchase-order", [], hook.auth(hook.kent))
    assert status == 400 and "non-empty JSON array" in body["error"]
    async with aiohttp.ClientSession() as session:
        async with session.get(hook.url + "/health") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"


@pytest.fixture
def token_config(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    result = CliRunner().invoke(cli, ["adapter", "webhook-token", "--member", "kent-police"])
    assert result.exit_code == 0, result.output
    token = result.stdout.split("shown once): ", 1)[1].split()[0]
    entry = result.stdout.split("webhook config entry:\n", 1)[1]
    path = tmp_path / "webhook.yaml"
    path.write_text("listen: 127.0.0.1:8085\nmembers:\n" + entry)
    yield path, token


def test_webhook_token_makes_a_config_that_holds_only_the_hash(token_config: tuple[Path, str]) -> None:
    path, token = token_config
    config = load_webhook_config(path)
    [member] = config.members
    assert member.member == "kent-police"
    assert member.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in path.read_text()


def test_member_policies_load_with_the_config_and_fail_early(tmp_path: Path) -> None:
    (tmp_path / "kent.yaml").write_text("withhold:\n  purchase-order:\n    - lines[].description\n")
    config = tmp_path / "webhook.yaml"
    entry = f"  - member: kent-police\n    token_sha256: {token_sha256('t')}\n    policy: kent.yaml\n"
    config.write_text("members:\n" + entry)
    policies = load_webhook_config(config).policies(tmp_path)
    assert policies["kent-police"].describe() == {"purchase-order": ["lines[].description"]}
    (tmp_path / "kent.yaml").write_text("withhold:\n  purchase-order:\n    - total_net\n")
    with pytest.raises(WebhookConfigError, match="member kent-police: .*'total_net' cannot be withheld"):
        load_webhook_config(config)
    config.write_text("members:\n" + entry + entry.replace("kent-police", "essex-police"))
    with pytest.raises(WebhookConfigError, match="shares a token"):
        load_webhook_config(config)
