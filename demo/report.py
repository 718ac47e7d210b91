"""The demo's summary of the national views, written for a commercial analyst, not a parser.

Pure functions from the views' JSON (as ``GET /views/<view>`` serves it) to short aligned
text: money as whole pounds (£1,234,567), unit prices with pence, counts with thousands
separators. Each section answers one question and says how much it left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from demo.balance import Balance, Counts, describe, total

Item = Mapping[str, Any]
TOP = 8
BUCKET_LABELS = (
    ("ending within 6 months", "within_6m"),
    ("ending in 6 to 12 months", "6_to_12m"),
    ("ending in 12 to 24 months", "12_to_24m"),
    ("past their end date, still live", "past_end"),
)


def pounds(value: str | Decimal | int) -> str:
    """Whole pounds with separators: ``£1,234,567``."""
    amount = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"-£{-amount:,}" if amount < 0 else f"£{amount:,}"


def unit_price(value: str | Decimal) -> str:
    """A unit price in pounds and pence: ``£1,234.50``."""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"£{amount:,}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Rows aligned under their header; ``right`` says which columns are numbers."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  " + "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def shorten(text: str, width: int = 38) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def heading(title: str) -> list[str]:
    """A section heading."""
    return ["", title, "-" * len(title)]


# --- the sections -------------------------------------------------------------------------------


def category_spend(items: Sequence[Item], top: int = TOP) -> list[str]:
    """Top categories by spend, with order counts and how many partners buy in each."""
    ranked = sorted(items, key=lambda i: (-Decimal(i["total_net"]), i["category"]))
    spend = sum((Decimal(i["total_net"]) for i in items), Decimal(0))
    lines = heading("Category spend")
    lines.append(
        f"  {pounds(spend)} on live orders in {len(items)} categories; the top {min(top, len(items))}:"
    )
    rows = [
        [shorten(i["name"]), pounds(i["total_net"]), f"{i['order_count']:,}", str(len(i["by_member"])),
         str(i["supplier_count"])]
        for i in ranked[:top]
    ]  # fmt: skip
    lines += table(
        ["category", "spend", "orders", "partners", "suppliers"], rows, [False, True, True, True, True]
    )
    return lines


def supplier_exposure(items: Sequence[Item], top: int = TOP) -> list[str]:
    """The suppliers the most partners depend on: partners, categories, order spend, live contracts."""

    def exposure(i: Item) -> Decimal:
        return Decimal(i["order_total"]) + Decimal(i["live_contract_value"])

    ranked = sorted(items, key=lambda i: (-len(i["members"]), -exposure(i), i["supplier_key"]))
    shared = sum(1 for i in items if len(i["members"]) >= 2)
    lines = heading("Supplier exposure")
    lines.append(f"  {len(items)} suppliers, {shared} of them used by two or more partners; the most shared:")
    rows = [
        [shorten(i["name"], 34), str(len(i["members"])), str(len(i["categories"])), pounds(i["order_total"]),
         pounds(i["live_contract_value"]), i["supplier_key"]]
        for i in ranked[:top]
    ]  # fmt: skip
    header = ["supplier", "partners", "categories", "orders", "live contracts", "key"]
    lines += table(header, rows, [False, True, True, True, True, False])
    return lines


def contract_pipeline(items: Sequence[Item], as_of: date, top: int = TOP) -> list[str]:
    """Contracts ending soon, and where partners whose contracts end together could buy together."""

    def bucket(name: str) -> tuple[int, Decimal]:
        return (
            sum(int(i["expiring"][name]["count"]) for i in items),
            sum((Decimal(i["expiring"][name]["value"]) for i in items), Decimal(0)),
        )

    live = sum((Decimal(i["live_value"]) for i in items), Decimal(0))
    contracts = sum(len(i["contracts"]) for i in items)
    lines = heading(f"Contract pipeline (as of {as_of.isoformat()})")
    lines.append(f"  {contracts:,} live contracts worth {pounds(live)} in {len(items)} categories")
    for label, name in BUCKET_LABELS:
        count, value = bucket(name)
        lines.append(f"  {label:<32} {count:>5,} contracts  {pounds(value):>14}")
    chances = [i for i in items if len(i["collaboration"]) >= 2]
    chances.sort(key=lambda i: (-len(i["collaboration"]), -_ending_12m(i), i["category"]))
    lines.append("")
    lines.append(
        f"  Collaboration opportunities: {len(chances)} categories where two or more partners' "
        "contracts end within 12 months"
    )
    rows = [
        [shorten(i["name"]), str(len(i["collaboration"])), pounds(_ending_12m(i)), _few(i["collaboration"])]
        for i in chances[:top]
    ]
    lines += table(["category", "partners", "ending value", "who"], rows, [False, True, True, False])
    return lines


def _ending_12m(item: Item) -> Decimal:
    return Decimal(item["expiring"]["within_6m"]["value"]) + Decimal(item["expiring"]["6_to_12m"]["value"])


def _few(names: Sequence[str], shown: int = 2) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" +{more} more" if more > 0 else "")


def price_benchmark(items: Sequence[Item], labels: Mapping[str, str], top: int = TOP) -> list[str]:
    """The items whose unit price varies most between partners (max over min)."""
    compared = [i for i in items if len(i["by_member"]) >= 2 and Decimal(i["min"]) > 0]
    compared.sort(key=lambda i: (-(Decimal(i["max"]) / Decimal(i["min"])), i["key"]))
    lines = heading("Price benchmark")
    lines.append(
        f"  {len(items)} items benchmarked, {len(compared)} bought by two or more partners; "
        "the widest price spreads:"
    )
    rows = []
    for i in compared[:top]:
        code, _, unit = i["key"].partition("|")
        rows.append([
            shorten(labels.get(i["key"], code), 34), unit, str(len(i["by_member"])), unit_price(i["min"]),
            unit_price(i["median"]), unit_price(i["max"]), f"x{Decimal(i['max']) / Decimal(i['min']):.1f}",
        ])  # fmt: skip
    header = ["item", "unit", "partners", "min", "median", "max", "spread"]
    lines += table(header, rows, [False, False, True, True, True, True, True])
    return lines


def member_activity(
    activity: Mapping[str, Counts], demo_members: Sequence[str], verdict: Balance
) -> list[str]:
    """What the partners sent, and the conservation check (received = accepted + duplicates + rejected)."""
    ours = total(activity.get(m, Counts()) for m in demo_members)
    others = len(set(activity) - set(demo_members))
    lines = heading("Member activity")
    lines.append(f"  {len(demo_members)} partners, all runs: {describe(ours)}")
    if others:
        lines.append(f"  (the hub also holds {others} other member(s), not counted here)")
    if verdict.delta is not None:
        lines.append(f"  this run: {verdict.sent:,} sent: {describe(verdict.delta)}")
    else:
        lines.append(
            f"  this run: {verdict.sent:,} sent, taken in with earlier records the hub had not read yet"
        )
    if not verdict.unbalanced:
        lines.append(
            f"  Balanced: all {len(demo_members)} partners, received {verdict.held:,} = accepted "
            f"{ours.accepted:,} + duplicates {ours.duplicates:,} + rejected {ours.rejected_total:,}"
        )
    else:
        lines.append(f"  NOT BALANCED for {len(verdict.unbalanced)} partner(s):")
        lines += [f"    {why}" for why in verdict.unbalanced[:10]]
    if verdict.checked_kinds and not verdict.wrong_kinds:
        lines.append(
            f"  As expected: for {verdict.checked_kinds} partners this run's accepted, duplicate and "
            "rejected counts are exactly what the generator meant"
        )
    elif verdict.wrong_kinds:
        lines.append(f"  UNEXPECTED counts for {len(verdict.wrong_kinds)} partner(s):")
        lines += [f"    {why}" for why in verdict.wrong_kinds[:10]]
    if ours.rejected:
        lines.append("  Rejected events went back to their senders' dead-letter topics (below).")
    return lines


def example_keys(views: Mapping[str, Sequence[Item]]) -> dict[str, str]:
    """A key worth looking up in each view: the most shared supplier, the widest price spread."""
    out: dict[str, str] = {}
    suppliers = sorted(
        views.get("supplier-exposure", ()), key=lambda i: (-len(i["members"]), i["supplier_key"])
    )
    if suppliers:
        out["supplier-exposure"] = str(suppliers[0]["supplier_key"])
    prices = [
        i for i in views.get("price-benchmark", ()) if len(i["by_member"]) >= 2 and Decimal(i["min"]) > 0
    ]
    if prices:
        widest = max(prices, key=lambda i: (Decimal(i["max"]) / Decimal(i["min"]), i["key"]))
        out["price-benchmark"] = str(widest["key"])
    return out


def _share(part: Decimal, whole: Decimal) -> str:
    return f"{(part * 100 / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%" if whole else "-"


def supplier_diversity(items: Sequence[Item], top: int = TOP) -> list[str]:
    """How much goes to SMEs and VCSEs, nationally and in the largest categories."""

    def total_of(name: str) -> Decimal:
        return sum((Decimal(i[name]) for i in items), Decimal(0))

    spend, sme, vcse, unknown = (
        total_of(n) for n in ("total_net", "sme_net", "vcse_net", "sme_unknown_net")
    )
    lines = heading("SME and VCSE share (supplier-diversity)")
    lines.append(
        f"  of {pounds(spend)}: SMEs {pounds(sme)} ({_share(sme, spend)}), VCSEs {pounds(vcse)} "
        f"({_share(vcse, spend)}); SME status unknown for {pounds(unknown)} ({_share(unknown, spend)})"
    )
    ranked = sorted(items, key=lambda i: (-Decimal(i["total_net"]), i["category"]))[:top]
    rows = [
        [shorten(i["name"]), pounds(i["total_net"]), _share(Decimal(i["sme_net"]), Decimal(i["total_net"])),
         _share(Decimal(i["vcse_net"]), Decimal(i["total_net"])),
         _share(Decimal(i["sme_unknown_net"]), Decimal(i["total_net"]))]
        for i in ranked
    ]  # fmt: skip
    lines += table(["category", "spend", "SME", "VCSE", "unknown"], rows, [False, True, True, True, True])
    return lines


def contract_coverage(items: Sequence[Item], top: int = TOP) -> list[str]:
    """How much spend runs through contracts and national frameworks, and which frameworks."""
    spend = sum((Decimal(i["total_net"]) for i in items), Decimal(0))
    on = sum((Decimal(i["on_contract_net"]) for i in items), Decimal(0))
    via = sum((Decimal(i["framework_net"]) for i in items), Decimal(0))
    frameworks: dict[str, Decimal] = {}
    for i in items:
        for ref, amount in i["frameworks"].items():
            frameworks[ref] = frameworks.get(ref, Decimal(0)) + Decimal(amount)
    lines = heading("Contract and framework coverage (contract-coverage)")
    lines.append(
        f"  of {pounds(spend)}: on contract {pounds(on)} ({_share(on, spend)}), via a framework "
        f"{pounds(via)} ({_share(via, spend)}), off contract {pounds(spend - on)}"
    )
    ranked = sorted(frameworks.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    lines += table(["framework", "spend"], [[ref, pounds(v)] for ref, v in ranked], [False, True])
    return lines


def alerts(found: Sequence[Item]) -> list[str]:
    """The alerts a supplier's failure sent: the national one, then each partner's."""
    national = [a for a in found if a["member_id"] is None]
    lines = heading("Supplier alerts")
    if not national:
        return [*lines, "  no alert was sent"]
    n = national[0]
    lines.append(
        f"  {n['name']} ({n['supplier_key']}) went into {n['status']}: {len(n['members'])} partners exposed, "
        f"{pounds(n['order_total'])} on orders, {pounds(n['live_contract_value'])} on live contracts"
    )
    rows = [
        [a["member_id"], pounds(a["order_total"]), pounds(a["live_contract_value"]), str(len(a["contracts"])),
         _few(sorted({s for alts in a["alternatives"].values() for s in alts}), 3)]
        for a in sorted((a for a in found if a["member_id"]), key=lambda a: a["member_id"])
    ]  # fmt: skip
    lines += table(
        ["partner alerted", "orders", "live contracts", "contracts", "alternatives"],
        rows,
        [False, True, True, True, False],
    )
    return lines
