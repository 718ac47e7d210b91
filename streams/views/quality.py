"""Data quality per partner, derived from the views at read time (issue 12).

What a partner can fix in its own feed: how much of its spend the hub could not place in a
national category, how many of its suppliers it identifies by name only (no Companies House,
VAT or DUNS number, so they cannot be matched across partners), how many lack a Companies
House or VAT number, and how old its newest event is. Everything here is already in the views
(category-spend, supplier-exposure, member-activity), so it is computed from the read model
when asked, on any worker, rather than kept as another topic.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.views.export import ReadModel

UNCLASSIFIED = "unclassified"


def _share(part: Decimal | int, whole: Decimal | int) -> str | None:
    return f"{Decimal(part) / Decimal(whole):.4f}" if whole else None


def data_quality(model: ReadModel, as_of: date, now: datetime) -> list[dict[str, Any]]:
    """One item per partner in member-activity, sorted by member id."""
    spend: dict[str, Decimal] = {}
    unplaced: dict[str, Decimal] = {}
    for item in model.items("category-spend", as_of):
        for member, total in item["by_member"].items():
            spend[member] = spend.get(member, Decimal(0)) + Decimal(total)
            if item["category"] == UNCLASSIFIED:
                unplaced[member] = unplaced.get(member, Decimal(0)) + Decimal(total)
    keys: dict[str, Counter[str]] = {}
    for item in model.items("supplier-exposure", as_of):
        kind = item["supplier_key"].split(":", 1)[0]
        for member in item["members"]:
            keys.setdefault(member, Counter())[kind] += 1
    out = []
    for activity in model.items("member-activity", as_of):
        member = activity["member_id"]
        kinds = keys.get(member, Counter())
        suppliers = sum(kinds.values())
        newest = activity.get("last_event_at")
        age = (now - _instant(newest)).total_seconds() if newest else None
        total, unclassified = spend.get(member, Decimal(0)), unplaced.get(member, Decimal(0))
        out.append(
            {
                "member_id": member,
                "spend_net": f"{total:.2f}",
                "unclassified_net": f"{unclassified:.2f}",
                "unclassified_share": _share(unclassified, total),
                "suppliers": suppliers,
                "suppliers_by_key": dict(sorted(kinds.items())),
                "name_only_share": _share(kinds["NAME"], suppliers),
                "without_ch_or_vat_share": _share(suppliers - kinds["CH"] - kinds["VAT"], suppliers),
                "last_event_at": newest,
                "feed_age_seconds": int(age) if age is not None else None,
            }
        )
    return out


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
