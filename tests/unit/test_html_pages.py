"""The pages for people: built from the views, every name escaped, and shown only to who may see them."""

from __future__ import annotations

from datetime import UTC, datetime

from test_readers import access, bearer
from test_streams_stage import AS_OF, SENT, Stages, canonical_stream

from streams.html import (
    category_page,
    document,
    may_see,
    overview,
    partner_page,
    price_category,
    search_page,
    supplier_page,
)
from streams.readmodel import ReadModel
from streams.views.quality import data_quality

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def views() -> Stages:
    s = Stages()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    s.settle()
    return s


def test_the_overview_shows_every_category_and_the_chances_to_buy_together() -> None:
    index = views().index
    page = overview(index, AS_OF, NOW)
    for item in index.items("category-spend", AS_OF):
        assert f'href="/category/{item["category"]}"' in page
    together = [i for i in index.items("contract-pipeline", AS_OF) if i["collaboration"]]
    assert together, "the generated contracts give no collaboration: the check below would pass on nothing"
    section = page.split("<h2>Spend by month</h2>")[0]
    for item in together:
        assert item["name"] in section
        for member in item["collaboration"]:
            assert f'href="/partner/{member}"' in section
    for item in index.items("member-activity", AS_OF):
        assert f'href="/partner/{item["member_id"]}"' in page
    for view in ("category-spend", "supplier-exposure", "contract-pipeline", "member-activity"):
        assert f'href="/views/{view}.csv"' in page


def test_category_supplier_and_partner_pages_carry_their_numbers() -> None:
    index = views().index
    spend = index.items("category-spend", AS_OF)[0]
    page = category_page(index, spend["category"], AS_OF)
    assert page is not None and spend["name"] in page and "<svg" in page and "<table>" in page
    priced = {price_category(i["key"]): i for i in index.items("price-benchmark", AS_OF)}
    category, item = next((c, i) for c, i in priced.items() if c != "unclassified")
    page = category_page(index, category, AS_OF)
    assert page is not None and "Price spreads" in page and item["key"] in page
    supplier = index.items("supplier-exposure", AS_OF)[0]
    page = supplier_page(index, supplier["supplier_key"], AS_OF)
    assert page is not None and all(f'href="/partner/{m}"' in page for m in supplier["members"])
    member = index.items("member-activity", AS_OF)[0]
    page = partner_page(index, member["member_id"], AS_OF, NOW)
    assert page is not None and f"<td>{member['accepted']}</td>" in page
    assert category_page(index, "no-such-category", AS_OF) is None
    assert supplier_page(index, "CH:NOPE", AS_OF) is None
    assert partner_page(index, "nobody", AS_OF, NOW) is None


def test_search_finds_by_part_of_a_name() -> None:
    index = views().index
    supplier = index.items("supplier-exposure", AS_OF)[0]
    page = search_page(index, supplier["name"][:5].upper(), AS_OF)
    assert f'href="/supplier/{supplier["supplier_key"]}' in page.replace("%3A", ":")


def test_names_partners_sent_are_escaped() -> None:
    model = ReadModel()
    hostile = '<script>alert("x")</script>'
    model.put(
        "supplier-exposure",
        "CH:1",
        {
            "supplier_key": "CH:1",
            "name": hostile,
            "order_total": "10.00",
            "live_contract_value": "0.00",
            "members": ["kent-police"],
            "categories": ["estates-fm"],
        },
    )
    for page in (supplier_page(model, "CH:1", AS_OF), search_page(model, "script", AS_OF)):
        assert page is not None and hostile not in page and "&lt;script&gt;" in page
    assert hostile not in document("t", "", query=hostile)


def test_who_may_see_which_page() -> None:
    off_demo = access(local=False)
    assert may_see(off_demo, "overview", None, None)[0] == 401
    assert may_see(off_demo, "overview", None, bearer("national"))[0] == 200
    assert may_see(off_demo, "partner", "kent-police", bearer("national"))[0] == 200
    member = bearer("member:kent-police")
    assert may_see(off_demo, "partner", "kent-police", member)[0] == 200
    assert may_see(off_demo, "partner", "avon-fire", member)[0] == 403
    assert may_see(off_demo, "overview", None, member)[0] == 403
    assert may_see(off_demo, "category", "estates-fm", bearer("subscriber"))[0] == 200
    assert may_see(off_demo, "partner", "kent-police", bearer("subscriber"))[0] == 403
    status, _, banner = may_see(access(local=True), "overview", None, None)
    assert status == 200 and banner  # the demo: open, and the page says so


