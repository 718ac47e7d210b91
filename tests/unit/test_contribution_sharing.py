"""Decoded contributions share what they repeat (streams/contributions.py, docs/benchmarks.md,
"Memory per order"): stage two holds every live part in Python, so a copy per part of the same
member, category or amount was most of a worker's memory per order. Sharing must not change
what a part says: every part decodes equal to what was sent."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from prometheus_client import CollectorRegistry

from streams import contributions
from streams.contributions import Contribution
from streams.metrics import HubMetrics
from streams.stage import EntityStage
from tests.oracle_gen import Plan, generate
from tests.unit.test_streams_stage import canonical_stream

PLAN = Plan(members=("kent-police", "wiltshire-fire"), orders=20, contracts=6, suppliers=4)


def sent_and_read() -> list[tuple[Contribution, Contribution]]:
    """Every contribution stage one sends for a generated stream, and the same read back."""
    one = EntityStage({}, {}, HubMetrics.create(CollectorRegistry()))
    out = []
    for _, _, value in canonical_stream(generate(3, PLAN)):
        for c in one.apply(value)[1]:
            out.append((c, contributions.decode(contributions.encode(c))))
    return out


def test_a_read_part_says_what_was_sent() -> None:
    pairs = sent_and_read()
    assert len(pairs) > 100
    for sent, read in pairs:
        assert read == sent


def test_equal_strings_and_amounts_are_one_object_across_parts() -> None:
    seen: dict[object, list[object]] = defaultdict(list)
    for _, read in sent_and_read():
        seen[("contributor", read.contributor)].append(read.contributor)
        part = read.part
        for name in ("member", "name", "month", "supplier_key", "total"):
            value = getattr(part, name, None)
            if isinstance(value, str | Decimal):
                seen[(type(value), str(value))].append(value)
    shared = [values for values in seen.values() if len(values) > 1]
    assert len(shared) > 20  # members, categories, contributors under several views, amounts
    for values in shared:
        assert all(v is values[0] for v in values), values[:3]
