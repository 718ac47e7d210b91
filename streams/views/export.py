"""What clients of the views get besides the plain JSON: pages, a member filter, CSV, the list.

Pure functions over the read interface every worker serves from (``keys(view)``,
``item(view, key, as_of)``, ``items(view, as_of)``), whatever keeps it current. The pages in
``streams/app.py`` only hand them the request's view name and query, and send back the
:class:`Reply`. docs/consumers.md says what each parameter does and how CSV is flattened.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from streams.web import today
from topologies.naming import VIEWS, check_member_id, view_topic

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
KEY_FIELD: dict[str, str] = {
    "category-spend": "category",
    "supplier-exposure": "supplier_key",
    "contract-pipeline": "category",
    "price-benchmark": "key",
    "member-activity": "member_id",
    "supplier-diversity": "category",
    "contract-coverage": "category",
}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

Item = dict[str, Any]


class ReadModel(Protocol):
    """The views as a worker holds them (``streams.views.index.ViewIndex`` is one)."""

    def newest_alerts(self, limit: int = 1000) -> list[Item]:
        """The national supplier alerts, newest first."""
        ...

    def keys(self, view: str) -> list[str]:
        """The keys of a view with an item, sorted."""
        ...

    def item(self, view: str, key: str, as_of: date) -> Item | None:
        """One item (``as_of`` matters to contract-pipeline only)."""
        ...

    def items(self, view: str, as_of: date) -> list[Item]:
        """Every item of a view, sorted by key."""
        ...


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, body text, content type and extra headers."""

    status: int
    text: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, body: Mapping[str, Any], headers: dict[str, str] | None = None) -> Reply:
    """A JSON reply, fields in the order built."""
    return Reply(status, json.dumps(body, ensure_ascii=False), "application/json", headers or {})


def error(status: int, message: str) -> Reply:
    """``{"error": message}`` with ``status``."""
    return json_reply(status, {"error": message})


# -- the request -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a client asked of one view."""

    as_of: date
    limit: int
    after: str | None  # the last key of the previous page
    member: str | None


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message says how to fix it."""


def encode_cursor(key: str) -> str:
    """The opaque cursor of the page that starts after ``key`` (URL-safe, no padding)."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key a cursor stands for."""
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadQuery(f"cursor={cursor!r} is not one this API gave out; pass next_cursor as is") from None


def parse_query(query: Mapping[str, str], default_limit: int = DEFAULT_LIMIT) -> Query:
    """``as_of``, ``limit``, ``cursor`` and ``member`` from a request's query string."""
    raw_as_of = query.get("as_of") or ""
    try:
        as_of = date.fromisoformat(raw_as_of) if raw_as_of else today()
    except ValueError:
        raise BadQuery(f"as_of={raw_as_of!r} is not a date: use YYYY-MM-DD (e.g. 2027-01-01)") from None
    raw_limit = query.get("limit") or ""
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadQuery(f"limit={raw_limit!r}: use a whole number from 1 to {MAX_LIMIT}")
        limit = int(raw_limit)
    else:
        limit = default_limit
    cursor = query.get("cursor") or None
    member = query.get("member") or None
    if member is not None:
        try:
            check_member_id(member)
        except ValueError as exc:
            raise BadQuery(f"member={member!r}: {exc}") from None
    return Query(as_of, limit, decode_cursor(cursor) if cursor else None, member)


# -- selecting items ---------------------------------------------------------------------------------


def involves(view: str, item: Item, member: str) -> bool:
    """Whether ``member`` takes part in an item (its figures are left whole: national totals)."""
    if view in ("category-spend", "price-benchmark", "supplier-diversity", "contract-coverage"):
        return member in item.get("by_member", {})
    if view == "supplier-exposure":
        return member in item.get("members", [])
    if view == "contract-pipeline":
        return any(c.get("member_id") == member for c in item.get("contracts", []))
    if view == "member-activity":
        return bool(item.get("member_id") == member)
    return False


@dataclass(frozen=True)
class Page:
    """One page of a view: its items and the cursor of the next page (None on the last)."""

    items: list[Item]
    next_cursor: str | None


def page(model: ReadModel, view: str, q: Query) -> Page:
    """Up to ``q.limit`` items after ``q.after``, of ``q.member`` only when given, in key order."""
    keys = model.keys(view)
    start = 0
    if q.after is not None:
        start = _first_after(keys, q.after)
    out: list[Item] = []
    last_key = ""
    for key in keys[start:]:
        item = model.item(view, key, q.as_of)
        if item is None or (q.member is not None and not involves(view, item, q.member)):
            continue
        if len(out) == q.limit:  # one more matching item exists: there is a next page
            return Page(out, encode_cursor(last_key))
        out.append(item)
        last_key = key
    return Page(out, None)


def _first_after(keys: Sequence[str], after: str) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] <= after:
            lo = mid + 1
        else:
            hi = mid
    return lo


