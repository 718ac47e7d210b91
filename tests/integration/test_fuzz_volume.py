"""Row 4 of issue 13: 100,000 malformed records at speed, among a seeded stream of valid events.

The malformed records (tests/fuzz_records.py: sixteen classes, from random bytes and hostile
Avro structure to valid Avro with invalid business values) are made from the stream's own valid
events and interleaved with them, and everything is produced as fast as one idempotent producer
goes. One real worker must take all of it without a restart or a traceback, within a bound:
every malformed record in its own member's DLQ exactly once with its labelled kind and its bytes
unchanged, member-activity balanced per member and kind, and the valid events all in the views
(every view equal to the oracle). Two records at the broker's own size limit come last: their
DLQ record, with its headers, is larger than the record the member sent (regression test for the
stall this row found; see docs/reliability.md, "Row 4").

``BLUELIGHT_FUZZ_RECORDS`` sets the number of malformed records (default 100,000).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import ports
from tests.fuzz_records import at_the_limit, fuzzed, mixed
from tests.hub_run import (
    Worker,
    check_dead_letters,
    create_topics,
    fresh_broker,
    publish,
    read_dlqs,
    rss_mb,
    wait_for_quiet,
    wait_for_views,
)
from tests.oracle import Categories, expected_views, received_by_member
from tests.oracle_gen import Plan, generate, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(1500)]

SEED = 20261204
MEMBERS = ("kent-police", "essex-police", "wiltshire-fire", "london-fire")
PLAN = Plan(members=MEMBERS, orders=60, contracts=20, suppliers=10, invalid_per_member=16)
RECORDS = int(os.environ.get("BLUELIGHT_FUZZ_RECORDS", "100000"))
DRAIN_BOUND_S = 900  # a stall, not a slow machine: the worker drains ~700 malformed records/s loaded


async def test_fuzzed_records_at_volume(tmp_path: Path) -> None:
    stream = generate(SEED, PLAN)
    fuzz = fuzzed(SEED, stream, RECORDS)
    sent = mixed(SEED, stream, fuzz) + at_the_limit(stream)
    expected = expected_views(sent, Categories(), PLAN.as_of)
    received = received_by_member(sent)
    by_class = Counter(s.note.split()[1] for s in sent if s.note.startswith("fuzz "))
    print(f"\nseed {SEED}: {summary(sent)}\nclasses: {dict(sorted(by_class.items()))}")

    with fresh_broker(tmp_path / "broker", ports.FUZZ) as info:
        await create_topics(info.hub_settings(), MEMBERS)
        worker = Worker(info.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log")
        worker.start()
        peak = 0.0

        async def watch_rss() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mb(worker.proc.pid if worker.proc else None))
                await asyncio.sleep(1.0)

        watcher = asyncio.create_task(watch_rss())
        try:
            await worker.wait_ready()
            pid = worker.proc.pid if worker.proc else None
            t0 = time.monotonic()
            placed = await publish(info.bootstrap, sent, window=5_000)
            published = time.monotonic() - t0
            await wait_for_quiet(worker, received, timeout=DRAIN_BOUND_S)
            drained = time.monotonic() - t0
            diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=60)
            dead = await read_dlqs(info.hub_settings(), MEMBERS)
            same = worker.alive() and worker.proc is not None and worker.proc.pid == pid
            assert same, "the worker restarted"
        finally:
            watcher.cancel()
            worker.stop()
        log = worker.log.read_text(errors="replace")

    rejected = sum(1 for s in sent if s.reject is not None)
    print(
        f"published {len(sent):,} records in {published:.1f}s ({len(sent) / published:,.0f}/s); "
        f"all counted after {drained:.1f}s ({len(sent) / drained:,.0f}/s); {rejected:,} dead letters; "
        f"worker peak RSS {peak:.0f} MB"
    )
    assert "Traceback" not in log, "the worker logged a traceback:\n" + worker.tail(80)
    report = [f"{view}:\n" + "\n".join(lines[:20]) for view, lines in diffs.items()]
    assert not diffs, f"views differ from the oracle (seed {SEED}):\n" + "\n".join(report)
    problems = check_dead_letters(sent, placed, dead, exactly_once=True)
    assert not problems, f"dead letters wrong ({len(dead):,} read back):\n" + "\n".join(problems[:30])
