"""Pages, the member filter, CSV, the view list and the OpenAPI description, over a filled ViewIndex."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

import pytest

from streams.views.export import (
    KEY_FIELD,
    csv_text,
    decode_cursor,
    encode_cursor,
    involves,
    view_reply,
    views_reply,
)
from streams.views.index import ViewIndex
from streams.views.openapi import item_schema, openapi
from tests.views_filled import MEMBERS, filled_index
from topologies.naming import VIEWS

AS_OF = "2026-06-01"


@pytest.fixture(scope="module")
def filled() -> tuple[ViewIndex, Any]:
    return filled_index(seed=3, entities=300)


def get(index: ViewIndex, view: str, **query: str) -> tuple[int, Any, dict[str, str]]:
    reply = view_reply(index, view, {"as_of": AS_OF, **query}, ready=True)
    body = json.loads(reply.text) if reply.content_type == "application/json" else reply.text
    return reply.status, body, reply.headers


@pytest.mark.parametrize("view", VIEWS)
def test_pages_walked_with_the_cursor_are_the_whole_view(filled: tuple[ViewIndex, Any], view: str) -> None:
    index, _ = filled
    whole = index.items(view, date.fromisoformat(AS_OF))
    assert len(whole) >= 5
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(len(whole) + 1):
        status, body, headers = get(index, view, limit="2", **({"cursor": cursor} if cursor else {}))
        assert status == 200 and len(body["items"]) <= 2
        seen += body["items"]
        cursor = body["next_cursor"]
        assert headers.get("X-Next-Cursor") == cursor if cursor else "X-Next-Cursor" not in headers
        if cursor is None:
            break
    assert seen == whole
    _, everything, _ = get(index, view)  # the default page holds the whole of a small view
    assert everything["items"] == whole and everything["next_cursor"] is None


def test_a_cursor_is_the_key_it_follows_and_a_bad_one_is_refused() -> None:
    assert decode_cursor(encode_cursor("CPV:1|EA/x y")) == "CPV:1|EA/x y"
    index, _ = filled_index(seed=1, entities=10)
    status, body, _ = get(index, "category-spend", cursor="!!!")
    assert status == 400 and "next_cursor" in body["error"]
    for limit in ("0", "-1", "x", "10001"):
        status, body, _ = get(index, "category-spend", limit=limit)
        assert status == 400 and "limit" in body["error"], limit


@pytest.mark.parametrize("view", VIEWS)
def test_the_member_filter_keeps_the_items_a_member_takes_part_in(
    filled: tuple[ViewIndex, Any], view: str
) -> None:
    index, _ = filled
    whole = index.items(view, date.fromisoformat(AS_OF))
    member = MEMBERS[1]
    status, body, _ = get(index, view, member=member)
    assert status == 200 and body["member"] == member

    # said again independently of involves(): where each view names its members
    def named(item: dict[str, Any]) -> set[str]:
        if view == "supplier-exposure":
            return set(item["members"])
        if view == "contract-pipeline":
            return {c["member_id"] for c in item["contracts"]}
        if view == "member-activity":
            return {item["member_id"]}
        return set(item["by_member"])

    assert body["items"] == [i for i in whole if member in named(i)]
    assert 0 < len(body["items"]) < len(whole) or view != "member-activity"
    assert all(involves(view, i, member) for i in body["items"])
    assert get(index, view, member="Not A Member")[0] == 400


def leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    """(column, value) for every figure of an item, following the documented flattening."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in leaves(v, f"{path}.{k}")]
    return [(path, value)]


@pytest.mark.parametrize("view", VIEWS)
def test_the_csv_has_the_same_figures_as_the_json(filled: tuple[ViewIndex, Any], view: str) -> None:
    index, _ = filled
    status, body, _ = get(index, view)
    status_csv, text, headers = get(index, view + ".csv")
    assert status == status_csv == 200 and "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",")[0] == KEY_FIELD[view]
    assert len(rows) == len(body["items"])
    for item, row in zip(body["items"], rows, strict=True):
        assert row[KEY_FIELD[view]] == item[KEY_FIELD[view]]
        for name, value in item.items():
            for column, leaf in leaves(value, name):
                cell = row[column]
                if isinstance(leaf, list) and leaf and isinstance(leaf[0], dict):
                    assert json.loads(cell) == leaf
                elif isinstance(leaf, list):
                    assert cell == "; ".join(leaf)
                elif leaf is None:
                    assert cell == ""
                elif isinstance(leaf, str) and leaf[:1] in "=+@":
                    assert cell == "'" + leaf  # not a formula in a spreadsheet
                else:
                    assert cell == str(leaf), (column, cell, leaf)
        assert set(row) == {c for n, v in item.items() for c, _ in leaves(v, n)} | (set(row) - set(item))


def test_a_hostile_name_is_not_a_formula_and_negative_money_stays_a_number() -> None:
    text = csv_text("supplier-exposure", [{"supplier_key": "NAME:x", "name": "=1+2", "order_total": "-3.50"}])
    assert text.splitlines()[1] == "NAME:x,'=1+2,-3.50"


def test_data_as_of_is_the_newest_event_and_views_lists_every_view(filled: tuple[ViewIndex, Any]) -> None:
    index, newest = filled
    _, body, headers = get(index, "category-spend")
    stamp = newest.strftime("%Y-%m-%dT%H:%M:%S.") + f"{newest.microsecond // 1000:03d}Z"
    assert body["data_as_of"] == stamp == headers["X-Data-As-Of"]
    listed = json.loads(views_reply(index, ready=True).text)
    assert [v["view"] for v in listed["views"]] == list(VIEWS)
    assert all(v["items"] == len(index.keys(v["view"])) for v in listed["views"])
    assert listed["data_as_of"] == stamp
    assert json.loads(view_reply(ViewIndex(), "category-spend", {}, True).text)["data_as_of"] is None


def test_errors_say_what_to_do() -> None:
    index = ViewIndex()
    assert view_reply(index, "nope", {}, True).status == 404
    assert view_reply(index, "nope.csv", {}, True).status == 404
    assert "YYYY-MM-DD" in view_reply(index, "contract-pipeline", {"as_of": "1/2/2026"}, True).text
    assert view_reply(index, "category-spend", {}, ready=False).status == 503
    assert views_reply(index, ready=False).status == 503


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """A small JSON Schema check: the subset the description uses."""
    if "anyOf" in schema:
        return any(conforms(value, s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(value, dict):
            return False
        if props is not None:
            return set(value) == set(props) and all(conforms(value[k], props[k]) for k in value)
        return all(conforms(v, schema["additionalProperties"]) for v in value.values())
    if kind == "array":
        return isinstance(value, list) and all(conforms(v, schema["items"]) for v in value)
    if kind == "string":
        return isinstance(value, str) and re.match(schema.get("pattern", ""), value) is not None
    if kind == "integer":
        return isinstance(value, int)
    if kind == "null":
        return value is None
    return False


@pytest.mark.parametrize("view", VIEWS)
def test_the_openapi_item_schemas_describe_the_served_items(filled: tuple[ViewIndex, Any], view: str) -> None:
    index, _ = filled
    schema = item_schema(view)
    for item in index.items(view, date.fromisoformat(AS_OF)):
        assert conforms(item, schema), (view, item)
    spec = openapi()
    assert set(spec["components"]["schemas"]) >= set(VIEWS)
    assert "/views/{view}.csv" in spec["paths"] and spec["paths"]["/health"]["get"]["security"] == []
    json.dumps(spec)  # serialisable as served
