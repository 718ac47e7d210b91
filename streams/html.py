"""Pages for people: the national overview, a category, a supplier, a partner, and search.

Server-rendered HTML over the same read model the JSON pages answer from (every worker holds
every view), so any worker serves every page. Pure functions turn the views into HTML; nothing
is fetched from outside (no CDN, no web fonts: the pages work on a machine with no internet).
Every chart is an inline SVG with a table beside it holding the same numbers. A page refreshes
its own content every 10 s without a reload (a few lines of script swap in ``<main>``).
Everything a partner sent is escaped: supplier names are hostile input.

Who may see what (docs/consumers.md, "Pages"): a national token every page; a member token
its own partner page; a subscriber token the pages built from the national views (overview,
category, supplier, search). A browser opens a session with ``/login`` (the token is kept in
an HttpOnly cookie); scripts send ``Authorization: Bearer``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any
from urllib.parse import quote

import faust
from faust.web import Request, Response, View

from streams.categories import map_classification
from streams.pages import ReplyCache
from streams.views.export import ReadModel, Reply, json_reply
from streams.views.quality import data_quality
from streams.web import today
from topologies.readers import Access, decide, identify

Item = dict[str, Any]
COOKIE = "bluelight_token"
REFRESH_MS = 10_000
TOP = 10  # rows in each overview table


# -- pure rendering -----------------------------------------------------------------------------


def money(value: str | Decimal | None) -> str:
    """£1,234 (whole pounds: the pages are for reading, the JSON and CSV keep the pence)."""
    if value in (None, ""):
        return "-"
    return f"£{Decimal(value):,.0f}"


def link(kind: str, key: str, text: str) -> str:
    """A link to a category, supplier or partner page."""
    return f'<a href="/{kind}/{quote(key, safe="")}">{escape(text)}</a>'


def csv_link(view: str) -> str:
    """The CSV of the view a table is drawn from (every row of the view, as the JSON has it)."""
    return f'<p class="csv"><a href="/views/{view}.csv">CSV of {escape(view)}</a></p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """An HTML table; cells are already HTML (escape text before passing it)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bars(values: Sequence[tuple[str, Decimal]], label: str) -> str:
    """An inline SVG bar chart of (label, value); the table beside it carries the numbers."""
    if not values:
        return ""
    top = max((v for _, v in values), default=Decimal(0)) or Decimal(1)
    width, gap, height = 28, 6, 120
    out = []
    for i, (name, value) in enumerate(values):
        h = int(height * value / top) if value > 0 else 0
        x = i * (width + gap)
        out.append(
            f'<rect x="{x}" y="{height - h}" width="{width}" height="{h}"><title>{escape(name)}: '
            f"{money(value)}</title></rect>"
        )
    total_width = len(values) * (width + gap)
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" width="{total_width}" '
        f'height="{height}" viewBox="0 0 {total_width} {height}">{"".join(out)}</svg>'
    )


