"""`bluelight views get --table --sort`, `views summary` and `views find-supplier` against an HTTP
server that answers with the worker's own page functions over a filled ViewIndex."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from aiohttp import web
from click.testing import CliRunner

from bluelight.cli import cli
from streams.views.export import view_reply
from streams.views.index import ViewIndex
from streams.views_text import find_suppliers, sort_key, sorted_items
from tests.views_filled import filled_index

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, ViewIndex]]:
    index, _ = filled_index(seed=5, entities=200)

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "who are you"}, status=401)
        # small pages, so the client must follow next_cursor
        query = {"limit": "3", **request.query}
        reply = view_reply(index, request.match_info["view"], query, ready=True)
        return web.Response(text=reply.text, status=reply.status, content_type="application/json")

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/views/{view}", handle)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}", index
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def run(http: str, *args: str, token: str = TOKEN) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--http", http, "views", *args], env={"BLUELIGHT_TOKEN": token})
    return result.exit_code, result.output


def test_get_follows_the_pages_and_sorts(served: tuple[str, ViewIndex]) -> None:
    http, index = served
    code, out = run(http, "get", "category-spend", "--sort", "-total_net")
    assert code == 0, out
    items = json.loads(out)["items"]
    assert len(items) == len(index.keys("category-spend")) > 3  # more than one page
    totals = [Decimal(i["total_net"]) for i in items]
    assert totals == sorted(totals, reverse=True)


def test_get_as_a_table_has_a_row_per_item_with_partner_names(served: tuple[str, ViewIndex]) -> None:
    http, index = served
    code, out = run(http, "get", "member-activity", "--table", "--sort", "member_id")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["member_id", "partner"]
    assert len(lines) == 1 + len(index.keys("member-activity"))
    assert "kent-police" in out and "Kent Police" in out  # names from the shipped topology
    code, out = run(http, "get", "supplier-exposure", "--table", "--sort", "nope")
    assert code == 2 and "no field 'nope'" in out


def test_without_the_token_the_cli_says_what_to_set(served: tuple[str, ViewIndex]) -> None:
    http, _ = served
    code, out = run(http, "get", "category-spend", token="wrong")
    assert code == 1 and "401" in out and "BLUELIGHT_TOKEN" in out


def test_summary_names_who_could_buy_together_and_the_shared_suppliers(served: tuple[str, ViewIndex]) -> None:
    http, index = served
    code, out = run(http, "summary", "--as-of", "2026-06-01")
    assert code == 0, out
    assert "summary as of 2026-06-01" in out
    pipeline = index.items("contract-pipeline", date(2026, 6, 1))
    together = [i for i in pipeline if len(i["collaboration"]) >= 2]
    assert together, "the generated contracts must give a collaboration chance"
    assert f"Collaboration opportunities: {len(together)} categories" in out
    assert re.search(r"Kent Police \(kent-police\)|Essex Police \(essex-police\)", out)
    assert "Supplier exposure" in out and "Category spend" in out


def test_find_supplier_by_part_of_its_name(served: tuple[str, ViewIndex]) -> None:
    http, index = served
    code, out = run(http, "find-supplier", "ARMOUR")
    assert code == 0, out
    assert out.splitlines()[0] == "Bodyguard, Armour & Co  [VAT:GB123456789]"
    code, out = run(http, "find-supplier", "no such supplier")
    assert code == 1 and "no supplier" in out
    items = index.items("supplier-exposure", date.today())
    assert [i["supplier_key"] for i in find_suppliers(items, "supplier 1")] == sorted(
        (i["supplier_key"] for i in items if "supplier 1" in i["name"].lower()),
        key=lambda k: (
            -len(next(i for i in items if i["supplier_key"] == k)["members"]),
            next(i for i in items if i["supplier_key"] == k)["name"].lower(),
        ),
    )


def test_sorting_reads_money_as_numbers() -> None:
    rows = [{"v": "10.00"}, {"v": "9.50"}, {"v": "-1.00"}]
    assert [r["v"] for r in sorted_items(rows, "v")] == ["-1.00", "9.50", "10.00"]
    assert sort_key(["a", "b"]) < sort_key(["a", "b", "c"])