def data_as_of(model: ReadModel, as_of: date) -> str | None:
    """The newest event the views have applied: the latest ``last_event_at`` of any member."""
    stamps = [i["last_event_at"] for i in model.items("member-activity", as_of) if i.get("last_event_at")]
    return max(stamps) if stamps else None


# -- answers -------------------------------------------------------------------------------------------


def _checked(view: str, ready: bool) -> Reply | None:
    if view not in VIEWS:
        return error(404, f"no view {view!r}; views: {', '.join(VIEWS)} (GET /views lists them)")
    if not ready:
        return error(503, "the views are being rebuilt from the changelogs; try again shortly")
    return None


def view_reply(model: ReadModel, view: str, query: Mapping[str, str], ready: bool) -> Reply:
    """``GET /views/<view>`` (JSON) or ``GET /views/<view>.csv``: a page of items."""
    as_csv = view.endswith(".csv")
    name = view.removesuffix(".csv")
    problem = _checked(name, ready)
    if problem is not None:
        return problem
    try:
        q = parse_query(query)
    except BadQuery as exc:
        return error(400, str(exc))
    got = page(model, name, q)
    stamp = data_as_of(model, q.as_of)
    headers = {"X-Data-As-Of": stamp or ""}
    if got.next_cursor is not None:
        headers["X-Next-Cursor"] = got.next_cursor
    if as_csv:
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return Reply(200, csv_text(name, got.items), "text/csv", headers)
    body: dict[str, Any] = {"view": name}
    if name == "contract-pipeline":
        body["as_of"] = q.as_of.isoformat()
    if q.member is not None:
        body["member"] = q.member
    body["data_as_of"] = stamp
    body["items"] = got.items
    body["next_cursor"] = got.next_cursor
    return json_reply(200, body, headers)


def item_reply(model: ReadModel, view: str, key: str, query: Mapping[str, str], ready: bool) -> Reply:
    """``GET /views/<view>/<key>``: the item, or 404."""
    problem = _checked(view, ready)
    if problem is not None:
        return problem
    try:
        q = parse_query(query)
    except BadQuery as exc:
        return error(400, str(exc))
    item = model.item(view, key, q.as_of)
    if item is None:
        return error(404, f"{view} has no item {key!r}")
    return json_reply(200, item)


def views_reply(model: ReadModel, ready: bool, visible: Sequence[str] = VIEWS) -> Reply:
    """``GET /views``: every view (that the reader may see) with its key field, size and links."""
    if not ready:
        return error(503, "the views are being rebuilt from the changelogs; try again shortly")
    as_of = today()
    listed = [
        {
            "view": view,
            "key_field": KEY_FIELD[view],
            "items": len(model.keys(view)),
            "json": f"/views/{view}",
            "csv": f"/views/{view}.csv",
            "topic": view_topic(view),
        }
        for view in VIEWS
        if view in visible
    ]
    return json_reply(200, {"data_as_of": data_as_of(model, as_of), "views": listed})


# -- CSV -----------------------------------------------------------------------------------------------


def flatten(item: Mapping[str, Any]) -> dict[str, str]:
    """One CSV row of an item, with the JSON's figures exactly.

    Nested objects become ``a.b`` columns, lists of values are joined with ``"; "``, lists of
    objects are JSON text, null is an empty cell.
    """
    row: dict[str, str] = {}
    for name, value in item.items():
        _flatten_into(row, name, value)
    return row


def _flatten_into(row: dict[str, str], path: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for k in value:  # in the item's order: maps come sorted, records in schema order
            _flatten_into(row, f"{path}.{k}", value[k])
    elif isinstance(value, list):
        if any(isinstance(v, Mapping | list) for v in value):
            row[path] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            row[path] = "; ".join("" if v is None else str(v) for v in value)
    elif value is None:
        row[path] = ""
    elif isinstance(value, bool):
        row[path] = "true" if value else "false"
    else:
        row[path] = str(value)


def safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (numbers are left alone)."""
    if text and text[0] in "=+-@\t\r" and not _NUMBER.match(text):
        return "'" + text
    return text


def columns(view: str, rows: Sequence[Mapping[str, str]]) -> list[str]:
    """Every column of the rows: the key first, then each field's columns in item order."""
    order: dict[str, tuple[int, str]] = {}
    top: dict[str, int] = {KEY_FIELD[view]: -1}
    for row in rows:
        for name in row:
            if name in order:
                continue
            head = name.split(".", 1)[0]
            top.setdefault(head, len(top))
            order[name] = (top[head], name)
    return sorted(order, key=lambda n: order[n])


def csv_text(view: str, items: Sequence[Item]) -> str:
    """The items as CSV (RFC 4180, a header row, CRLF line ends)."""
    rows = [flatten(i) for i in items]
    header = columns(view, rows) if rows else [KEY_FIELD[view]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(row.get(c, "")) for c in header])
    return out.getvalue()
