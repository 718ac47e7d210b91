"""The demo's pure parts: the balance check and the analyst's summary of the views."""

from __future__ import annotations

from datetime import date

from demo.balance import Counts, balance, expected_delta, taken_in
from demo.report import (
    category_spend,
    contract_pipeline,
    example_keys,
    member_activity,
    pounds,
    price_benchmark,
    table,
    unit_price,
)

GOOD = Counts(10, 2, {"validation": 1})  # what the generator meant for one member: 13 events


# --- money and layout ----------------------------------------------------------------------------


def test_pounds_are_whole_with_separators() -> None:
    assert pounds("1234567.49") == "£1,234,567"
    assert pounds("1234567.50") == "£1,234,568"
    assert pounds("0.00") == "£0"
    assert pounds("-2500.00") == "-£2,500"
    assert unit_price("12.5000") == "£12.50"
    assert unit_price("80570.2812") == "£80,570.28"


def test_table_aligns_numbers_right_and_text_left() -> None:
    lines = table(["name", "spend"], [["Fleet", "£1,000"], ["ICT hardware", "£20"]], [False, True])
    assert lines == [
        "  name           spend",
        "  Fleet         £1,000",
        "  ICT hardware     £20",
    ]


# --- the balance check ---------------------------------------------------------------------------


def test_a_member_new_to_the_hub_must_come_out_exactly_as_labelled() -> None:
    verdict = balance({"a": 13}, {"a": GOOD}, {}, {"a": GOOD}, {"a": 0}, {"a": 13})
    assert verdict.ok and verdict.checked_kinds == 1 and verdict.delta == GOOD

    wrong = Counts(11, 1, {"validation": 1})  # a duplicate taken for a new version
    verdict = balance({"a": 13}, {"a": GOOD}, {}, {"a": wrong}, {"a": 0}, {"a": 13})
    assert not verdict.ok and not verdict.unbalanced
    assert verdict.wrong_kinds == ("a: expected 10 accepted, 2 duplicates, 1 rejected (validation 1), "
                                   "got 11 accepted, 1 duplicates, 1 rejected (validation 1)",)  # fmt: skip


def test_a_resend_is_all_duplicates_and_the_same_rejections() -> None:
    assert expected_delta(GOOD, GOOD) == Counts(0, 12, {"validation": 1})
    after = Counts(10, 14, {"validation": 2})
    verdict = balance({"a": 13}, {"a": GOOD}, {"a": GOOD}, {"a": after}, {"a": 13}, {"a": 26})
    assert verdict.ok and verdict.checked_kinds == 1
    assert verdict.delta == Counts(0, 12, {"validation": 1})


def test_a_lost_or_extra_event_unbalances_the_member() -> None:
    short = Counts(10, 2, {})
    verdict = balance({"a": 13, "b": 13}, {"a": GOOD, "b": GOOD}, {}, {"a": short, "b": GOOD},
                      {"a": 0, "b": 0}, {"a": 13, "b": 13})  # fmt: skip
    assert verdict.unbalanced == ("a: 13 records on its topics, 12 accounted for",)
    assert not verdict.ok


def test_earlier_records_still_being_taken_in_make_this_runs_share_unknown() -> None:
    # 5 records sat on the topics unread when this run began: only the totals can be checked
    now = Counts(14, 3, {"validation": 1})
    verdict = balance({"a": 13}, {"a": GOOD}, {}, {"a": now}, {"a": 5}, {"a": 18})
    assert verdict.ok and verdict.delta is None and verdict.checked_kinds == 0
    assert expected_delta(GOOD, Counts(3, 0, {})) is None  # held something else before: unpredictable


def test_taken_in_counts_at_most_what_each_member_holds() -> None:
    assert taken_in({"a": GOOD, "b": Counts(1, 0, {})}, {"a": 10, "b": 4}) == 10 + 1


