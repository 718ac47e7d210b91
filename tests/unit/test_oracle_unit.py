"""The oracle and its generator, on small hand-made cases: the oracle must be able to be wrong.

The integration tests trust tests/oracle.py to say what the hub should serve, so it is checked
here against answers worked out by hand from views.md, and the generator is checked against
the schemas (every valid record decodes to its event; every invalid one is rejected with the
kind it is labelled with).
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from schemas.identity import national_supplier_key
from schemas.models import Classification, Contract, Event, PurchaseOrder, SupplierRef
from schemas.serde import encode_event, event_from_bytes
from schemas.validate import Rejection
from tests.hub_run import diff_view_topics
from tests.oracle import (
    KEY_FIELD,
    Categories,
    Sent,
    add_months,
    benchmark_key,
    bucket_of,
    code_form,
    diff_view,
    expected_views,
    normalise_served,
    replay,
)
from tests.oracle_gen import HAND_PRODUCTS, SUPPLIERS, Plan, Product, generate, generated_products

T0 = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 8, 31)


@pytest.fixture(scope="module")
def cats() -> Categories:
    return Categories()


def _products(cats: Categories) -> list[Product]:
    return [*HAND_PRODUCTS, *generated_products(random.Random(7), cats, 400)]


# --- builders ---------------------------------------------------------------------------------------


def line(line_id: str, scheme: str, code: str, qty: str, unit_price: str, unit: str = "EA") -> dict[str, Any]:
    total = (Decimal(qty) * Decimal(unit_price)).quantize(Decimal("0.01"))
    return {
        "line_id": line_id,
        "description": "x",
        "quantity": qty,
        "unit": unit,
        "unit_price": unit_price,
        "line_total": str(total),
        "classification": {"scheme": scheme, "code": code},
    }


def order(
    member: str,
    entity: str,
    version: int,
    lines: list[dict[str, Any]],
    *,
    status: str = "ISSUED",
    supplier: dict[str, Any] | None = None,
    order_date: str = "2026-07-15",
    at: int = 0,
) -> PurchaseOrder:
    total = sum((Decimal(li["line_total"]) for li in lines), Decimal("0.00"))
    return PurchaseOrder.model_validate(
        {
            "event_id": f"00000000-0000-4000-8000-{version:04d}{abs(hash((member, entity))) % 10**8:08d}",
            "member_id": member,
            "source_system": "sap-s4",
            "entity_id": entity,
            "entity_version": version,
            "occurred_at": T0,
            "published_at": T0 + timedelta(seconds=at),
            "status": status,
            "order_date": order_date,
            "currency": "GBP",
            "supplier": supplier
            or {"member_supplier_id": "V1", "name": "Acme Ltd", "companies_house_number": "123"},
            "lines": lines,
            "total_net": str(total),
        }
    )


def contract(
    member: str,
    entity: str,
    version: int,
    end: str,
    value: str,
    *,
    status: str = "ACTIVE",
    code: str = "35815100",
    supplier: dict[str, Any] | None = None,
    extent: str | None = None,
    at: int = 0,
) -> Contract:
    return Contract.model_validate(
        {
            "event_id": "00000000-0000-4000-8000-000000000001",
            "member_id": member,
            "source_system": "unit4",
            "entity_id": entity,
            "entity_version": version,
            "occurred_at": T0,
            "published_at": T0 + timedelta(seconds=at),
            "status": status,
            "title": "t",
            "supplier": supplier
            or {"member_supplier_id": "V1", "name": "Armour Co", "vat_number": "GB123456789"},
            "classification": {"scheme": "CPV", "code": code},
            "start_date": "2024-01-01",
            "end_date": end,
            "max_extent_date": extent,
            "value": value,
            "currency": "GBP",
        }
    )


def ok(event: Event, member: str | None = None) -> Sent:
    return Sent(
        member=member or event.member_id,
        family=event.family,
        key=event.entity_id.encode(),
        value=encode_event(event),
        event=event,
        reject=None,
        published_at=event.published_at,
        note="hand-made",
    )


def bad(member: str, kind: str, published_at: datetime | None = None) -> Sent:
    return Sent(member, "purchase-order", b"k", b"\x00", None, kind, published_at, "hand-made bad")


def items(views: dict[str, dict[str, Any]], view: str) -> dict[str, dict[str, Any]]:
    key = {
        "category-spend": "category",
        "supplier-exposure": "supplier_key",
        "contract-pipeline": "category",
        "price-benchmark": "key",
        "member-activity": "member_id",
    }[view]
    return {i[key]: i for i in views[view]["items"]}


# --- reference lookups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "code", "member", "expected"),
    [
        ("CPV", "35815100-8", "kent-police", "body-armour"),  # "35815" beats "3581" and "35"
        ("CPV", "35113400-3", "kent-police", "ppe"),
        ("CPV", "351134003", "kent-police", "ppe"),  # 9 digits: the check digit is dropped
        ("CPV", "34144210", "kent-police", "fire-appliances"),
        ("CPV", "34144000", "kent-police", "fleet-vehicles"),
        ("CPV", "33735100", "kent-police", "ppe"),
        ("CPV", "33700000", "kent-police", "cleaning"),
        ("CPV", "99100000", "kent-police", "unclassified"),
        ("UNSPSC", "46181604", "essex-police", "ppe"),
        ("UNSPSC", "46201604", "essex-police", "operational-equipment"),
        ("ECLASS", "19030101", "essex-police", "ict-hardware"),
        ("ECLASS", "19-03-01-01", "essex-police", "ict-hardware"),
        ("ECLASS", "40010101", "essex-police", "unclassified"),
        ("LOCAL", "mg-radio", "kent-police", "communications-radio"),
        ("LOCAL", " MG-ARMOUR ", "kent-police", "body-armour"),
        ("LOCAL", "MG-NOT-MAPPED", "kent-police", "unclassified"),
        ("LOCAL", "MG-FLEET", "essex-police", "unclassified"),  # Essex has no LOCAL map
        ("LOCAL", "FLEET.APPLIANCE.PUMP", "london-fire", "fire-appliances"),
        ("LOCAL", "FLEET.VAN", "london-fire", "fleet-vehicles"),
        ("LOCAL", "FLEET.FUELCARD", "london-fire", "energy-fuel"),  # exact code beats prefix FLEET.
        ("LOCAL", "FLEETCARD.X", "london-fire", "unclassified"),
        ("LOCAL", "ops.ba.cylinder", "london-fire", "fire-equipment"),
        # codes that cannot be normalised are not guessed at (docs/categories.md)
        ("CPV", "3373510", "kent-police", "unclassified"),  # 7 digits: a lost leading zero
        ("CPV", "33735100.0", "kent-police", "unclassified"),  # a spreadsheet's float
        ("CPV", "35113400-12", "kent-police", "unclassified"),
        ("CPV", "337351007-7", "kent-police", "unclassified"),
        ("CPV", "3511340012", "kent-police", "unclassified"),
        ("UNSPSC", "4321-1503", "essex-police", "unclassified"),
        ("UNSPSC", "4", "essex-police", "unclassified"),
        ("ECLASS", "19.03.01.01", "essex-police", "unclassified"),
    ],
)
def test_category_lookup(cats: Categories, scheme: str, code: str, member: str, expected: str) -> None:
    assert cats.category(scheme, code, member) == expected


def test_category_names(cats: Categories) -> None:
    assert cats.name("body-armour") == "Body armour"
    assert cats.name("unclassified") == "Unclassified"


def test_benchmark_key() -> None:
    assert benchmark_key("CPV", "33735100-9", "EA") == "CPV:33735100|EA"
    assert benchmark_key("CPV", "337351009", "EA") == "CPV:33735100|EA"
    assert benchmark_key("UNSPSC", "46181604", "PR") == "UNSPSC:46181604|PR"
    assert benchmark_key("LOCAL", "MG-FLEET", "EA") is None
    assert benchmark_key("CPV", "33735100.0", "EA") is None  # unclassified: no price under a guess
    assert benchmark_key("CPV", "3373510", "EA") is None
    assert benchmark_key("UNSPSC", "4321-1503", "EA") is None
    assert benchmark_key("ECLASS", "19-03-01-01", "EA") == "ECLASS:19030101|EA"


def test_the_generator_sends_codes_that_cannot_be_normalised(cats: Categories) -> None:
    products = _products(cats)
    odd = [p for p in products if p.scheme != "LOCAL" and code_form(p.scheme, p.code) is None]
    assert {p.scheme for p in odd} == {"CPV", "UNSPSC", "ECLASS"}
    assert len(odd) >= 8  # the hand-made ones and some grown from the rules


def test_oracle_and_hub_agree_on_every_generated_code(cats: Categories) -> None:
    """The oracle's own reading of docs/categories.md, against the hub's, on every code sent."""
    from streams.categories import map_classification, normalise_code
    from streams.derive import price_key

    for product in _products(cats):
        for member in ("kent-police", "london-fire", "essex-police"):
            hub = map_classification(product.scheme, product.code, member).category
            assert cats.category(product.scheme, product.code, member) == hub, (product, member)
        classification = Classification(scheme=product.scheme, code=product.code)
        assert benchmark_key(product.scheme, product.code, "EA") == price_key(
            classification, "EA", normalise_code
        ), product


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 15), 24) == date(2028, 1, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("end", "bucket"),
    [
        (date(2026, 8, 30), "past_end"),
        (date(2026, 8, 31), "past_end"),  # on as_of: still past end
        (date(2026, 9, 1), "within_6m"),
        (date(2027, 2, 28), "within_6m"),  # as_of + 6 months, clamped
        (date(2027, 3, 1), "6_to_12m"),
        (date(2027, 8, 31), "6_to_12m"),
        (date(2027, 9, 1), "12_to_24m"),
        (date(2028, 8, 31), "12_to_24m"),
        (date(2028, 9, 1), None),
    ],
)
def test_buckets(end: date, bucket: str | None) -> None:
    assert bucket_of(end, AS_OF) == bucket


# --- replay -------------------------------------------------------------------------------------------


def test_replay_versions_in_arrival_order() -> None:
    li = [line("1", "CPV", "33735100", "1", "10")]
    v1, v2, v3 = (order("kent-police", "PO-1", v, li, at=v) for v in (1, 2, 3))
    sent = [ok(v1), ok(v3), ok(v2), ok(v3), bad("kent-police", "decode"), bad("kent-police", "tenant", T0)]
    done = replay(sent)
    act = done.activity["kent-police"]
    assert (act.accepted, act.duplicates, dict(act.rejected)) == (2, 2, {"decode": 1, "tenant": 1})
    assert act.received == 6
    assert done.states[("kent-police", "purchase-order", "PO-1")].entity_version == 3
    assert act.last_event_at == T0 + timedelta(seconds=3)


def test_replay_keys_state_by_member() -> None:
    li = [line("1", "CPV", "33735100", "1", "10")]
    sent = [ok(order("kent-police", "PO-1", 2, li)), ok(order("essex-police", "PO-1", 1, li))]
    done = replay(sent)
    assert done.activity["essex-police"].accepted == 1
    assert len(done.states) == 2


def test_last_event_at_counts_readable_rejections_only() -> None:
    li = [line("1", "CPV", "33735100", "1", "10")]
    sent = [
        ok(order("kent-police", "PO-1", 1, li, at=5)),
        bad("kent-police", "decode"),
        bad("kent-police", "validation", T0 + timedelta(seconds=9)),
    ]
    views = expected_views(sent, Categories(), AS_OF)
    assert items(views, "member-activity")["kent-police"] == {
        "member_id": "kent-police",
        "accepted": 1,
        "duplicates": 0,
        "rejected": {"decode": 1, "validation": 1},
        "last_event_at": "2026-08-01T09:00:09.000Z",
    }


# --- the views, worked by hand -------------------------------------------------------------------------


def test_category_spend_by_hand(cats: Categories) -> None:
    acme = {"member_supplier_id": "A", "name": "Acme Ltd", "companies_house_number": "123"}
    zed = {"member_supplier_id": "Z", "name": "Zed", "duns": "150483782"}
    sent = [
        # two lines in ppe (goggles), one in body armour
        ok(
            order(
                "kent-police",
                "PO-1",
                1,
                [line("1", "CPV", "33735100", "2", "12.5"), line("2", "CPV", "35815100-8", "1", "400")],
                supplier=acme,
            )
        ),
        ok(
            order(
                "essex-police",
                "PO-9",
                1,
                [line("1", "CPV", "33735100-2", "3", "1.005")],
                supplier=zed,
                order_date="2026-06-30",
            )
        ),
        # cancelled in its latest version: drops out
        ok(order("essex-police", "PO-10", 1, [line("1", "CPV", "33735100", "1", "999")])),
        ok(order("essex-police", "PO-10", 2, [line("1", "CPV", "33735100", "1", "999")], status="CANCELLED")),
    ]
    spend = items(expected_views(sent, cats, AS_OF), "category-spend")
    assert set(spend) == {"ppe", "body-armour"}
    assert spend["ppe"] == {
        "category": "ppe",
        "name": "Personal protective equipment",
        "total_net": "28.02",  # 25.00 + 3 x 1.005 = 3.015 -> 3.02 (half-up)
        "order_count": 2,
        "by_month": {"2026-06": "3.02", "2026-07": "25.00"},
        "by_member": {"essex-police": "3.02", "kent-police": "25.00"},
        "supplier_count": 2,
    }
    assert spend["body-armour"]["total_net"] == "400.00"
    assert spend["body-armour"]["supplier_count"] == 1


def test_supplier_exposure_by_hand(cats: Categories) -> None:
    ch_a = {"member_supplier_id": "A", "name": "Acme UK Ltd", "companies_house_number": "123"}
    ch_b = {"member_supplier_id": "B", "name": "ACME LIMITED", "companies_house_number": "00000123"}
    ch_c = {"member_supplier_id": "C", "name": "Acme", "companies_house_number": "123"}
    sent = [
        ok(order("kent-police", "PO-1", 1, [line("1", "CPV", "33735100", "1", "10")], supplier=ch_a, at=10)),
        ok(contract("essex-police", "CT-1", 1, "2027-01-01", "5000.00", supplier=ch_b, at=20)),
        # newer, but terminated: not a contribution, so neither its value nor its name count
        ok(
            contract(
                "wiltshire-fire",
                "CT-2",
                1,
                "2027-01-01",
                "7000.00",
                supplier=ch_c,
                status="TERMINATED",
                at=30,
            )
        ),
    ]
    exposure = items(expected_views(sent, cats, AS_OF), "supplier-exposure")
    assert exposure == {
        "CH:00000123": {
            "supplier_key": "CH:00000123",
            "name": "ACME LIMITED",
            "order_total": "10.00",
            "live_contract_value": "5000.00",
            "members": ["essex-police", "kent-police"],
            "categories": ["body-armour", "ppe"],
            # the order's lines are all of ppe; the contract gives body-armour no order lines
            "category_share": {"body-armour": "0.0000", "ppe": "1.0000"},
            "alternatives": {"body-armour": [], "ppe": []},
        }
    }


def test_category_share_and_alternatives_by_hand(cats: Categories) -> None:
    def supplier(n: int) -> dict[str, str]:
        return {"member_supplier_id": f"S{n}", "name": f"Supplier {n}", "companies_house_number": f"{n:08d}"}

    ppe = ("CPV", "33735100")
    # ppe: S1 60 + 30 (two members), S2 30, S3..S7 2 each, S8 nothing: total 130
    sent = [
        ok(order("kent-police", "PO-1", 1, [line("1", *ppe, "1", "60")], supplier=supplier(1), at=1)),
        ok(order("essex-police", "PO-1", 1, [line("1", *ppe, "1", "30")], supplier=supplier(1), at=2)),
        ok(order("kent-police", "PO-2", 1, [line("1", *ppe, "1", "30")], supplier=supplier(2), at=3)),
        *(
            ok(order("kent-police", f"PO-{n}", 1, [line("1", *ppe, "1", "2")], supplier=supplier(n), at=n))
            for n in range(3, 8)
        ),
        ok(order("kent-police", "PO-8", 1, [line("1", *ppe, "1", "0")], supplier=supplier(8), at=8)),
    ]
    exposure = items(expected_views(sent, cats, AS_OF), "supplier-exposure")
    assert exposure["CH:00000001"]["category_share"] == {"ppe": "0.6923"}  # 90 / 130
    assert exposure["CH:00000002"]["category_share"] == {"ppe": "0.2308"}  # 30 / 130, half up
    assert exposure["CH:00000008"]["category_share"] == {"ppe": "0.0000"}
    # the five largest others, ties by key
    assert exposure["CH:00000001"]["alternatives"] == {
        "ppe": ["CH:00000002", "CH:00000003", "CH:00000004", "CH:00000005", "CH:00000006"]
    }
    assert exposure["CH:00000003"]["alternatives"] == {
        "ppe": ["CH:00000001", "CH:00000002", "CH:00000004", "CH:00000005", "CH:00000006"]
    }


def test_supplier_name_tie_takes_smallest(cats: Categories) -> None:
    s1 = {"member_supplier_id": "A", "name": "beta", "duns": "150483782"}
    s2 = {"member_supplier_id": "B", "name": "Alpha", "duns": "150483782"}
    sent = [
        ok(order("kent-police", "PO-1", 1, [line("1", "CPV", "33735100", "1", "10")], supplier=s1, at=5)),
        ok(order("essex-police", "PO-1", 1, [line("1", "CPV", "33735100", "1", "10")], supplier=s2, at=5)),
    ]
    exposure = items(expected_views(sent, cats, AS_OF), "supplier-exposure")
    assert exposure["DUNS:150483782"]["name"] == "Alpha"


def test_contract_pipeline_by_hand(cats: Categories) -> None:
    sent = [
        ok(contract("kent-police", "CT-1", 1, "2027-02-28", "100.00")),  # within_6m (clamped edge)
        ok(contract("essex-police", "CT-7", 1, "2027-08-31", "200.00", extent="2028-08-31")),  # 6_to_12m
        ok(contract("essex-police", "CT-3", 1, "2026-08-31", "50.00", status="PENDING")),  # past_end
        ok(contract("wiltshire-fire", "CT-1", 1, "2030-01-01", "1.00")),  # beyond 24 months
        ok(contract("wiltshire-fire", "CT-2", 1, "2026-12-01", "9.00", status="EXPIRED")),  # not live
        ok(contract("kent-police", "CT-9", 1, "2027-01-01", "3.00", code="48000000")),  # other category
    ]
    pipe = items(expected_views(sent, cats, AS_OF), "contract-pipeline")
    armour = pipe["body-armour"]
    assert [(c["member_id"], c["entity_id"]) for c in armour["contracts"]] == [
        ("essex-police", "CT-3"),
        ("kent-police", "CT-1"),
        ("essex-police", "CT-7"),
        ("wiltshire-fire", "CT-1"),
    ]
    assert armour["contracts"][2] == {
        "member_id": "essex-police",
        "entity_id": "CT-7",
        "supplier_key": "VAT:GB123456789",
        "end_date": "2027-08-31",
        "max_extent_date": "2028-08-31",
        "value": "200.00",
    }
    assert armour["contracts"][0]["max_extent_date"] is None
    assert armour["live_value"] == "351.00"
    assert armour["expiring"] == {
        "past_end": {"count": 1, "value": "50.00"},
        "within_6m": {"count": 1, "value": "100.00"},
        "6_to_12m": {"count": 1, "value": "200.00"},
        "12_to_24m": {"count": 0, "value": "0.00"},
    }
    assert armour["collaboration"] == ["essex-police", "kent-police"]
    assert pipe["ict-software"]["collaboration"] == []  # one member only


def test_price_benchmark_by_hand(cats: Categories) -> None:
    sent = [
        ok(
            order(
                "kent-police",
                "PO-1",
                1,
                [
                    line("1", "CPV", "33735100-9", "1", "10"),
                    line("2", "CPV", "33735100", "1", "30"),
                    line("3", "LOCAL", "MG-FLEET", "1", "5"),
                ],
            )
        ),
        ok(
            order(
                "essex-police",
                "PO-1",
                1,
                [
                    line("1", "CPV", "33735100", "2", "20.1234"),
                    line("2", "CPV", "33735100", "1", "7", unit="H87"),
                ],
            )
        ),
        ok(order("essex-police", "PO-2", 1, [line("1", "CPV", "33735100", "1", "40")])),
        ok(order("essex-police", "PO-2", 2, [line("1", "CPV", "33735100", "1", "40")], status="CANCELLED")),
    ]
    bench = items(expected_views(sent, cats, AS_OF), "price-benchmark")
    assert set(bench) == {"CPV:33735100|EA", "CPV:33735100|H87"}
    assert bench["CPV:33735100|EA"] == {
        "key": "CPV:33735100|EA",
        "count": 3,
        "min": "10.0000",
        "max": "30.0000",
        "median": "20.1234",
        "by_member": {
            "essex-police": {"count": 1, "min": "20.1234", "max": "20.1234"},
            "kent-police": {"count": 2, "min": "10.0000", "max": "30.0000"},
        },
    }


def test_price_benchmark_median_is_lower_middle(cats: Categories) -> None:
    li = [line(str(i), "UNSPSC", "46181604", "1", p, unit="PR") for i, p in enumerate(("4", "1", "3", "2"))]
    bench = items(expected_views([ok(order("kent-police", "PO-1", 1, li))], cats, AS_OF), "price-benchmark")
    assert bench["UNSPSC:46181604|PR"]["median"] == "2.0000"


# --- comparing -------------------------------------------------------------------------------------------


def test_diff_view_reports_every_kind_of_difference(cats: Categories) -> None:
    sent = [
        ok(
            order(
                "kent-police",
                "PO-1",
                1,
                [line("1", "CPV", "33735100", "1", "10"), line("2", "CPV", "35815100", "1", "10")],
            )
        )
    ]
    expected = expected_views(sent, cats, AS_OF)["category-spend"]
    assert diff_view(expected, copy.deepcopy(expected), "category") == []
    served = copy.deepcopy(expected)
    served["items"][0]["total_net"] = "10.01"
    served["items"].append({"category": "zzz"})
    del served["items"][1]
    out = "\n".join(diff_view(expected, served, "category"))
    assert "item 'body-armour': total_net: expected '10.00', served '10.01'" in out
    assert "missing item 'ppe'" in out
    assert "unexpected item 'zzz'" in out
    served = copy.deepcopy(expected)
    served["items"].reverse()
    assert diff_view(expected, served, "category") == ["  items are not sorted by key"]
    served = copy.deepcopy(expected)
    served["items"].insert(0, copy.deepcopy(served["items"][0]))  # equal, sorted, but twice
    assert diff_view(expected, served, "category") == ["  item 'body-armour' is served 2 times"]


def test_normalise_served_accepts_equal_instants_only() -> None:
    body = {"view": "member-activity", "items": [{"member_id": "m", "last_event_at": "2026-08-01T09:00:09Z"}]}
    assert (
        normalise_served("member-activity", body)["items"][0]["last_event_at"] == "2026-08-01T09:00:09.000Z"
    )
    body = {
        "view": "member-activity",
        "items": [{"member_id": "m", "last_event_at": "2026-08-01T09:00:09+00:00"}],
    }
    assert (
        normalise_served("member-activity", body)["items"][0]["last_event_at"] == "2026-08-01T09:00:09+00:00"
    )


# --- the generator ------------------------------------------------------------------------------------------


SMALL = Plan(orders=25, contracts=10, suppliers=5, invalid_per_member=13)


def test_generator_is_deterministic() -> None:
    a, b = generate(7, SMALL), generate(7, SMALL)
    assert [(s.member, s.key, s.value) for s in a] == [(s.member, s.key, s.value) for s in b]
    assert [s.value for s in generate(8, SMALL)] != [s.value for s in a]


def test_generated_records_are_what_they_claim() -> None:
    """Valid ones decode to their event; invalid ones are rejected with their labelled kind."""
    sent = generate(3, SMALL)
    kinds = {s.reject for s in sent}
    assert kinds >= {None, "decode", "schema", "validation", "tenant", "unsupported"}
    for s in sent:
        if s.event is not None:
            assert event_from_bytes(s.value, s.member, s.family) == s.event, s.note
            continue
        with pytest.raises(Rejection) as caught:
            event_from_bytes(s.value, s.member, s.family)
        assert caught.value.kind == s.reject, f"{s.note}: {caught.value}"


def test_generator_makes_duplicates_and_late_versions() -> None:
    sent = generate(5, SMALL)
    done = replay(sent)
    assert all(a.duplicates > 0 and a.accepted > 0 for a in done.activity.values())
    notes = " ".join(s.note for s in sent)
    assert "(resend)" in notes and "(late)" in notes
    statuses = {getattr(e, "status", None) for e in done.states.values()}
    assert {"CANCELLED", "ISSUED"} <= {str(s) for s in statuses}


@pytest.mark.parametrize("spec", SUPPLIERS, ids=lambda s: s.expected_key)
def test_supplier_pool_keys_match_the_contract(spec: Any) -> None:
    ref = SupplierRef.model_validate(
        {
            "member_supplier_id": "x",
            "name": spec.names[0],
            "companies_house_number": spec.companies_house_number,
            "vat_number": spec.vat_number,
            "duns": spec.duns,
        }
    )
    assert national_supplier_key(ref) == spec.expected_key


def test_view_topic_records_compare_with_the_oracle(cats: Categories) -> None:
    """The view-topic check: Avro records (Decimal, date, datetime) against the oracle's JSON."""
    sent = [
        ok(order("kent-police", "PO-1", 1, [line("1", "CPV", "33735100", "2", "12.5")], at=3)),
        ok(contract("essex-police", "CT-7", 1, "2027-08-31", "200.00")),
    ]
    expected = expected_views(sent, cats, AS_OF)
    topics: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in expected}
    for view, body in expected.items():
        for item in body["items"]:
            record = copy.deepcopy(item)
            for k, v in list(record.items()):
                if isinstance(v, str) and v.replace(".", "", 1).isdigit() and "." in v:
                    record[k] = Decimal(v)
            if view == "member-activity":
                record["last_event_at"] = (
                    T0 + timedelta(seconds=3) if item["member_id"] == "kent-police" else T0
                )
            if view == "contract-pipeline":
                record["as_of"] = date(2030, 1, 1)  # published for another day: buckets not compared
                record["expiring"] = {}
                for c in record["contracts"]:
                    c["end_date"] = date.fromisoformat(c["end_date"])
                    c["value"] = Decimal(c["value"])
            topics[view][str(item[KEY_FIELD[view]])] = record
    assert diff_view_topics(expected, topics) == []
    topics["price-benchmark"]["CPV:33735100|EA"]["max"] = Decimal("12.5001")
    topics["category-spend"]["zzz"] = {"category": "zzz"}
    del topics["supplier-exposure"]["CH:00000123"]
    out = "\n".join(diff_view_topics(expected, topics))
    assert "price-benchmark: key 'CPV:33735100|EA' differs in ['max']" in out
    assert "category-spend: key 'zzz' on the view topic but not in the oracle" in out
    assert "supplier-exposure: key 'CH:00000123' missing" in out
