"""Row 5 of issue 13: purchase-order v2 mixed with v1 mid-stream, first seen by a worker that lacks v2.

The "old release" is this code base copied without ``schemas/avro/purchase-order/v2.avsc`` and
run as the worker (PYTHONPATH). The stream's orders are written half with v1 and half with v2
(v2 with ``buyer_reference`` set), and its invalid records of every kind go in among them.

1. The old worker runs; the new release registers its schemas (what ``topology apply`` does,
   schemas/registry.py); the first half of the stream goes in. The old worker learns v2 from the
   registry topic, and its views equal the oracle of the first half: no v2 order dead-lettered.
2. The worker is upgraded mid-stream (the old one stopped, the new one started on its state) and
   the second half goes in. The views equal the oracle of everything, and the DLQs hold exactly
   the invalid records, each with its kind.

Without the registry the old worker dead-letters every v2 order as ``decode`` (seen when
``publish_schemas`` is left out: step 1 fails).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from schemas.models import PurchaseOrder, to_avro
from schemas.serde import encode_event, encode_record
from streams.schema_feed import publish_schemas
from tests import ports
from tests.hub_run import (
    Worker,
    check_dead_letters,
    create_topics,
    fresh_broker,
    publish,
    read_dlqs,
    wait_for_quiet,
    wait_for_views,
)
from tests.oracle import Categories, Sent, expected_views, received_by_member
from tests.oracle_gen import Plan, generate, summary

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261205
MEMBERS = ("kent-police", "wiltshire-fire", "essex-police")
PLAN = Plan(members=MEMBERS, orders=40, contracts=12, suppliers=6, invalid_per_member=13)
RELEASE = ("adapters", "bluelight", "demo", "deploy", "schemas", "streams", "topologies")


def old_release(into: Path) -> Path:
    """This code base without purchase-order v2: the release before it, for the worker."""
    for package in RELEASE:
        shutil.copytree(ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__"))
    (into / "schemas" / "avro" / "purchase-order" / "v2.avsc").unlink()
    return into


def in_both_versions(sent: list[Sent], seed: int) -> list[Sent]:
    """Every valid order written with v1 or (with a buyer reference) v2, at random."""
    rng = random.Random(seed)
    out = []
    for s in sent:
        if isinstance(s.event, PurchaseOrder) and rng.random() < 0.5:
            record = {k: v for k, v in to_avro(s.event).items() if k != "buyer_reference"}
            s = Sent(s.member, s.family, s.key, encode_record("purchase-order", record, version=1),
                     s.event, None, s.published_at, s.note + " (v1)")  # fmt: skip
        elif isinstance(s.event, PurchaseOrder):
            event = s.event.model_copy(update={"buyer_reference": f"REQ-{rng.randrange(10**6):06d}"})
            value = encode_event(event)
            s = Sent(s.member, s.family, s.key, value, event, None, s.published_at, s.note + " (v2)")
        out.append(s)
    return out


def oracle(sent: list[Sent]) -> dict[str, dict[str, object]]:
    return expected_views(sent, Categories(), PLAN.as_of)


async def test_an_old_worker_reads_v2_and_the_upgrade_changes_nothing(tmp_path: Path) -> None:
    sent = in_both_versions(generate(SEED, PLAN), SEED)
    half = len(sent) // 2
    first = sent[:half]
    v2_first = sum(1 for s in first if s.note.endswith("(v2)"))
    assert v2_first and sum(1 for s in first if s.note.endswith("(v1)")), "both versions in the first half"
    print(f"\nseed {SEED}: {summary(sent)}; {v2_first} v2 orders before the upgrade")
    old = old_release(tmp_path / "old-release")

    with fresh_broker(tmp_path / "broker", ports.EVOLUTION) as info:
        settings = info.hub_settings()
        await create_topics(settings, MEMBERS)
        state = tmp_path / "worker-state"
        worker = Worker(info.bootstrap, state, tmp_path / "old.log", env={"PYTHONPATH": str(old)})
        worker.start()
        try:
            await worker.wait_ready()
            assert (await publish_schemas(settings.kafka) or 0) >= 4  # the new release's `topology apply`
            placed = await publish(info.bootstrap, first)
            await wait_for_quiet(worker, received_by_member(first), timeout=180)
            diffs = await wait_for_views(worker, oracle(first), PLAN.as_of, timeout=30)
        finally:
            worker.stop()
        assert not diffs, "the old worker's views differ from the oracle of the first half:\n" + "\n".join(
            f"{view}: {lines[:10]}" for view, lines in diffs.items()
        )
        learned = "schemas: learned purchase-order v2" in worker.log.read_text(errors="replace")
        assert learned, "the old worker did not say it learned v2:\n" + worker.tail()

        worker = Worker(info.bootstrap, state, tmp_path / "new.log")  # the upgrade: same state dir
        worker.start()
        try:
            await worker.wait_ready()
            placed += await publish(info.bootstrap, sent[half:])
            await wait_for_quiet(worker, received_by_member(sent), timeout=180)
            diffs = await wait_for_views(worker, oracle(sent), PLAN.as_of, timeout=30)
            dead = await read_dlqs(settings, MEMBERS)
        finally:
            worker.stop()
    assert not diffs, "views differ from the oracle after the upgrade:\n" + "\n".join(
        f"{view}: {lines[:10]}" for view, lines in diffs.items()
    )
    problems = check_dead_letters(sent, placed, dead, exactly_once=True)
    assert not problems, "dead letters wrong:\n" + "\n".join(problems[:30])