def test_member_activity_says_balanced_or_names_who_is_not() -> None:
    ok = balance({"a": 13}, {"a": GOOD}, {}, {"a": GOOD}, {"a": 0}, {"a": 13})
    text = "\n".join(member_activity({"a": GOOD, "t-1": Counts(1, 0, {})}, ["a"], ok))
    assert "Balanced: all 1 partners, received 13 = accepted 10 + duplicates 2 + rejected 1" in text
    assert "1 other member(s)" in text
    assert "As expected: for 1 partners" in text

    bad = balance({"a": 13}, {"a": GOOD}, {}, {"a": Counts(9, 2, {})}, {"a": 0}, {"a": 13})
    text = "\n".join(member_activity({"a": Counts(9, 2, {})}, ["a"], bad))
    assert "Balanced" not in text
    assert "NOT BALANCED for 1 partner(s):" in text and "UNEXPECTED counts" in text


# --- the views -----------------------------------------------------------------------------------


def _spend(category: str, total: str, members: int) -> dict[str, object]:
    return {"category": category, "name": category.title(), "total_net": total, "order_count": 3,
            "by_member": {f"m{i}": "1.00" for i in range(members)}, "supplier_count": 1}  # fmt: skip


def test_category_spend_ranks_by_spend_and_counts_partners() -> None:
    lines = category_spend([_spend("fleet", "100.00", 2), _spend("ict", "2500000.00", 5)], top=1)
    assert lines[3] == "  £2,500,100 on live orders in 2 categories; the top 1:"
    assert lines[5].split() == ["Ict", "£2,500,000", "3", "5", "1"]
    assert len(lines) == 6


def _pipeline(category: str, members: list[str], soon: str, later: str) -> dict[str, object]:
    bucket = {"count": 1, "value": "0.00"}
    return {
        "category": category, "name": category.title(), "contracts": [{}] * len(members),
        "live_value": "100.00",
        "expiring": {"past_end": bucket, "within_6m": {"count": 1, "value": soon},
                     "6_to_12m": {"count": 1, "value": later}, "12_to_24m": bucket},
        "collaboration": members if len(members) >= 2 else [],
    }  # fmt: skip


def test_contract_pipeline_lists_only_categories_two_partners_could_buy_together() -> None:
    items = [_pipeline("fleet", ["a", "b", "c", "d"], "10.00", "5.00"), _pipeline("ict", ["a"], "7", "0")]
    text = "\n".join(contract_pipeline(items, date(2026, 3, 31)))
    assert "Contract pipeline (as of 2026-03-31)" in text
    assert "5 live contracts worth £200 in 2 categories" in text
    assert "Collaboration opportunities: 1 categories" in text
    row = next(line for line in text.splitlines() if line.startswith("  Fleet"))
    assert row.split() == ["Fleet", "4", "£15", "a,", "b", "+2", "more"]


def _price(key: str, low: str, high: str, members: int) -> dict[str, object]:
    return {"key": key, "count": 4, "min": low, "max": high, "median": low,
            "by_member": {f"m{i}": {} for i in range(members)}}  # fmt: skip


def test_price_benchmark_shows_the_widest_spreads_between_partners() -> None:
    items = [
        _price("CPV:1|EA", "10.0000", "20.0000", 3),
        _price("CPV:2|PR", "1.0000", "9.0000", 2),
        _price("CPV:3|EA", "1.0000", "500.0000", 1),  # one partner: nothing to compare
    ]
    lines = price_benchmark(items, {"CPV:2|PR": "Safety boots"})
    assert lines[3] == "  3 items benchmarked, 2 bought by two or more partners; the widest price spreads:"
    assert lines[5].split() == ["Safety", "boots", "PR", "2", "£1.00", "£1.00", "£9.00", "x9.0"]
    assert lines[6].split()[0] == "CPV:1"
    assert example_keys({"price-benchmark": items}) == {"price-benchmark": "CPV:2|PR"}
