"""The views' running aggregates against the from-scratch item functions they replace.

The from-scratch functions (``category_spend_item`` and friends) are the spec: after any
sequence of replacements, the incrementally kept item must equal the one computed over the
parts that are current, byte for byte.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from streams.facts import ContractFacts, Current, EntityRef, LineFacts, OrderFacts
from streams.views.category_spend import SpendPart, SpendTotals, category_spend_item, spend_parts
from streams.views.index import PartIndex, ViewIndex
from streams.views.price_benchmark import PricePart, PriceStats, price_benchmark_item, price_parts
from streams.views.supplier_exposure import (
    ExposurePart,
    ExposureTotals,
    exposure_parts,
    supplier_exposure_item,
)

D = Decimal
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PLUS_ONE = timezone(timedelta(hours=1))

# small pools, so that names, times, prices and keys collide often
MEMBERS = ("kent-police", "essex-police", "wiltshire-fire")
NAMES = ("Acme", "ACME LTD", "Acme Limited")
AMOUNTS = tuple(map(D, ("0", "0.00", "10.00", "10.0", "3.33", "0.01", "1E+3", "-3.33", "250.00")))
PRICES = tuple(map(D, ("1", "1.0000", "2.5", "2.50", "0", "12.34565", "7.7777", "1000")))
TIMES = (
    T0,
    T0.astimezone(PLUS_ONE),  # the same instant in another zone: equal, a tie
    T0 + timedelta(minutes=1),
    T0 + timedelta(minutes=2),
    T0 + timedelta(minutes=2, microseconds=1000),
)
VIEW_KEYS = ("k1", "k2", "k3")


def spend_part(rng: random.Random) -> SpendPart:
    return SpendPart(
        name=rng.choice(NAMES),
        member=rng.choice(MEMBERS),
        month=rng.choice(("2026-01", "2026-02", "2026-03")),
        supplier_key=rng.choice(("CH:1", "CH:2", "VAT:3")),
        total=rng.choice(AMOUNTS),
    )


def exposure_part(rng: random.Random) -> ExposurePart:
    order = rng.random() < 0.5
    return ExposurePart(
        member=rng.choice(MEMBERS),
        name=rng.choice(NAMES),
        published_at=rng.choice(TIMES),
        order_total=rng.choice(AMOUNTS) if order else D(0),
        contract_value=D(0) if order else rng.choice(AMOUNTS),
        categories=frozenset(rng.sample(("ppe", "fleet", "it"), rng.randint(0, 2))),
    )


def price_part(rng: random.Random) -> PricePart:
    return PricePart(
        member=rng.choice(MEMBERS), prices=tuple(rng.choice(PRICES) for _ in range(rng.randint(1, 4)))
    )


Render = Callable[[str, Iterable[Any]], dict[str, Any] | None]
VIEWS: list[tuple[Callable[[random.Random], Any], Callable[[], Any], Render]] = [
    (spend_part, SpendTotals, category_spend_item),
    (exposure_part, ExposureTotals, supplier_exposure_item),
    (price_part, PriceStats, price_benchmark_item),
]


def next_parts(
    rng: random.Random, make: Callable[[random.Random], Any], old: dict[str, Any]
) -> dict[str, Any]:
    """A contributor's next parts: often nothing (it vanishes), some kept as they were."""
    if rng.random() < 0.25:
        return {}
    new: dict[str, Any] = {}
    for key in rng.sample(VIEW_KEYS, rng.randint(1, 2)):
        roll = rng.random()
        if key in old and roll < 0.2:
            new[key] = old[key]  # unchanged
        elif key in old and roll < 0.3:
            new[key] = dataclasses.replace(old[key])  # equal, not the same object
        else:
            new[key] = make(rng)
    return new


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("make", "aggregate", "render"), VIEWS, ids=["spend", "exposure", "prices"])
def test_incremental_items_equal_the_from_scratch_items(
    seed: int, make: Callable[[random.Random], Any], aggregate: Callable[[], Any], render: Render
) -> None:
    rng = random.Random(seed)
    index: PartIndex[Any] = PartIndex(lambda _: {}, aggregate)
    model: dict[str, dict[str, Any]] = {}  # contributor -> its current parts, the truth
    contributors = [f"c{i}" for i in range(8)]
    for _ in range(400):
        for _ in range(rng.randint(1, 3)):  # a few replacements between reads: lazy paths too
            who = rng.choice(contributors)
            old = model.get(who, {})
            new = next_parts(rng, make, old)
            touched = index.replace(who, old, new)
            assert touched == {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
            model[who] = new
        for key in VIEW_KEYS:
            current = [parts[key] for parts in model.values() if key in parts]
            assert index.render(key) == render(key, current), key
            assert (key in index.keys()) == bool(current)
        assert index.cache.keys() <= set(index.parts)


def test_view_index_items_equal_the_from_scratch_items_over_current_states() -> None:
    rng = random.Random(7)
    index = ViewIndex()
    states: dict[bytes, Current] = {}
    today = date(2026, 3, 1)

    def line() -> LineFacts:
        category = rng.choice(("ppe", "fleet"))
        key = rng.choice(("CPV:1|EA", "CPV:2|EA", None))
        return LineFacts(
            category, category.upper() + rng.choice(("", " ")), rng.choice(AMOUNTS), rng.choice(PRICES), key
        )

    def state(entity: int) -> Current:
        member = MEMBERS[entity % 3]
        published = rng.choice(TIMES)
        supplier = rng.choice(("CH:1", "CH:2"))
        if entity % 2:
            lines = tuple(line() for _ in range(rng.randint(0, 3)))
            total = sum((ln.line_total for ln in lines), D("0.00"))
            month = date(2026, rng.randint(1, 3), 1)
            facts: OrderFacts | ContractFacts = OrderFacts(
                rng.random() < 0.8, month, supplier, rng.choice(NAMES), total, lines
            )
            return Current(EntityRef(member, "purchase-order", f"PO-{entity}"), 1, published, facts)
        facts = ContractFacts(
            rng.random() < 0.8,
            supplier,
            rng.choice(NAMES),
            "fleet",
            "FLEET",
            today,
            None,
            rng.choice(AMOUNTS),
        )
        return Current(EntityRef(member, "contract", f"C-{entity}"), 1, published, facts)

    checks: list[tuple[str, Callable[[Current], dict[str, Any]], Render]] = [
        ("category-spend", spend_parts, category_spend_item),
        ("supplier-exposure", exposure_parts, supplier_exposure_item),
        ("price-benchmark", price_parts, price_benchmark_item),
    ]
    for _ in range(300):
        entity = rng.randrange(12)
        key = f"e{entity}".encode()
        states[key] = state(entity)
        index.set_entity(key, states[key])
        for view, parts_of, render in checks:
            by_key: dict[str, list[Any]] = {}
            for current in states.values():
                for view_key, part in parts_of(current).items():
                    by_key.setdefault(view_key, []).append(part)
            expected = [render(k, by_key[k]) for k in sorted(by_key)]
            assert index.keys(view) == sorted(by_key)
            assert index.items(view, today) == expected
            assert index.size(view) == len(by_key)


# --- plain examples ----------------------------------------------------------------------------------


def spend(month: str, total: str, member: str = "kent-police", name: str = "PPE") -> SpendPart:
    return SpendPart(name=name, member=member, month=month, supplier_key="CH:1", total=D(total))


def test_spend_entries_leave_with_their_last_part_not_when_their_sum_is_zero() -> None:
    totals = SpendTotals()
    plus, minus, zero = spend("2026-01", "5.00"), spend("2026-01", "-5.00"), spend("2026-02", "0.00")
    for part in (plus, minus, zero):
        totals.add(part)
    item = totals.render("ppe")
    assert item is not None
    assert item["by_month"] == {"2026-01": "0.00", "2026-02": "0.00"}
    assert item["total_net"] == "0.00" and item["order_count"] == 3
    totals.remove(zero)
    totals.remove(plus)
    assert totals.render("ppe") == category_spend_item("ppe", [minus])
    totals.remove(minus)
    assert totals.render("ppe") is None


def test_spend_name_is_the_smallest_of_the_names_still_present() -> None:
    totals = SpendTotals()
    a, b = spend("2026-01", "1.00", name="B"), spend("2026-01", "1.00", name="A")
    totals.add(a)
    totals.add(b)
    assert (totals.render("ppe") or {})["name"] == "A"
    totals.remove(b)
    assert (totals.render("ppe") or {})["name"] == "B"


def exposure(minutes: int, name: str, member: str = "kent-police") -> ExposurePart:
    at = T0 + timedelta(minutes=minutes)
    return ExposurePart(member, name, at, D("1.00"), D(0), frozenset({"ppe"}))


def test_exposure_name_falls_back_when_the_newest_part_leaves() -> None:
    totals = ExposureTotals()
    old, tie_b, tie_a = exposure(1, "Old"), exposure(5, "Beta"), exposure(5, "Alpha")
    for part in (old, tie_b, tie_a):
        totals.add(part)
    assert (totals.render("s") or {})["name"] == "Alpha"  # ties: the smaller name
    totals.remove(tie_a)
    assert (totals.render("s") or {})["name"] == "Beta"
    totals.remove(tie_b)  # the newest time is gone: found again on render
    assert (totals.render("s") or {})["name"] == "Old"
    totals.remove(old)
    totals.add(exposure(3, "New"))
    newer = exposure(9, "Newer")
    totals.add(newer)
    totals.remove(newer)
    totals.add(exposure(2, "Older"))  # older than the forgotten newest: must not take its place
    assert totals.render("s") == supplier_exposure_item("s", [exposure(3, "New"), exposure(2, "Older")])


def test_prices_median_low_and_duplicates() -> None:
    stats = PriceStats()
    a = PricePart("kent-police", (D("1"), D("2"), D("2.0")))
    b = PricePart("essex-police", (D("3"), D("2.00")))
    stats.add(a)
    stats.add(b)
    assert stats.render("k") == price_benchmark_item("k", [a, b])
    assert (stats.render("k") or {})["median"] == "2.0000"
    stats.remove(a)
    assert stats.render("k") == {
        "key": "k",
        "count": 2,
        "min": "2.0000",
        "max": "3.0000",
        "median": "2.0000",  # the lower of the two middle values
        "by_member": {"essex-police": {"count": 2, "min": "2.0000", "max": "3.0000"}},
    }
    stats.remove(b)
    assert stats.render("k") is None and stats.by_member == {}


def test_unknown_keys_render_nothing_and_are_not_cached() -> None:
    index = ViewIndex()
    assert index.item("category-spend", "nope", date.today()) is None
    assert index.spend.cache == {}
