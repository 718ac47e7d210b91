"""The PostgreSQL sink killed with SIGKILL mid-stream and restarted: every table equals the view topics.

A broker of the test's own carries view records made from the oracle's views over growing
prefixes of a generated event stream (items that change, keys that go and come back as
tombstones and new records, and a few records the sink cannot use). The sink runs as
``bluelight sink postgres`` against a real PostgreSQL server; it is SIGKILLed while records
are still arriving, started again, and left to catch up. Then every table must hold exactly
the last record of every live key, taken from that very record (``_partition``, ``_offset``),
and every unusable record must be in ``sink_errors``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bluelight.settings import load_settings
from schemas.serde import decode_record, encode_record
from streams.views.records import record_of, schema_name
from tests import ports
from tests.hub_run import create_topics, fresh_broker
from tests.oracle import KEY_FIELD, Categories, expected_views
from tests.oracle_gen import DEFAULT_AS_OF, Plan, generate
from tests.pg_server import postgres_server
from topologies.admin import connect
from topologies.naming import VIEWS, view_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.SINK
SEED = 10
SNAPSHOTS = 30
BLUELIGHT = str(Path(sys.executable).parent / "bluelight")
NESTED = {  # the columns that are jsonb, per view (from the Avro schemas: maps, arrays, records)
    "category-spend": {"by_month", "by_member"},
    "supplier-exposure": {"members", "categories", "category_share", "alternatives"},
    "contract-pipeline": {"contracts", "expiring", "collaboration"},
    "price-benchmark": {"by_member"},
    "member-activity": {"rejected"},
    "supplier-diversity": {"by_member"},
    "contract-coverage": {"frameworks", "by_member"},
}


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(scope="module")
def sink_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_broker(tmp_path_factory.mktemp("sink-broker"), PORT) as info:
        yield info.bootstrap


def view_stream(seed: int) -> list[tuple[str, str, bytes | None]]:
    """(topic, key, value) records: each snapshot's changes against what was sent before."""
    rng = random.Random(seed)
    sent = generate(seed, Plan(orders=40, contracts=15))
    cats = Categories()
    published: dict[tuple[str, str], bytes] = {}
    out: list[tuple[str, str, bytes | None]] = []
    for i in range(1, SNAPSHOTS + 1):
        views = expected_views(sent[: len(sent) * i // SNAPSHOTS], cats, DEFAULT_AS_OF)
        now: dict[tuple[str, str], bytes] = {}
        for view in VIEWS:
            for item in views[view]["items"]:
                key = item[KEY_FIELD[view]]
                if i < SNAPSHOTS and rng.random() < 0.05:
                    continue  # gone for this round: a tombstone now, a record again later
                now[(view, key)] = encode_record(schema_name(view), record_of(view, item, DEFAULT_AS_OF))
        for view, key in sorted(published.keys() - now.keys()):
            out.append((view_topic(view), key, None))
        for (view, key), value in sorted(now.items()):
            if published.get((view, key)) != value or rng.random() < 0.1:  # resends happen too
                out.append((view_topic(view), key, value))
        published = now
    return out


def resend_all(records: list[tuple[str, str, bytes | None]]) -> list[tuple[str, str, bytes | None]]:
    """Every live key's last record again, as a restarted worker re-sends them: a row that missed
    one shows it by its ``_offset`` even though its values are the same."""
    last = {(topic, key): value for topic, key, value in records}
    return [(topic, key, value) for (topic, key), value in sorted(last.items()) if value is not None]


BAD = [  # records the sink must skip and report, each on a key of its own
    (view_topic("category-spend"), "zz-not-avro", b"not an avro record"),
    (view_topic("member-activity"), "zz-wrong-key", None),  # value set below: another key's record
    (view_topic("price-benchmark"), "zz-wrong-schema", None),  # value set below: a member-activity record
]


def bad_records() -> list[tuple[str, str, bytes | None]]:
    activity = {
        "member_id": "someone-else",
        "accepted": 1,
        "duplicates": 0,
        "rejected": {},
        "last_event_at": None,
    }
    wrong_key = encode_record(schema_name("member-activity"), record_of("member-activity", activity))
    other = {**activity, "member_id": "zz-wrong-schema"}
    wrong_schema = encode_record(schema_name("member-activity"), record_of("member-activity", other))
    return [BAD[0], (BAD[1][0], BAD[1][1], wrong_key), (BAD[2][0], BAD[2][1], wrong_schema)]


async def produce(bootstrap: str, records: list[tuple[str, str, bytes | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send(topic, key=key.encode(), value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def topic_contents(bootstrap: str) -> dict[str, list[Any]]:
    """Every record of every view topic: (partition, offset, key, value) per topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        async with connect(load_settings(bootstrap=bootstrap).kafka) as admin:
            found = await admin.topics([view_topic(v) for v in VIEWS], configs=False)
        tps = [TopicPartition(t, p) for t in sorted(found) for p in range(found[t].partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: dict[str, list[Any]] = {v: [] for v in VIEWS}
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            for tp, recs in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                view = tp.topic.split(".")[2]
                out[view] += [(r.partition, r.offset, r.key.decode(), r.value) for r in recs]
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return out
    finally:
        await consumer.stop()


def applied(conn: psycopg.Connection) -> int:
    """Records the sink has committed, by its stored offsets (0 before it made its tables)."""
    found = conn.execute("SELECT to_regclass('bluelight.sink_offsets')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT coalesce(sum(next_offset), 0) FROM bluelight.sink_offsets").fetchone()
    return int(row[0]) if row else 0


def start_sink(bootstrap: str, dsn: str, log: Path, batch_size: int = 100) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            BLUELIGHT,
            "--bootstrap",
            bootstrap,
            "sink",
            "postgres",
            "--dsn",
            dsn,
            "--batch-size",
            str(batch_size),
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def wait_for(what: str, check: Any, timeout: float, sink: subprocess.Popen[bytes], log: Path) -> None:
    began = time.monotonic()
    while not check():
        if sink.poll() is not None:
            raise AssertionError(
                f"the sink exited ({sink.returncode}) waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        if time.monotonic() - began > timeout:
            raise AssertionError(f"no {what} after {timeout:.0f}s:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def plain(value: Any) -> Any:
    """A decoded Avro value as the sink's jsonb should hold it (read back with exact decimals)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def table_rows(dsn: str, view: str) -> dict[str, dict[str, Any]]:
    table = view.replace("-", "_")
    with psycopg.connect(dsn) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'bluelight' "
                "AND table_name = %s ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        select = ", ".join(f'"{c}"::text' if c in NESTED[view] else f'"{c}"' for c in cols)
        cur = conn.execute(f"SELECT {select} FROM bluelight.{table}")  # noqa: S608 - names from the catalogue
        rows = {}
        for values in cur.fetchall():
            row = dict(zip(cols, values, strict=True))
            for c in NESTED[view]:
                if row[c] is not None:
                    row[c] = json.loads(row[c], parse_float=Decimal)
            rows[row[KEY_FIELD[view]]] = row
        return rows


def expected_rows(contents: dict[str, list[Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The last record of every key, keys whose last record is a tombstone left out."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    bad_keys = {key for _, key, _ in BAD}
    for view, records in contents.items():
        last: dict[str, Any] = {}
        for partition, offset, key, value in records:
            if key in bad_keys:
                continue
            last[key] = (partition, offset, value)
        rows = {}
        for key, (partition, offset, value) in last.items():
            if value is None:
                continue
            _, record = decode_record(value)
            rows[key] = {
                **{k: plain(v) if k in NESTED[view] else v for k, v in record.items()},
                "_partition": partition,
                "_offset": offset,
            }
        out[view] = rows
    return out


def test_sink_killed_mid_stream_and_restarted_equals_the_view_topics(
    sink_broker: str, pg_dsn: str, tmp_path: Path
) -> None:
    records = view_stream(SEED)
    assert len({r[2] is None for r in records}) == 2, "the stream must hold tombstones and records"
    final = resend_all(records)
    total = len(records) + len(BAD) + len(final)
    settings = load_settings(bootstrap=sink_broker, state_dir=tmp_path)
    asyncio.run(create_topics(settings, []))
    asyncio.run(produce(sink_broker, records + bad_records()))
    log = tmp_path / "sink.log"

    async def kill_while_the_resend_arrives() -> None:
        # one record per transaction, so the sink still has a backlog when it is killed
        first = start_sink(sink_broker, pg_dsn, log, batch_size=1)
        feeding: asyncio.Task[None] | None = None
        began = time.monotonic()
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            while (done := applied(conn)) < len(records) + len(BAD) + len(final) // 3:
                assert first.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() - began < 90, f"the sink made no progress:\n{log.read_text()[-3000:]}"
                if feeding is None and done >= len(records) // 2:
                    feeding = asyncio.create_task(produce(sink_broker, final))
                await asyncio.sleep(0.005)
            first.send_signal(signal.SIGKILL)
            first.wait()
            at_kill = applied(conn)
        assert feeding is not None
        await feeding
        assert at_kill < total, "the sink must be killed with records left to apply"

    asyncio.run(kill_while_the_resend_arrives())
    second = start_sink(sink_broker, pg_dsn, log)
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            wait_for("catch-up", lambda: applied(conn) >= total, 60, second, log)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, log.read_text()[-3000:]
    assert "sink stopped:" in log.read_text()

    contents = asyncio.run(topic_contents(sink_broker))
    assert sum(len(r) for r in contents.values()) == total
    want = expected_rows(contents)
    for view in VIEWS:
        got = table_rows(pg_dsn, view)
        for row in got.values():
            row.pop("_synced_at")
        missing, extra = want[view].keys() - got.keys(), got.keys() - want[view].keys()
        assert not missing and not extra, f"{view}: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        for key, row in want[view].items():
            assert got[key] == row, f"{view} {key}"
    with psycopg.connect(pg_dsn) as conn:
        errors = conn.execute("SELECT key, error FROM bluelight.sink_errors ORDER BY key").fetchall()
    assert [k for k, _ in errors] == sorted(k for _, k, _ in BAD)
    assert "not the single-object marker" in errors[0][1] or "c3 01" in errors[0][1], errors