def age(stamp: str | None, now: datetime) -> str:
    """How long ago an ISO time was, in words a person reads at a glance."""
    if not stamp:
        return "never"
    seconds = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def overview(model: ReadModel, as_of: date, now: datetime) -> str:
    """Spend by category and month, shared suppliers, contracts ending soon, partner freshness."""
    spend = sorted(model.items("category-spend", as_of), key=lambda i: -Decimal(i["total_net"]))
    months: dict[str, Decimal] = {}
    for item in spend:
        for month, total in item.get("by_month", {}).items():
            months[month] = months.get(month, Decimal(0)) + Decimal(total)
    by_month = sorted(months.items())[-12:]
    shared = sorted(
        model.items("supplier-exposure", as_of),
        key=lambda i: (-len(i["members"]), -Decimal(i["order_total"])),
    )
    pipeline = model.items("contract-pipeline", as_of)
    together = sorted(
        (i for i in pipeline if i.get("collaboration")),
        key=lambda i: (-len(i["collaboration"]), i["category"]),
    )
    ending = sorted(
        pipeline,
        key=lambda i: -(i["expiring"]["within_6m"]["count"] + i["expiring"]["6_to_12m"]["count"]),
    )
    activity = model.items("member-activity", as_of)
    return "".join(
        [
            "<h1>National overview</h1>",
            "<h2>Where several partners' contracts end within a year</h2>",
            "<p>A chance to aggregate demand: each row is a category where at least two partners' "
            "live contracts end in the next 12 months.</p>",
            table(
                ["category", "partners", "partners' contracts ending within 12 months"],
                (
                    [
                        link("category", i["category"], i["name"]),
                        str(len(i["collaboration"])),
                        ", ".join(link("partner", m, m) for m in i["collaboration"]),
                    ]
                    for i in together
                ),
            )
            if together
            else "<p>No category has two partners' contracts ending within a year.</p>",
            "<h2>Spend by month</h2>",
            '<div class="pair">',
            bars([(m, v) for m, v in by_month], "national spend by month"),
            table(["month", "spend"], ([escape(m), money(v)] for m, v in by_month)),
            "</div>",
            "<h2>Spend by category</h2>",
            csv_link("category-spend"),
            '<div class="pair">',
            bars([(i["name"], Decimal(i["total_net"])) for i in spend[:TOP]], "spend by category"),
            table(
                ["category", "spend", "orders", "suppliers", "partners"],
                (
                    [
                        link("category", i["category"], i["name"]),
                        money(i["total_net"]),
                        str(i["order_count"]),
                        str(i["supplier_count"]),
                        str(len(i["by_member"])),
                    ]
                    for i in spend
                ),
            ),
            "</div>",
            "<h2>Suppliers many partners depend on</h2>",
            csv_link("supplier-exposure"),
            table(
                ["supplier", "partners", "orders", "live contracts", "categories"],
                (
                    [
                        link("supplier", i["supplier_key"], i["name"]),
                        str(len(i["members"])),
                        money(i["order_total"]),
                        money(i["live_contract_value"]),
                        str(len(i["categories"])),
                    ]
                    for i in shared[:TOP]
                ),
            ),
            "<h2>Contracts ending soon</h2>",
            csv_link("contract-pipeline"),
            table(
                ["category", "ending in 6 months", "in 6-12 months", "in 12-24 months", "live value"],
                (
                    [
                        link("category", i["category"], i["name"]),
                        _bucket(i, "within_6m"),
                        _bucket(i, "6_to_12m"),
                        _bucket(i, "12_to_24m"),
                        money(i["live_value"]),
                    ]
                    for i in ending[:TOP]
                ),
            ),
            "<h2>Partners: how fresh is each feed</h2>",
            csv_link("member-activity"),
            table(
                ["partner", "newest event", "accepted", "rejected"],
                (
                    [
                        link("partner", i["member_id"], i["member_id"]),
                        age(i.get("last_event_at"), now),
                        str(i["accepted"]),
                        str(sum(i["rejected"].values())),
                    ]
                    for i in activity
                ),
            ),
        ]
    )


def _bucket(item: Item, bucket: str) -> str:
    got = item["expiring"][bucket]
    return f"{got['count']} ({money(got['value'])})" if got["count"] else "-"


def _share_of(supplier: Item, category: str) -> str:
    share = supplier.get("category_share", {}).get(category)
    return f"{(Decimal(share) * 100).quantize(Decimal('0.1'))}%" if share is not None else "-"


def _diversity_and_coverage(model: ReadModel, key: str, as_of: date) -> list[str]:
    """SME, VCSE, on-contract and framework shares of the category's spend."""
    diversity = model.item("supplier-diversity", key, as_of)
    coverage = model.item("contract-coverage", key, as_of)
    if diversity is None and coverage is None:
        return []
    rows = []
    if diversity is not None:
        rows += _amount_rows(
            diversity,
            (("with SMEs", "sme_net"), ("with VCSEs", "vcse_net"), ("SME status unknown", "sme_unknown_net")),
        )
    if coverage is not None:
        covered = (("on contract", "on_contract_net"), ("via a framework", "framework_net"))
        rows += _amount_rows(coverage, covered)
        whole = Decimal(coverage["total_net"])
        rows += [
            [f"framework {escape(ref)}", money(v), _share(Decimal(v), whole)]
            for ref, v in sorted(coverage["frameworks"].items(), key=lambda kv: -Decimal(kv[1]))
        ]
    return [
        "<h2>Small suppliers, social value, contracts</h2>",
        csv_link("supplier-diversity"),
        csv_link("contract-coverage"),
        table(["of this category's spend", "spend", "share"], rows),
    ]