def test_data_quality_per_partner_from_the_views() -> None:
    model = ReadModel()
    model.put(
        "member-activity",
        "kent-police",
        {
            "member_id": "kent-police",
            "accepted": 3,
            "duplicates": 0,
            "rejected": {},
            "last_event_at": "2026-09-01T00:00:00Z",
        },
    )
    model.put(
        "category-spend",
        "unclassified",
        {
            "category": "unclassified",
            "name": "Unclassified",
            "total_net": "25.00",
            "by_member": {"kent-police": "25.00"},
        },
    )
    model.put(
        "category-spend",
        "ppe",
        {"category": "ppe", "name": "PPE", "total_net": "75.00", "by_member": {"kent-police": "75.00"}},
    )
    for key in ("CH:00000001", "VAT:GB123456789", "NAME:acme", "DUNS:123456789"):
        model.put(
            "supplier-exposure",
            key,
            {
                "supplier_key": key,
                "name": key,
                "order_total": "1.00",
                "live_contract_value": "0.00",
                "members": ["kent-police"],
                "categories": ["ppe"],
            },
        )
    (q,) = data_quality(model, AS_OF, datetime(2026, 9, 1, 1, 0, tzinfo=UTC))
    assert q["unclassified_share"] == "0.2500" and q["unclassified_net"] == "25.00"
    assert q["suppliers"] == 4 and q["name_only_share"] == "0.2500"
    assert q["without_ch_or_vat_share"] == "0.5000"  # the DUNS one and the name-only one
    assert q["feed_age_seconds"] == 3600
    page = partner_page(model, "kent-police", AS_OF, datetime(2026, 9, 1, 1, 0, tzinfo=UTC))
    assert page is not None and "25.0%" in page and "50.0%" in page


def test_a_category_page_gives_each_suppliers_share_and_the_sme_and_contract_shares() -> None:
    index = views().index
    spend = max(index.items("category-spend", AS_OF), key=lambda i: i["supplier_count"])
    key = spend["category"]
    page = category_page(index, key, AS_OF)
    assert page is not None
    suppliers = [i for i in index.items("supplier-exposure", AS_OF) if key in i["categories"]]
    assert len(suppliers) >= 2, "the check below needs a category with several suppliers"
    table = page.split("<h2>Suppliers in this category</h2>")[1].split("</table>")[0]
    # each supplier's share here, as a percentage with one place, largest first
    shares = [(i["name"], float(i["category_share"][key]) * 100) for i in suppliers]
    shares.sort(key=lambda ns: -ns[1])
    positions = [table.index(f">{share:.1f}%<") for _, share in shares if share > 0]
    assert positions == sorted(positions)
    diversity = index.item("supplier-diversity", key, AS_OF)
    coverage = index.item("contract-coverage", key, AS_OF)
    assert diversity is not None and coverage is not None
    assert "with SMEs" in page and "on contract" in page
    assert 'href="/views/supplier-diversity.csv"' in page


def test_a_partner_page_lists_its_latest_dead_letters_newest_first_and_escaped() -> None:
    from streams import dlq
    from streams.dead_letters import DeadLetters

    letters = DeadLetters(kept=3)
    for n in range(5):
        headers = (
            (dlq.KIND, b"validation"),
            (dlq.REASON, f"total_net: <b>{n}</b> does not add up".encode()),
            (dlq.FIELD, b"total_net"),
            (dlq.MEMBER, b"kent-police"),
            (dlq.ORIGINAL_TOPIC, b"bluelight.member.kent-police.purchase-orders.v1"),
            (dlq.ORIGINAL_PARTITION, b"2"),
            (dlq.ORIGINAL_OFFSET, str(100 + n).encode()),
        )
        letters.put("bluelight.dlq.kent-police.v1", 1_796_000_000_000 + n * 1000, headers)
    latest = letters.latest("kent-police")
    assert [d["origin"] for d in latest] == [
        f"bluelight.member.kent-police.purchase-orders.v1[2]@{o}" for o in (104, 103, 102)
    ]
    assert letters.latest("essex-police") == []
    index = views().index
    member = index.items("member-activity", AS_OF)[0]["member_id"]
    page = partner_page(index, member, AS_OF, NOW, latest)
    assert page is not None
    section = page.split("<h2>Latest dead letters</h2>")[1].split("</table>")[0]
    assert section.count("<td>validation</td>") == 3
    assert "&lt;b&gt;4&lt;/b&gt;" in page and "<b>4</b>" not in page
    assert "None read." in (partner_page(index, member, AS_OF, NOW, []) or "")
