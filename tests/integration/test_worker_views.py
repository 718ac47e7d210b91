"""The worker end to end on the real broker: events in, views over HTTP and on the view topics,
rejects in the sender's DLQ with the right kind, and what follows a reject still processed.

The hub's groups and topics are shared by everything on the dev broker, so this test only
looks at its own member's keys (member-activity, by_member entries, its own supplier).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from topology_support import BLUELIGHT, Worker, running_worker

from bluelight.settings import KafkaConnection, load_settings
from schemas.models import (
    Classification,
    ClassificationScheme,
    Contract,
    ContractStatus,
    OrderLine,
    OrderStatus,
    PurchaseOrder,
    SupplierRef,
    to_avro,
)
from schemas.serde import decode_record, encode_event, encode_record
from streams import dlq
from streams.views.records import item_of
from topologies.admin import connect
from topologies.apply import ensure_member_topics
from topologies.naming import dlq_topic, member_topic, view_topic

pytestmark = pytest.mark.kafka
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# --- events ---------------------------------------------------------------------------------------


def _envelope(member: str, entity: str, version: int, minutes: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{member}/{entity}/{version}/{minutes}")),
        "member_id": member,
        "source_system": "test-erp",
        "entity_id": entity,
        "entity_version": version,
        "occurred_at": T0 + timedelta(minutes=minutes),
        "published_at": T0 + timedelta(minutes=minutes, seconds=5),
    }


def _supplier(ch: str, name: str = "Acme Safety Ltd") -> SupplierRef:
    return SupplierRef(member_supplier_id="S-1", name=name, companies_house_number=ch)


def order(
    member: str,
    entity: str,
    version: int,
    minutes: int,
    ch: str,
    *,
    qty: str = "2",
    price: str = "12.5000",
    status: OrderStatus = OrderStatus.ISSUED,
    currency: str = "GBP",
    claimed_member: str | None = None,
) -> PurchaseOrder:
    q, p = Decimal(qty), Decimal(price)
    total = (q * p).quantize(Decimal("0.01"))
    line = OrderLine(
        line_id="1",
        description="Safety goggles",
        quantity=q,
        unit="EA",
        unit_price=p,
        line_total=total,
        classification=Classification(scheme=ClassificationScheme.CPV, code="33735100-7"),
    )
    env = _envelope(claimed_member or member, entity, version, minutes)
    return PurchaseOrder(
        **env,
        status=status,
        order_date=date(2026, 10, 15),
        currency=currency,
        supplier=_supplier(ch),
        lines=[line],
        total_net=total,
    )


def contract(member: str, entity: str, version: int, minutes: int, ch: str, end: date) -> Contract:
    return Contract(
        **_envelope(member, entity, version, minutes),
        status=ContractStatus.ACTIVE,
        title="Goggles framework call-off",
        supplier=_supplier(ch),
        classification=Classification(scheme=ClassificationScheme.CPV, code="33735100"),
        start_date=date(2026, 1, 1),
        end_date=end,
        value=Decimal("50000.00"),
        currency="GBP",
    )


def bad_total(member: str, entity: str, ch: str) -> bytes:
    record = to_avro(order(member, entity, 1, 30, ch))
    record["total_net"] = Decimal("999.99")
    return encode_record("purchase-order", record)


# --- the worker as a subprocess ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with running_worker({"BLUELIGHT_BOOTSTRAP": kafka_bootstrap}, tmp_path_factory.mktemp("worker")) as w:
        yield w


def views_get(worker: Worker, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BLUELIGHT_HTTP": worker.http}
    return subprocess.run(
        [BLUELIGHT, "views", "get", *args], env=env, capture_output=True, text=True, timeout=60
    )


# --- helpers: publish, read topics ------------------------------------------------------------------


async def publish(
    bootstrap: str, records: list[tuple[str, bytes | None, bytes]]
) -> list[tuple[str, int, int]]:
    """Send (topic, key, value) in order; returns where each landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        out = []
        for topic, key, value in records:
            meta = await producer.send_and_wait(topic, value=value, key=key)
            out.append((meta.topic, meta.partition, meta.offset))
        return out
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` up to its current end."""
    async with connect(KafkaConnection(bootstrap=bootstrap)) as admin:
        partitions = (await admin.topics([topic]))[topic].partitions
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            batch = await consumer.getmany(timeout_ms=1000)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


def source_of(letter: Any) -> tuple[int, int]:
    """(partition, offset) of the original a dead letter names."""
    partition = dlq.header(letter.headers, dlq.ORIGINAL_PARTITION)
    offset = dlq.header(letter.headers, dlq.ORIGINAL_OFFSET)
    assert partition is not None and offset is not None
    return int(partition), int(offset)


def latest_by_key(records: list[Any]) -> dict[bytes, bytes | None]:
    out: dict[bytes, bytes | None] = {}
    for rec in sorted(records, key=lambda r: (r.timestamp, r.offset)):
        out[rec.key] = rec.value
    return out


# --- the test -------------------------------------------------------------------------------------


def test_events_reach_views_and_rejects_reach_the_dlq(worker: Worker, kafka_bootstrap: str) -> None:
    member = f"t-{uuid.uuid4().hex[:8]}"
    other = f"t-{uuid.uuid4().hex[:8]}"
    ch = f"{uuid.uuid4().int % 10**8:08d}"  # a supplier no other test uses
    settings = load_settings(bootstrap=kafka_bootstrap)
    asyncio.run(ensure_member_topics(settings, member))
    po, ct = member_topic(member, "purchase-order"), member_topic(member, "contract")

    unknown_fp = b"\xc3\x01" + bytes(8) + b"\x00\x02"
    sends: list[tuple[str, bytes | None, bytes]] = [
        (po, b"PO-1", encode_event(order(member, "PO-1", 1, 0, ch))),
        (po, b"PO-2", encode_event(order(member, "PO-2", 1, 1, ch, qty="4", price="10.0000"))),
        (po, b"PO-1", b"not avro at all"),  # decode
        (po, b"PO-9", unknown_fp),  # decode: unknown fingerprint
        (po, b"PO-3", encode_event(order(member, "PO-3", 1, 2, ch, claimed_member=other))),  # tenant
        (po, b"PO-4", encode_event(order(member, "PO-4", 1, 3, ch, currency="NOK"))),  # unsupported
        (po, b"PO-5", bad_total(member, "PO-5", ch)),  # validation
        (po, b"PO-2", encode_event(order(member, "PO-2", 2, 4, ch, qty="5", price="10.0000"))),  # amended
        (po, b"PO-1", encode_event(order(member, "PO-1", 1, 0, ch))),  # exact resend: duplicate
        (ct, b"C-1", encode_event(contract(member, "C-1", 1, 5, ch, date(2027, 3, 31)))),
    ]
    landed = asyncio.run(publish(kafka_bootstrap, sends))

    expected_activity = {
        "member_id": member,
        "accepted": 4,
        "duplicates": 1,
        "rejected": {"decode": 2, "tenant": 1, "unsupported": 1, "validation": 1},
        # the newest readable published_at, a rejected event's included (the bad total, minute 30)
        "last_event_at": "2026-11-02T09:30:05Z",
    }
    path = f"/views/member-activity/{member}"
    # generous: on the shared dev broker the worker first works through every other test's members
    item = worker.wait_for(path, lambda status, body: body == expected_activity, timeout=400)
    assert item == expected_activity

    # the views: only this member's own parts (the broker is shared). Each view key is folded
    # where its partition is, so one key can be current a moment before another: wait per key.
    spend = worker.wait_for(
        "/views/category-spend/ppe", lambda st, b: st == 200 and b["by_member"].get(member) == "75.00"
    )
    assert spend["by_member"][member] == "75.00"  # 2 x 12.50 + 5 x 10.00
    expected_exposure = {
        "supplier_key": f"CH:{ch}",
        "name": "Acme Safety Ltd",
        "order_total": "75.00",
        "live_contract_value": "50000.00",
        "members": [member],
        "categories": ["ppe"],
    }
    # its share of ppe depends on what other tests on this broker bought there: only its presence
    # is this test's to check (the oracle tests check the figures)
    exposure = worker.wait_for(
        "/views/supplier-exposure/" + urllib.parse.quote(f"CH:{ch}", safe=""),
        lambda st, b: st == 200
        and _without_standing(b) == expected_exposure
        and "ppe" in b["category_share"],
    )
    assert _without_standing(exposure) == expected_exposure
    assert 0 < Decimal(exposure["category_share"]["ppe"]) <= 1
    prices = {"count": 2, "min": "10.0000", "max": "12.5000"}
    bench = worker.wait_for(
        "/views/price-benchmark/" + urllib.parse.quote("CPV:33735100|EA", safe=""),
        lambda st, b: st == 200 and b["by_member"].get(member) == prices,
    )
    assert bench["by_member"][member] == prices
    expected_ours = [
        {
            "member_id": member,
            "entity_id": "C-1",
            "supplier_key": f"CH:{ch}",
            "end_date": "2027-03-31",
            "max_extent_date": None,
            "value": "50000.00",
        }
    ]

    def ours_of(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [c for c in body["contracts"] if c["member_id"] == member]

    pipeline = worker.wait_for(
        "/views/contract-pipeline/ppe?as_of=2027-01-01",
        lambda st, b: st == 200 and ours_of(b) == expected_ours,
    )
    assert ours_of(pipeline) == expected_ours
    status, missing = worker.get(f"/views/member-activity/{other}")
    assert status == 404 and "error" in missing

    # the DLQ: five originals, byte for byte, each with its kind and where it came from
    letters = asyncio.run(read_topic(kafka_bootstrap, dlq_topic(member)))
    by_source = {source_of(r): r for r in letters}
    expected_kinds = {2: "decode", 3: "decode", 4: "tenant", 5: "unsupported", 6: "validation"}
    for index, kind in expected_kinds.items():
        topic, partition, offset = landed[index]
        letter = by_source[(partition, offset)]
        assert dlq.header(letter.headers, dlq.KIND) == kind
        assert dlq.header(letter.headers, dlq.ORIGINAL_TOPIC) == topic
        assert dlq.header(letter.headers, dlq.ORIGINAL_PARTITION) == str(partition)
        assert dlq.header(letter.headers, dlq.REASON)
        assert letter.value == sends[index][2]
        assert letter.key == sends[index][1]
    assert dlq.header(by_source[landed[6][1:]].headers, dlq.FIELD) == "total_net"
    assert dlq.header(by_source[landed[4][1:]].headers, dlq.FIELD) == "member_id"

    # the partner page lists its latest dead letters with kind, field and reason (the page is
    # rendered once a minute at most, so this may take until the next minute)
    began, page = time.monotonic(), ""
    while time.monotonic() - began < 150:
        status, page = _page(worker, f"/partner/{member}")
        section = page.split("<h2>Latest dead letters</h2>")[-1].split("</table>")[0]
        if status == 200 and section.count("<tr>") == len(expected_kinds) + 1:
            break
        time.sleep(2)
    section = page.split("<h2>Latest dead letters</h2>")[-1].split("</table>")[0]
    assert section.count("<tr>") == len(expected_kinds) + 1, section  # a header row and one per reject
    assert "<td>total_net</td>" in section and "<td>tenant</td>" in section

    # the view topics carry what HTTP serves
    def on_topic() -> dict[str, Any] | None:
        latest = latest_by_key(asyncio.run(read_topic(kafka_bootstrap, view_topic("member-activity"))))
        value = latest.get(member.encode())
        return None if value is None else item_of("member-activity", decode_record(value).record)

    deadline = time.monotonic() + 30
    while on_topic() != expected_activity and time.monotonic() < deadline:
        time.sleep(1)
    assert on_topic() == expected_activity
    latest = latest_by_key(asyncio.run(read_topic(kafka_bootstrap, view_topic("supplier-exposure"))))
    value = latest[f"CH:{ch}".encode()]
    assert value is not None
    assert item_of("supplier-exposure", decode_record(value).record) == exposure

    # the CLI prints what HTTP serves
    printed = views_get(worker, "member-activity", member)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == expected_activity
    printed = views_get(worker, "supplier-exposure", f"CH:{ch}")
    assert json.loads(printed.stdout) == exposure
    absent = views_get(worker, "member-activity", other)
    assert absent.returncode == 1 and other in absent.stderr

    # metrics: this member's counters, by family and kind
    with urllib.request.urlopen(f"http://{worker.http}/metrics", timeout=10) as resp:
        metrics = resp.read().decode()
    assert f'bluelight_events_accepted_total{{family="purchase-order",member="{member}"}} 3.0' in metrics
    assert f'bluelight_events_duplicate_total{{family="purchase-order",member="{member}"}} 1.0' in metrics
    assert (
        f'bluelight_events_rejected_total{{family="purchase-order",kind="decode",member="{member}"}} 2.0'
        in metrics
    )
    assert f'bluelight_member_newest_event_age_seconds{{member="{member}"}}' in metrics
    assert 'bluelight_view_items{view="member-activity"}' in metrics
    # these events were published at T0, weeks ago: backfilled, so counted apart from latency
    assert 'bluelight_events_backfilled_total{family="purchase-order"}' in metrics


def test_unknown_view_and_bad_date_are_clear_errors(worker: Worker) -> None:
    status, body = worker.get("/views/no-such-view")
    assert status == 404 and "no-such-view" in body["error"]
    status, body = worker.get("/views/contract-pipeline?as_of=31-12-2026")
    assert status == 400 and "YYYY-MM-DD" in body["error"]
    status, body = worker.get("/views/contract-pipeline?as_of=2027-01-01")
    assert status == 200 and body["as_of"] == "2027-01-01" and body["view"] == "contract-pipeline"


def test_a_half_sent_request_is_dropped(worker: Worker) -> None:
    """A client that never finishes its request head does not hold a connection for ever
    (faust's runner had no timeout: streams/faust_fixes.py, 7)."""
    import socket

    host, port = worker.http.split(":")
    began = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(b"GET /views/member-activity HTTP/1.1\r\nHost: x\r\n")  # no blank line: unfinished
        closed = sock.recv(1024)  # b"" once the server drops the connection
    waited = time.monotonic() - began
    assert closed == b"" or closed.startswith(b"HTTP/1.1 4"), closed
    assert waited < 30, f"the worker held a half-sent request for {waited:.0f}s"


def _page(worker: Worker, path: str, partial: bool = False) -> tuple[int, str]:
    headers = {"X-Partial": "1"} if partial else {}
    request = urllib.request.Request(f"http://{worker.http}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_pages_for_people_are_served(worker: Worker, kafka_bootstrap: str) -> None:
    """The overview, a category, a supplier and search, as HTML from the same read model."""
    member = f"t-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_member_topics(load_settings(bootstrap=kafka_bootstrap), member))
    ch = f"{uuid.uuid4().int % 10**8:08d}"
    po = member_topic(member, "purchase-order")
    asyncio.run(publish(kafka_bootstrap, [(po, b"PO-1", encode_event(order(member, "PO-1", 1, 0, ch)))]))
    spend = worker.wait_for(
        "/views/category-spend",
        lambda st, b: st == 200 and any(member in i["by_member"] for i in b["items"]),
        timeout=400,
    )
    first = next(i for i in spend["items"] if member in i["by_member"])
    status, page = _page(worker, "/")
    assert status == 200 and "<h1>National overview</h1>" in page and page.startswith("<!doctype html>")
    assert f'href="/category/{first["category"]}"' in page
    status, page = _page(worker, f"/category/{first['category']}")
    assert status == 200 and "<svg" in page and first["name"] in page
    status, part = _page(worker, f"/category/{first['category']}", partial=True)
    assert status == 200 and "<html" not in part and first["name"] in part  # what the refresher swaps in
    _, exposure = worker.get("/views/supplier-exposure")
    supplier = exposure["items"][0]
    status, page = _page(worker, "/supplier/" + urllib.parse.quote(supplier["supplier_key"], safe=""))
    assert status == 200 and "Alternatives in the same categories" in page
    status, page = _page(worker, "/search?q=" + urllib.parse.quote(first["name"][:4]))
    assert status == 200 and f'href="/category/{first["category"]}"' in page
    assert _page(worker, "/category/no-such-category")[0] == 404
    # data-quality joins three views, and each view key reaches the read model on its own
    # partition: the supplier may land after the spend (a CI run read it in between).
    quality = worker.wait_for(
        f"/data-quality/{member}", lambda st, b: st == 200 and b["suppliers"] == 1, timeout=60
    )
    assert quality["spend_net"] == "25.00", quality
    assert quality["unclassified_share"] == "0.0000" and quality["name_only_share"] == "0.0000"


def _without_standing(item: dict[str, Any]) -> dict[str, Any]:
    """A supplier-exposure item without the fields that depend on the whole category."""
    return {k: v for k, v in item.items() if k not in ("category_share", "alternatives")}