def _amount_rows(item: Item, fields: tuple[tuple[str, str], ...]) -> list[list[str]]:
    whole = Decimal(item["total_net"])
    return [[label, money(item[f]), _share(Decimal(item[f]), whole)] for label, f in fields]


def category_page(model: ReadModel, key: str, as_of: date) -> str | None:
    """Spend by month, partner and supplier; contracts ending; None for an unknown category."""
    spend = model.item("category-spend", key, as_of)
    pipeline = model.item("contract-pipeline", key, as_of)
    if spend is None and pipeline is None:
        return None
    name = (spend or pipeline or {}).get("name", key)
    out = [f"<h1>{escape(name)}</h1>", f'<p class="key">{escape(key)}</p>']
    if spend is not None:
        months = sorted((m, Decimal(v)) for m, v in spend["by_month"].items())
        out += [
            f"<p>Spend {money(spend['total_net'])} on {spend['order_count']} orders with "
            f"{spend['supplier_count']} suppliers.</p>",
            "<h2>Spend by month</h2>",
            '<div class="pair">',
            bars(months, f"{name}: spend by month"),
            table(["month", "spend"], ([escape(m), money(v)] for m, v in months)),
            "</div>",
            "<h2>By partner</h2>",
            table(
                ["partner", "spend", "share"],
                (
                    [link("partner", m, m), money(v), _share(Decimal(v), Decimal(spend["total_net"]))]
                    for m, v in sorted(spend["by_member"].items(), key=lambda kv: -Decimal(kv[1]))
                ),
            ),
        ]
    suppliers = [i for i in model.items("supplier-exposure", as_of) if key in i["categories"]]
    suppliers.sort(key=lambda i: (-Decimal(i.get("category_share", {}).get(key, "0")), i["supplier_key"]))
    out += [
        "<h2>Suppliers in this category</h2>",
        "<p>Each supplier's share of this category's live order spend, and its orders and live "
        "contracts across all its categories.</p>",
        table(
            ["supplier", "share here", "partners", "orders (all categories)", "live contracts"],
            (
                [
                    link("supplier", i["supplier_key"], i["name"]),
                    _share_of(i, key),
                    str(len(i["members"])),
                    money(i["order_total"]),
                    money(i["live_contract_value"]),
                ]
                for i in suppliers
            ),
        ),
    ]
    out += _diversity_and_coverage(model, key, as_of)
    prices = [i for i in model.items("price-benchmark", as_of) if price_category(i["key"]) == key]
    prices.sort(key=lambda i: -Decimal(i["max"]) / max(Decimal(i["min"]), Decimal("0.0001")))
    if prices:
        out += [
            "<h2>Price spreads</h2>",
            csv_link("price-benchmark"),
            "<p>Unit prices partners paid for the same item (same code and unit) in this category; "
            "the spread is the dearest over the cheapest.</p>",
            table(
                ["item", "lines", "partners", "cheapest", "median", "dearest", "spread"],
                (
                    [
                        escape(i["key"]),
                        str(i["count"]),
                        str(len(i["by_member"])),
                        escape(i["min"]),
                        escape(i["median"]),
                        escape(i["max"]),
                        _spread(i["min"], i["max"]),
                    ]
                    for i in prices
                ),
            ),
        ]
    if pipeline is not None:
        out += [
            "<h2>Contracts</h2>",
            table(
                ["ending in 6 months", "in 6-12 months", "in 12-24 months", "past end, still live"],
                [[_bucket(pipeline, b) for b in ("within_6m", "6_to_12m", "12_to_24m", "past_end")]],
            ),
            table(
                ["partner", "contract", "supplier", "ends", "value"],
                (
                    [
                        link("partner", c["member_id"], c["member_id"]),
                        escape(c["entity_id"]),
                        link("supplier", c["supplier_key"], c["supplier_key"]),
                        escape(c["end_date"]),
                        money(c["value"]),
                    ]
                    for c in pipeline["contracts"]
                ),
            ),
        ]
    return "".join(out)


@functools.lru_cache(maxsize=65_536)
def price_category(key: str) -> str:
    """The national category of a price-benchmark key (``CPV:33735100|EA``)."""
    scheme, _, code = key.split("|", 1)[0].partition(":")
    return map_classification(scheme, code).category


def _spread(low: str, high: str) -> str:
    return f"{Decimal(high) / Decimal(low):.2f}x" if Decimal(low) > 0 else "-"


