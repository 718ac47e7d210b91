"""View items as Avro records (schemas/avro/view/<view>/v1.avsc) and back.

The JSON item is the reference shape; the Avro record carries the same fields with Avro
types: money and prices as decimals, dates as dates, ``last_event_at`` as timestamp-millis.
``item_of(view, record)`` inverts ``record_of`` exactly, which a unit test checks, so a
subscriber of a view topic sees what the HTTP API serves.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.views.contract_pipeline import BUCKETS
from streams.views.render import money, price, timestamp


def schema_name(view: str) -> str:
    """The catalogue name of a view's record schema."""
    return f"view/{view}"


def record_of(view: str, item: dict[str, Any], as_of: date | None = None) -> dict[str, Any]:
    """The Avro record of a view item (``as_of`` for contract-pipeline)."""
    if view == "category-spend":
        return {
            **item,
            "total_net": Decimal(item["total_net"]),
            "by_month": {k: Decimal(v) for k, v in item["by_month"].items()},
            "by_member": {k: Decimal(v) for k, v in item["by_member"].items()},
        }
    if view == "supplier-exposure":
        return {
            **item,
            "order_total": Decimal(item["order_total"]),
            "live_contract_value": Decimal(item["live_contract_value"]),
        }
    if view == "contract-pipeline":
        if as_of is None:
            raise ValueError("a contract-pipeline record needs its as_of date")
        return {
            **item,
            "as_of": as_of,
            "contracts": [
                {
                    **c,
                    "end_date": date.fromisoformat(c["end_date"]),
                    "max_extent_date": _date_or_none(c["max_extent_date"]),
                    "value": Decimal(c["value"]),
                }
                for c in item["contracts"]
            ],
            "live_value": Decimal(item["live_value"]),
            "expiring": {k: {"count": b["count"], "value": Decimal(b["value"])} for k, b in _buckets(item)},
        }
    if view == "price-benchmark":
        return {
            **item,
            "min": Decimal(item["min"]),
            "max": Decimal(item["max"]),
            "median": Decimal(item["median"]),
            "by_member": {
                m: {"count": s["count"], "min": Decimal(s["min"]), "max": Decimal(s["max"])}
                for m, s in item["by_member"].items()
            },
        }
    if view == "member-activity":
        last = item["last_event_at"]
        return {**item, "last_event_at": datetime.fromisoformat(last) if last else None}
    if view in SPLIT_VIEWS:
        return _amounts(item, Decimal)
    raise KeyError(f"unknown view {view!r}")


def item_of(view: str, record: dict[str, Any]) -> dict[str, Any]:
    """The JSON item of a decoded Avro view record (``as_of`` is dropped from pipeline items)."""
    if view == "category-spend":
        return {
            **record,
            "total_net": money(record["total_net"]),
            "by_month": {k: money(v) for k, v in sorted(record["by_month"].items())},
            "by_member": {k: money(v) for k, v in sorted(record["by_member"].items())},
        }
    if view == "supplier-exposure":
        return {
            **record,
            "order_total": money(record["order_total"]),
            "live_contract_value": money(record["live_contract_value"]),
            "category_share": dict(sorted(record["category_share"].items())),
            "alternatives": dict(sorted(record["alternatives"].items())),
        }
    if view == "contract-pipeline":
        out = {k: v for k, v in record.items() if k != "as_of"}
        return {
            **out,
            "contracts": [
                {
                    **c,
                    "end_date": c["end_date"].isoformat(),
                    "max_extent_date": c["max_extent_date"].isoformat() if c["max_extent_date"] else None,
                    "value": money(c["value"]),
                }
                for c in record["contracts"]
            ],
            "live_value": money(record["live_value"]),
            "expiring": {k: {"count": b["count"], "value": money(b["value"])} for k, b in _buckets(record)},
        }
    if view == "price-benchmark":
        return {
            **record,
            "min": price(record["min"]),
            "max": price(record["max"]),
            "median": price(record["median"]),
            "by_member": {
                m: {"count": s["count"], "min": price(s["min"]), "max": price(s["max"])}
                for m, s in sorted(record["by_member"].items())
            },
        }
    if view == "member-activity":
        last = record["last_event_at"]
        return {**record, "last_event_at": timestamp(last) if last else None}
    if view in SPLIT_VIEWS:
        return _amounts(record, money)
    raise KeyError(f"unknown view {view!r}")


SPLIT_VIEWS = ("supplier-diversity", "contract-coverage")  # amounts, maps of amounts, by_member


def _amounts(obj: dict[str, Any], convert: Any) -> dict[str, Any]:
    """supplier-diversity and contract-coverage: every amount converted, maps in key order."""
    out: dict[str, Any] = {}
    for name, value in obj.items():
        if name in ("category", "name"):
            out[name] = value
        elif name == "by_member":
            out[name] = {m: {f: convert(v) for f, v in fs.items()} for m, fs in sorted(value.items())}
        elif isinstance(value, dict):
            out[name] = {k: convert(v) for k, v in sorted(value.items())}
        else:
            out[name] = convert(value)
    return out


def _date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _buckets(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The expiry buckets in their fixed order."""
    return [(name, obj["expiring"][name]) for name in BUCKETS]
