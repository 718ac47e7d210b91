"""How much Python heap the two stages hold per record, beside the records' own bytes.

Run by hand (not a test), from the repo root; no broker needed:

    .venv/bin/python -m bench.memory --orders 20000

A worker's tables are RocksDB stores, outside the Python heap, but stage two keeps every live
part in Python as well (the view index's aggregates and parts, the joins' links), so a worker's
memory grows with the orders it holds (docs/benchmarks.md, "Memory per order"). This drives
the stages with plain loops over two seeded streams, the tables in RocksDB (rocksdict, as in the
worker), and measures with tracemalloc what stays allocated once the joins have settled:

- ``distinct``: N distinct purchase orders of one member and one supplier, one version each
  (what ``bench.scale restart`` loads);
- ``mix``: the oracle generator's mix of orders, contracts and suppliers over four members,
  with amendments, resends and invalid records.

The baseline beside it is the canonical records' own size: what a consumer that kept every
record it read, and nothing else, would hold. tracemalloc counts the same on any machine, so
unlike the speed benchmarks these figures do not move with the load.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import tracemalloc
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from rocksdict import Rdict

from bench.throughput import probe_template
from schemas.serde import encode_event
from streams import canonical, contributions
from streams.canonical import SourceRef
from streams.categories import map_classification, normalise_code
from streams.fold import FoldStage
from streams.metrics import HubMetrics
from streams.route import route
from streams.stage import EntityStage
from streams.views.index import ViewIndex
from tests.oracle_gen import Plan, generate
from topologies.naming import member_topic

MEMBER = "kent-police"
MIX_MEMBERS = ("kent-police", "wiltshire-fire", "west-midlands-police", "t-heap")


def distinct_orders(count: int) -> Iterator[tuple[str, bytes, bytes]]:
    """(topic, key, value) of ``count`` distinct orders, one version each."""
    template = probe_template().model_copy(update={"member_id": MEMBER})
    topic = member_topic(MEMBER, "purchase-order")
    for i in range(count):
        entity = f"PO-{i:08d}"
        event = template.model_copy(update={"entity_id": entity, "event_id": str(uuid.uuid4())})
        yield topic, entity.encode(), encode_event(event)


def mixed(orders: int, seed: int) -> Iterator[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the oracle generator's mix with about ``orders`` orders per member."""
    plan = Plan(members=MIX_MEMBERS, orders=orders, contracts=orders // 4, suppliers=orders // 10)
    for s in generate(seed, plan):
        yield member_topic(s.member, s.family), s.key or b"", s.value or b""


def canonical_records(inputs: Iterator[tuple[str, bytes, bytes]]) -> list[bytes]:
    """Each input routed as ingest routes it: the canonical records stage one reads."""
    offsets: dict[str, int] = {}
    out = []
    for topic, key, value in inputs:
        partition = zlib.crc32(key) % 3
        at = f"{topic}:{partition}"
        offsets[at] = offsets.get(at, -1) + 1
        source = SourceRef(topic, partition, offsets[at])
        routed = route(source, key, value, map_classification, normalise_code)
        out.append(canonical.encode(routed.canonical))
    return out


def held_bytes(records: list[bytes], state: Path) -> int:
    """Python heap still allocated after both stages took in ``records`` and the joins settled."""
    tables = [Rdict(str(state / name)) for name in ("entities", "rejections", "parts")]
    try:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        one = EntityStage(tables[0], tables[1], HubMetrics.create(CollectorRegistry()))
        two = FoldStage(tables[2], ViewIndex())
        waiting = [contributions.encode(c) for record in records for c in one.apply(record)[1]]
        while waiting:
            for pack in waiting:
                two.apply(pack)
            waiting = [contributions.encode(c) for c in two.take_sends()]
            if not waiting and two.flush_joins():
                waiting = [contributions.encode(c) for c in two.take_sends()]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del one, two
        return held
    finally:
        for table in tables:
            table.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000, help="distinct orders (default 20,000)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for name, inputs in (
        ("distinct", distinct_orders(args.orders)),
        ("mix", mixed(args.orders // len(MIX_MEMBERS), args.seed)),
    ):
        records = canonical_records(inputs)
        raw = sum(len(r) for r in records)
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            held = held_bytes(records, Path(tmp))
        rows.append((name, len(records), raw, held))
        print(f"{name}: {len(records):,} records, held {held / len(records):,.0f} B/record")
    print("\n| stream | records | record bytes / record | held heap / record | held / record bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, n, raw, held in rows:
        print(f"| {name} | {n:,} | {raw / n:,.0f} | {held / n:,.0f} | {held / raw:.2f} |")


if __name__ == "__main__":
    main()