def _share(part: Decimal, whole: Decimal) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def supplier_page(model: ReadModel, key: str, as_of: date) -> str | None:
    """Who is exposed, live contracts, alternatives in the same categories; None if unknown."""
    item = model.item("supplier-exposure", key, as_of)
    if item is None:
        return None
    contracts = [
        (p["category"], p["name"], c)
        for p in model.items("contract-pipeline", as_of)
        for c in p["contracts"]
        if c["supplier_key"] == key
    ]
    others = [
        i
        for i in model.items("supplier-exposure", as_of)
        if i["supplier_key"] != key and set(i["categories"]) & set(item["categories"])
    ]
    others.sort(key=lambda i: (-Decimal(i["order_total"]), i["supplier_key"]))
    return "".join(
        [
            f"<h1>{escape(item['name'])}</h1>",
            f'<p class="key">{escape(key)}</p>',
            f"<p>Orders {money(item['order_total'])}, "
            f"live contracts {money(item['live_contract_value'])}.</p>",
            "<h2>Partners exposed</h2>",
            "<p>" + ", ".join(link("partner", m, m) for m in item["members"]) + "</p>",
            "<h2>Categories</h2>",
            "<p>" + ", ".join(link("category", c, c) for c in item["categories"]) + "</p>",
            "<h2>Live contracts</h2>",
            table(
                ["partner", "contract", "category", "ends", "value"],
                (
                    [
                        link("partner", c["member_id"], c["member_id"]),
                        escape(c["entity_id"]),
                        link("category", cat, name),
                        escape(c["end_date"]),
                        money(c["value"]),
                    ]
                    for cat, name, c in contracts
                ),
            ),
            "<h2>Alternatives in the same categories</h2>",
            table(
                ["supplier", "partners", "orders", "categories shared"],
                (
                    [
                        link("supplier", i["supplier_key"], i["name"]),
                        str(len(i["members"])),
                        money(i["order_total"]),
                        escape(", ".join(sorted(set(i["categories"]) & set(item["categories"])))),
                    ]
                    for i in others[:TOP]
                ),
            ),
        ]
    )


def partner_page(
    model: ReadModel, member: str, as_of: date, now: datetime, letters: list[Item] | None = None
) -> str | None:
    """What a partner sent, its latest rejects, how much of its spend the hub could place."""
    item = model.item("member-activity", member, as_of)
    if item is None:
        return None
    quality = next((q for q in data_quality(model, as_of, now) if q["member_id"] == member), None)
    rejected = sorted(item["rejected"].items())
    return "".join(
        [
            f"<h1>{escape(member)}</h1>",
            f"<p>Newest event {age(item.get('last_event_at'), now)}.</p>",
            "<h2>What it sent</h2>",
            table(
                ["accepted", "duplicates", "rejected"],
                [[str(item["accepted"]), str(item["duplicates"]), str(sum(n for _, n in rejected))]],
            ),
            table(["rejected as", "records"], ([escape(k), str(n)] for k, n in rejected))
            if rejected
            else "",
            "<h2>Latest dead letters</h2>",
            _letters_table(letters or []),
            f"<p>All of them, with the events, to fix and send again: <code>bluelight rejects --member "
            f"{escape(member)}</code>.</p>",
            "<h2>Data quality</h2>",
            _quality_table(quality) if quality else "",
        ]
    )


def _letters_table(letters: list[Item]) -> str:
    if not letters:
        return "<p>None read.</p>"
    return table(
        ["rejected at", "kind", "field", "reason", "original record"],
        (
            [escape(d["at"]), escape(d["kind"]), escape(d["field"]), escape(d["reason"]), escape(d["origin"])]
            for d in letters
        ),
    )


def _percent(share: str | None) -> str:
    return f"{100 * Decimal(share):.1f}%" if share is not None else "-"


def _quality_table(q: Item) -> str:
    return table(
        ["spend", "unclassified", "suppliers", "known by name only", "without a CH or VAT number"],
        [
            [
                money(q["spend_net"]),
                f"{money(q['unclassified_net'])} ({_percent(q['unclassified_share'])})",
                str(q["suppliers"]),
                _percent(q["name_only_share"]),
                _percent(q["without_ch_or_vat_share"]),
            ]
        ],
    )


