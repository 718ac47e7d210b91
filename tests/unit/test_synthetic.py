"""The synthetic partners (demo/synthetic/): realistic, deterministic, and honestly labelled."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import pytest

from bluelight.settings import load_settings
from demo import synthetic
from demo.prepare import is_demo_member, write_demo_topology
from demo.synthetic import MEMBERS, SyntheticEvent, expected_activity, generate, wire_bytes
from schemas.identity import national_supplier_key
from schemas.models import Contract, PurchaseOrder
from schemas.serde import event_from_bytes
from schemas.validate import Rejection, validate_event
from streams.categories import load_reference, map_classification
from topologies.model import default_dir, load_topology
from topologies.naming import check_member_id

TODAY = date(2026, 11, 28)


@cache
def sample(seed: int = 11, scale: float = 0.3) -> tuple[SyntheticEvent, ...]:
    return tuple(generate(seed, TODAY, scale))


def test_members_are_the_43_forces_the_fire_services_and_the_national_team() -> None:
    sectors = Counter(m.sector for m in MEMBERS)
    assert sectors["police"] == 43
    assert 10 <= sectors["fire"] <= 12
    assert sectors["national"] == 1
    ids = [m.id for m in MEMBERS]
    assert len(set(ids)) == len(ids)
    for m in MEMBERS:
        check_member_id(m.id)
    for expected in (
        "demo-kent-police",
        "demo-metropolitan-police",
        "demo-avon-and-somerset-police",
        "demo-wiltshire-fire",
        "demo-bluelight-national",
        "demo-dyfed-powys-police",
        "demo-hampshire-and-isle-of-wight-police",
    ):
        assert expected in ids
    assert {m.id for m in MEMBERS if m.sector == "fire"} >= {"demo-london-fire", "demo-wiltshire-fire"}
    assert all(m.id.endswith("-police") for m in MEMBERS if m.sector == "police")
    assert all(m.id.endswith("-fire") for m in MEMBERS if m.sector == "fire")


def test_no_synthetic_partner_can_be_taken_for_a_real_member() -> None:
    real = {m.id for m in load_topology(default_dir()).members}
    assert real  # the shipped topology has members to compare with
    ids = {m.id for m in MEMBERS}
    assert not ids & real
    assert all(i.startswith("demo-") for i in ids)
    assert not any(i.startswith("demo-") for i in real)  # the demo's refusal tells them apart by it


def test_the_demo_topology_holds_only_the_synthetic_partners(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, bootstrap="127.0.0.1:1")
    demo = load_topology(write_demo_topology(settings).topology_dir)
    assert [m.id for m in demo.members] == [m.id for m in MEMBERS]
    assert all(m.name.endswith(" (synthetic)") for m in demo.members)
    assert is_demo_member("demo-kent-police") and not is_demo_member("kent-police")


def test_the_demo_local_maps_are_the_real_partners_maps_under_demo_ids() -> None:
    local = load_reference().local
    for slug in ("kent-police", "london-fire"):
        real, demo = local[slug], local[f"demo-{slug}"]
        assert (demo.version, demo.codes, demo.prefixes) == (real.version, real.codes, real.prefixes)


def test_same_seed_same_events_other_seed_other_events() -> None:
    assert generate(3, TODAY, 0.1) == generate(3, TODAY, 0.1)
    assert generate(3, TODAY, 0.1) != generate(4, TODAY, 0.1)


def test_scale_sets_the_volume() -> None:
    small, default = len(generate(5, TODAY, 0.1)), len(generate(5, TODAY))
    assert 3000 <= default <= 8000
    assert small < default / 3
    with pytest.raises(ValueError, match="scale"):
        generate(5, TODAY, 0)


def test_every_member_publishes_every_family() -> None:
    seen = {(e.member, e.family) for e in sample() if e.expected == "good"}
    for m in MEMBERS:
        assert {(m.id, f) for f in ("purchase-order", "contract", "supplier")} <= seen, m.id


def test_each_event_is_received_as_labelled() -> None:
    """What the hub's ingest makes of each event's bytes, in this order, is what its label says."""
    applied: dict[tuple[str, str, str], int] = {}
    outcome: Counter[str] = Counter()
    for e in sample():
        try:
            event = event_from_bytes(wire_bytes(e), e.member, e.family)
        except Rejection as rejection:
            assert e.expected == f"bad:{rejection.kind}", (e.note, rejection.reason)
            outcome[e.expected] += 1
            continue
        key = (e.member, e.family, event.entity_id)
        got = "good" if event.entity_version > applied.get(key, 0) else "duplicate"
        applied[key] = max(event.entity_version, applied.get(key, 0))
        assert got == e.expected, e.note
        outcome[got] += 1
    kinds = {k for k in outcome if k.startswith("bad:")}
    assert kinds == {"bad:decode", "bad:schema", "bad:validation", "bad:tenant", "bad:unsupported"}
    assert outcome["duplicate"] > 0
    assert sum(v for k, v in outcome.items() if k.startswith("bad:")) < 0.03 * len(sample())


def test_good_events_validate_and_are_already_canonical() -> None:
    """model -> JSON gives back exactly what was generated (fields the spec leaves out are null)."""
    for e in sample():
        if e.expected != "good":
            continue
        dumped = validate_event(e.family, e.event).model_dump(mode="json")
        assert {k: v for k, v in dumped.items() if k in e.event} == e.event
        assert all(dumped[k] is None for k in set(dumped) - set(e.event))


def test_bad_events_fail_for_their_stated_reason() -> None:
    notes = {e.note for e in sample() if e.expected.startswith("bad:")}
    for fragment in (
        "total_net is not the sum",
        "half-even",
        "'11111111.0'",
        "end_date is before",
        "currency EUR",
        "claims to be",
        "entity_version 0",
        "JSON text",
        "supplier record",
    ):
        assert any(fragment in n for n in notes), fragment
    ch = next(e for e in sample() if "11111111.0" in e.note)
    with pytest.raises(Rejection) as caught:
        validate_event(ch.family, ch.event)
    assert caught.value.kind == "validation" and caught.value.field == "companies_house_number"
    half = next(e for e in sample() if "half-even" in e.note)
    with pytest.raises(Rejection) as caught:
        validate_event(half.family, half.event)
    assert caught.value.field == "lines[0].line_total"


def test_duplicates_are_resends_or_stale_versions() -> None:
    delivered: dict[str, dict[str, object]] = {}
    stale = resent = 0
    for e in sample():
        if e.expected == "duplicate":
            if e.event["event_id"] in delivered:
                assert delivered[e.event["event_id"]] == e.event  # an exact copy
                resent += 1
            else:
                stale += 1  # an older version arriving after a newer one
        if not e.expected.startswith("bad:"):
            delivered.setdefault(e.event["event_id"], e.event)
    assert resent > 0 and stale > 0


def test_event_ids_are_the_sdk_derivation() -> None:
    from adapters.sdk.envelope import event_id_for

    for e in sample()[:200]:
        ev = e.event
        if not e.expected.startswith("bad:"):
            derived = event_id_for(ev["member_id"], e.family, ev["entity_id"], ev["entity_version"])
            assert ev["event_id"] == derived


def test_line_totals_round_half_up_and_some_lines_test_it() -> None:
    halfway = 0
    for e in sample():
        if e.family != "purchase-order" or e.expected.startswith("bad:"):
            continue
        for line in e.event["lines"]:
            product = Decimal(line["quantity"]) * Decimal(line["unit_price"])
            assert Decimal(line["line_total"]) == product.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            halfway += (product * 100) % 1 == Decimal("0.5")
    assert halfway > 0  # the half-up rule is actually exercised


def test_contracts_end_in_every_pipeline_bucket() -> None:
    buckets: Counter[str] = Counter()
    current: dict[tuple[str, str], Contract] = {}
    for e in sample():
        if e.family == "contract" and e.expected == "good":
            c = validate_event("contract", e.event)
            assert isinstance(c, Contract)
            current[(e.member, c.entity_id)] = c
    for c in current.values():
        if c.status.value not in ("ACTIVE", "PENDING"):
            continue
        days = (c.end_date - TODAY).days
        buckets[
            "past_end"
            if days <= 0
            else "6m"
            if days <= 181
            else "12m"
            if days <= 365
            else "24m"
            if days <= 730
            else "later"
        ] += 1
    assert all(buckets[b] >= 3 for b in ("past_end", "6m", "12m", "24m", "later")), buckets
    assert any(c.status.value == "ACTIVE" and c.end_date < TODAY for c in current.values())
    assert {c.status.value for c in current.values()} >= {"ACTIVE", "PENDING", "EXPIRED", "TERMINATED"}


def test_national_suppliers_are_shared_under_local_ids_and_spellings() -> None:
    members: dict[str, set[str]] = defaultdict(set)
    local_ids: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for e in sample():
        if e.family == "purchase-order" and e.expected == "good":
            order = validate_event("purchase-order", e.event)
            assert isinstance(order, PurchaseOrder)
            key = national_supplier_key(order.supplier)
            members[key].add(e.member)
            local_ids[key].add(order.supplier.member_supplier_id)
            names[key].add(order.supplier.name)
    shared = [k for k, v in members.items() if len(v) >= 10]
    assert len(shared) >= 10
    assert {k.split(":")[0] for k in members} == {"CH", "VAT", "DUNS", "NAME"}
    assert any(len(local_ids[k]) > 1 and len(names[k]) > 1 for k in shared)


def test_fictional_companies_house_numbers() -> None:
    for spec in synthetic.NATIONAL_SUPPLIERS:
        number = synthetic.companies_house_number(spec)
        if number is not None:
            assert number.startswith(("19", "SC9")) and len(number) == 8


def test_classifications_cover_every_scheme_and_land_somewhere_sensible() -> None:
    schemes: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    codes: set[str] = set()
    for e in sample():
        if e.family != "purchase-order" or e.expected != "good":
            continue
        for line in e.event["lines"]:
            cls = line["classification"]
            schemes[cls["scheme"]] += 1
            codes.add(cls["code"])
            categories[map_classification(cls["scheme"], cls["code"], e.member).category] += 1
    assert set(schemes) == {"CPV", "UNSPSC", "ECLASS", "LOCAL"}
    assert {"35815100-1", "358151001", "33735100"} & codes  # CPV with and without check digits
    assert 0 < categories["unclassified"] < 0.01 * sum(categories.values())
    for needed in (
        "body-armour",
        "fleet-vehicles",
        "communications-radio",
        "energy-fuel",
        "uniforms",
        "forensic-services",
        "ict-hardware",
        "custody-detention",
        "fire-equipment",
    ):
        assert categories[needed] > 0, needed


def test_expected_activity_conserves_every_event() -> None:
    events = sample()
    activity = expected_activity(events)
    assert set(activity) == {m.id for m in MEMBERS}
    total = sum(a["accepted"] + a["duplicates"] + sum(a["rejected"].values()) for a in activity.values())
    assert total == len(events)
    decode = next(e for e in events if e.expected == "bad:decode")
    member = activity[decode.member]
    readable = [
        e.event["published_at"] for e in events if e.member == decode.member and e.expected != "bad:decode"
    ]
    assert member["last_event_at"] == max(readable)


def test_events_are_in_the_past_of_today() -> None:
    for e in sample():
        assert e.event["published_at"] < TODAY.isoformat()
        assert e.event["occurred_at"] <= e.event["published_at"]
