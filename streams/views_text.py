"""The views as text for people at a terminal: aligned tables, sorting, names beside ids.

Pure functions of the items as the worker serves them. ``views summary`` answers the
category manager's two questions (where can partners buy together in the next year, which
suppliers do many partners depend on) with the same sections the demo prints at its end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from demo import report
from streams.views.export import KEY_FIELD

Item = Mapping[str, Any]
WIDE = 40


def named(member: str, names: Mapping[str, str]) -> str:
    """``Kent Police (kent-police)``, or the id alone when the topology does not name it."""
    name = names.get(member)
    return f"{name} ({member})" if name else member


def cell(value: Any) -> str:
    """One table cell: scalars as served, lists joined, maps and lists of records counted."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return f"{len(value)} entries"
    if isinstance(value, list):
        if any(isinstance(v, Mapping) for v in value):
            return f"{len(value)} entries"
        return report.shorten(", ".join(map(str, value)), WIDE)
    return report.shorten(str(value), WIDE)


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers (money is text) by value, lists and maps by size, the rest as text."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float | Decimal):
        return (0, Decimal(value))
    if isinstance(value, Mapping | list):
        return (0, Decimal(len(value)))
    if isinstance(value, str):
        try:
            return (0, Decimal(value))
        except InvalidOperation:
            return (1, value.lower())
    return (2, "")


def sorted_items(items: Sequence[Item], field: str) -> list[Item]:
    """Items sorted by ``field`` (``-field``: largest first); an unknown field is an error."""
    descending = field.startswith("-")
    name = field.lstrip("-")
    if items and all(name not in i for i in items):
        fields = ", ".join(items[0])
        raise ValueError(f"no field {name!r} to sort by; fields: {fields}")
    return sorted(items, key=lambda i: sort_key(i.get(name)), reverse=descending)


def item_table(view: str, items: Sequence[Item], names: Mapping[str, str]) -> list[str]:
    """Every item as one aligned row; member ids get their display names."""
    if not items:
        return ["  (no items)"]
    fields = list(items[0])
    header = list(fields)
    if view == "member-activity":
        header.insert(1, "partner")
    rows = []
    for i in items:
        row = [cell(i.get(f)) for f in fields]
        if view == "member-activity":
            row.insert(1, report.shorten(names.get(str(i[KEY_FIELD[view]]), ""), WIDE))
        rows.append(row)
    right = [
        bool(rows) and all(sort_key(r[c])[0] == 0 and r[c] != "" for r in rows) for c in range(len(header))
    ]
    return report.table(header, rows, right)


def find_suppliers(items: Sequence[Item], text: str) -> list[Item]:
    """Suppliers whose name or key contains ``text`` (any case), most shared first."""
    needle = text.casefold()
    found = [
        i for i in items if needle in str(i["name"]).casefold() or needle in str(i["supplier_key"]).casefold()
    ]
    return sorted(found, key=lambda i: (-len(i["members"]), str(i["name"]).casefold()))


def supplier_lines(items: Sequence[Item], names: Mapping[str, str]) -> list[str]:
    """Found suppliers: key, name, who depends on them (named) and how much."""
    lines: list[str] = []
    for i in items:
        lines.append(f"{i['name']}  [{i['supplier_key']}]")
        orders, contracts = report.pounds(i["order_total"]), report.pounds(i["live_contract_value"])
        lines.append(
            f"  orders {orders}, live contracts {contracts}, {len(i['members'])} partners, "
            f"categories: {', '.join(i['categories'])}"
        )
        lines += [f"    {named(m, names)}" for m in i["members"]]
    return lines


def summary(views: Mapping[str, Sequence[Item]], as_of: date, names: Mapping[str, str]) -> list[str]:
    """Where partners can buy together within a year, and which suppliers many partners depend on."""
    pipeline = views["contract-pipeline"]
    lines = [f"BlueLight national views: summary as of {as_of.isoformat()}"]
    lines += report.contract_pipeline(pipeline, as_of)
    chances = [i for i in pipeline if len(i["collaboration"]) >= 2]
    chances.sort(key=lambda i: (-len(i["collaboration"]), i["category"]))
    if chances:
        lines += report.heading("Who could buy together (contracts ending within 12 months)")
        for i in chances[: report.TOP]:
            lines.append(f"  {i['name']} ({i['category']}):")
            lines += [f"    {named(m, names)}" for m in i["collaboration"]]
    lines += report.supplier_exposure(views["supplier-exposure"])
    lines += report.category_spend(views["category-spend"])
    return lines