def search_page(model: ReadModel, query: str, as_of: date) -> str:
    """Categories, suppliers and partners whose name or key contains ``query``."""
    q = query.strip().lower()
    if not q:
        return "<h1>Search</h1><p>Type part of a category, supplier or partner name.</p>"
    cats = [i for i in model.items("category-spend", as_of) if q in i["name"].lower() or q in i["category"]]
    sups = [
        i
        for i in model.items("supplier-exposure", as_of)
        if q in i["name"].lower() or q in i["supplier_key"].lower()
    ]
    members = [m for m in model.keys("member-activity") if q in m]
    found = len(cats) + len(sups) + len(members)
    return "".join(
        [
            f"<h1>Search: {escape(query)}</h1>",
            f"<p>{found} found.</p>",
            "<h2>Categories</h2>" + _list(link("category", i["category"], i["name"]) for i in cats),
            "<h2>Suppliers</h2>" + _list(link("supplier", i["supplier_key"], i["name"]) for i in sups[:100]),
            "<h2>Partners</h2>" + _list(link("partner", m, m) for m in members),
        ]
    )


def _list(links: Iterable[str]) -> str:
    items = "".join(f"<li>{x}</li>" for x in links)
    return f"<ul>{items}</ul>" if items else "<p>None.</p>"


STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}
header{background:#0b3d91;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center}
header a{color:#fff;font-weight:bold;text-decoration:none}
header form{margin-left:auto}
main{padding:1em;max-width:70em}
.banner{background:#fff3cd;padding:.5em 1em;border-bottom:1px solid #e0c36a}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td:nth-child(n+2){font-variant-numeric:tabular-nums}
.pair{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}
.chart rect{fill:#0b3d91}
.key{color:#666;font-family:monospace}
"""

SCRIPT = (
    "<script>setInterval(async()=>{const r=await fetch(location.href,{headers:{'X-Partial':'1'},"
    "credentials:'same-origin'});if(r.ok){document.querySelector('main').innerHTML=await r.text();}},"
    f"{REFRESH_MS});</script>"
)


def document(title: str, body: str, notice: str = "", query: str = "") -> str:
    """A whole page: header with search, an optional banner, the body, the refresher."""
    banner = f'<div class="banner">{escape(notice)}</div>' if notice else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - BlueLight</title><style>{STYLE}</style></head><body>"
        '<header><a href="/">BlueLight</a><span>national procurement views</span>'
        '<form action="/search"><input name="q" aria-label="search" placeholder="category, supplier, partner"'
        f' value="{escape(query)}"><button>Search</button></form></header>{banner}'
        f"<main>{body}</main>{SCRIPT}</body></html>"
    )


LOGIN = (
    "<h1>Open a session</h1><p>Paste the reader token you were given "
    "(<code>bluelight topology reader-token</code>).</p>"
    '<form method="post" action="/login"><input name="token" type="password" aria-label="token">'
    "<button>Open</button></form>"
)


# -- the web -----------------------------------------------------------------------------------

Handler = Callable[..., Awaitable[Response]]


def add_html_pages(
    app: faust.App,
    model: Callable[[], ReadModel],
    ready: Callable[[], bool],
    access: Access,
    version: Callable[[], object] = lambda: None,
    letters: Callable[[str], list[Item]] = lambda member: [],
) -> None:
    """``/``, ``/category/<id>``, ``/supplier/<key>``, ``/partner/<id>``, ``/search``, ``/login``.

    Each page is rendered once per ``version`` of the model (as the JSON pages are), so many
    people watching the same page cost one render per change, not one per refresh.
    """
    cache = ReplyCache(version)

    def page(kind: str) -> Callable[[Callable[..., str | None]], Handler]:
        """Check who may see the page, render it, wrap it (or just ``<main>`` for a refresh)."""

        def wrap(render: Callable[..., str | None]) -> Handler:
            @functools.wraps(render)
            async def get(self: View, request: Request, **kwargs: Any) -> Response:
                bearer = request.headers.get("Authorization") or _cookie_bearer(request)
                status, reason, notice = may_see(access, kind, kwargs.get("key"), bearer)
                if status != 200:
                    login = LOGIN if status == 401 else ""
                    return _html(self, document("Not allowed", f"<p>{escape(reason)}</p>{login}"), status)
                if not ready():
                    starting = "<p>The views are being rebuilt; try again in a moment.</p>"
                    return _html(self, document("Starting", starting), 503)
                query = request.query.get("q", "")

                def make() -> Reply:
                    now = datetime.now().astimezone()
                    body = render(model(), as_of=today(), now=now, q=query, **kwargs)
                    return Reply(404, "") if body is None else Reply(200, body)

                made = cache.get((kind, kwargs.get("key"), query), make)
                if made.status == 404:
                    return _html(self, document("Not found", "<p>Nothing by that name here.</p>"), 404)
                if request.headers.get("X-Partial"):
                    return _html(self, made.text, 200)
                return _html(self, document(kind, made.text, notice, query), 200)

            return get

        return wrap

    @app.page("/")
    class Overview(View):
        get = page("overview")(lambda m, as_of, now, q: overview(m, as_of, now))

    @app.page("/category/{key:.+}")
    class Category(View):
        get = page("category")(lambda m, as_of, now, q, key: category_page(m, key, as_of))

    @app.page("/supplier/{key:.+}")
    class Supplier(View):
        get = page("supplier")(lambda m, as_of, now, q, key: supplier_page(m, key, as_of))

    @app.page("/partner/{key:.+}")
    class Partner(View):
        get = page("partner")(lambda m, as_of, now, q, key: partner_page(m, key, as_of, now, letters(key)))

    @app.page("/search")
    class Search(View):
        get = page("search")(lambda m, as_of, now, q: search_page(m, q, as_of))

    @app.page("/data-quality")
    class Quality(View):
        async def get(self, request: Request) -> Response:
            return await quality_json(self, request, None)

    @app.page("/data-quality/{key:.+}")
    class QualityOf(View):
        async def get(self, request: Request, key: str) -> Response:
            return await quality_json(self, request, key)

    async def quality_json(view: View, request: Request, member: str | None) -> Response:
        """Every partner's data quality (national), or one partner's (national or its own token)."""
        bearer = request.headers.get("Authorization") or _cookie_bearer(request)
        status, reason, _ = may_see(access, "partner" if member else "quality", member, bearer)
        if status == 200 and member is None and _role(access, bearer) == "subscriber":
            status, reason = 403, "data quality needs a national token (or the partner's own, for its own)"
        if status != 200 or not ready():
            problem = reason or "the views are being rebuilt; try again in a moment"
            reply = json_reply(status if status != 200 else 503, {"error": problem})
            return view.text(reply.text, content_type="application/json", status=reply.status)
        items = data_quality(model(), today(), datetime.now().astimezone())
        if member is not None:
            items = [i for i in items if i["member_id"] == member]
            if not items:
                return view.text('{"error": "no such partner"}', content_type="application/json", status=404)
        body = json_reply(200, items[0] if member is not None else {"items": items})
        return view.text(body.text, content_type="application/json")

    @app.page("/login")
    class Login(View):
        async def get(self, request: Request) -> Response:
            return _html(self, document("Open a session", LOGIN), 200)

        async def post(self, request: Request) -> Response:
            form = await request.post()
            token = str(form.get("token", "")).strip()
            if identify(access, f"Bearer {token}") is None:
                unknown = "<p>That token is not known here.</p>" + LOGIN
                return _html(self, document("Open a session", unknown), 401)
            cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
            return self.text("", status=303, headers={"Location": "/", "Set-Cookie": cookie})


def may_see(access: Access, kind: str, key: str | None, bearer: str | None) -> tuple[int, str, str]:
    """(status, reason, banner) for a page.

    National: every page; a member: its own partner page; a subscriber: the national views' pages.
    """
    decision = decide(access, "/views", bearer)  # who is asking (anonymous only on a local demo)
    if decision.status != 200:
        return decision.status, decision.reason, ""
    reader = identify(access, bearer)
    if reader is None or reader.role == "national":
        return 200, "", decision.notice
    if reader.role == "subscriber":
        if kind == "partner":
            return 403, "a subscriber token reads the national views; partner pages need a national token", ""
        return 200, "", ""
    if kind == "partner" and key == reader.member:
        return 200, "", ""
    return 403, f"a member token opens its own partner page: /partner/{reader.member}", ""


def _role(access: Access, bearer: str | None) -> str | None:
    reader = identify(access, bearer)
    return reader.role if reader is not None else None


def _cookie_bearer(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return f"Bearer {token}" if token else None


def _html(view: View, text: str, status: int) -> Response:
    return view.text(text, content_type="text/html", status=status)
