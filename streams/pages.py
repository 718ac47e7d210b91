"""The worker's pages for readers of the views: JSON pages, CSV, the view list, OpenAPI.

Thin: each page asks :func:`topologies.readers.decide` whether the caller may have it, then
hands the request to a pure function of ``streams.views.export`` over the read model, and
sends its :class:`Reply`. ``add_view_pages`` is all the wiring ``streams/app.py`` needs; the
read model is passed as a getter, so any store with ``keys/item/items`` can serve.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View

from bluelight.settings import HubSettings
from streams.views.export import ReadModel, Reply, error, item_reply, view_reply, views_reply
from streams.views.openapi import openapi
from streams.web import today
from topologies.model import default_dir
from topologies.readers import Access, Decision, decide, is_local_plaintext, load_access, visible_views

Handler = Callable[..., Awaitable[Response]]
CACHED_REPLIES = 256  # distinct (view, query) answers kept; each holds its rendered text


class ReplyCache:
    """View pages made once per change of the read model, not once per request.

    Every page shows ``data_as_of`` (member-activity, which moves with every event), so one
    version number of the whole read model says when a page may have changed. A hundred readers
    of the same page between two changes cost one render and a hundred dictionary look-ups, and
    the event loop stays free for the stream (docs/benchmarks.md, "Readers").
    """

    def __init__(self, version: Callable[[], object], size: int = CACHED_REPLIES) -> None:
        self.version = version
        self.size = size
        self.replies: OrderedDict[tuple[object, ...], tuple[object, Reply]] = OrderedDict()
        self.hits = 0

    def get(self, key: tuple[object, ...], make: Callable[[], Reply]) -> Reply:
        """The reply for ``key`` as of the model's current version (made by ``make`` if not kept)."""
        stamp = (self.version(), today())  # the default as_of is today's date
        kept = self.replies.get(key)
        if kept is not None and kept[0] == stamp:
            self.hits += 1
            self.replies.move_to_end(key)
            return kept[1]
        reply = make()
        self.replies[key] = (stamp, reply)
        self.replies.move_to_end(key)
        while len(self.replies) > self.size:
            self.replies.popitem(last=False)
        return reply


class ReadGate:
    """Reads yield to a busy stream: while it moves, reads are served at most ``rate`` per second.

    Pages are cheap (:class:`ReplyCache`), but a hundred clients reading in a loop still take
    the event loop from the stages a request at a time. While the stream is busy each read is
    given the next free slot, ``1 / rate`` after the one before, in arrival order, and waits
    for it; the stream keeps most of the CPU and a read waits about (reads queued) / ``rate``.
    A quiet stream serves reads at full speed (docs/benchmarks.md, "Readers").
    """

    def __init__(self, busy: Callable[[], bool], rate: float = 500.0) -> None:
        self.busy = busy
        self.interval = 1.0 / rate
        self.next_slot = 0.0
        self.held_back = 0

    async def wait(self) -> None:
        """Return when this read may be served."""
        if not self.busy():
            return
        self.held_back += 1
        now = time.monotonic()
        self.next_slot = max(now, self.next_slot + self.interval)
        await asyncio.sleep(self.next_slot - now)


class Pulse:
    """Whether a count moved within the last ``hold`` seconds (the stream is busy).

    Held for a while after the last move, not sampled per window: a stream slowed down by
    readers still moves now and then, and must not look idle because it is starved.
    """

    def __init__(self, count: Callable[[], int], hold: float = 2.0) -> None:
        self.count = count
        self.hold = hold
        self.last = count()
        self.moved_at = float("-inf")

    def __call__(self) -> bool:
        """True while the count moved within ``hold`` seconds."""
        now = time.monotonic()
        current = self.count()
        if current != self.last:
            self.last, self.moved_at = current, now
        return now - self.moved_at < self.hold


def access_for(settings: HubSettings) -> Access:
    """readers.yaml of the settings' topology, knowing whether the cluster is plaintext and local."""
    local = is_local_plaintext(settings.security_protocol, settings.bootstrap)
    return load_access(settings.topology_dir or default_dir(), local)


def send(view: View, reply: Reply) -> Response:
    """A :class:`Reply` as a faust response."""
    return view.text(reply.text, content_type=reply.content_type, status=reply.status, headers=reply.headers)


def guarded(access: Access, gate: ReadGate | None = None) -> Callable[[Handler], Handler]:
    """Serve a page only to callers :func:`decide` lets in, once ``gate`` lets the read through.

    The decision reaches the handler.
    """

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def get(self: View, request: Request, **kwargs: Any) -> Response:
            decision = decide(access, request.rel_url.raw_path, request.headers.get("Authorization"))
            if decision.status != 200:
                reply = error(decision.status, decision.reason)
                if decision.status == 401:
                    reply.headers["WWW-Authenticate"] = 'Bearer realm="bluelight"'
                return send(self, reply)
            if gate is not None:
                await gate.wait()
            response = await handler(self, request, decision=decision, **kwargs)
            if decision.notice:
                response.headers["X-BlueLight-Access"] = decision.notice
            return response

        return get

    return wrap


def _query(request: Request, decision: Decision) -> dict[str, str]:
    query = dict(request.query)
    if decision.only_member is not None:
        query["member"] = decision.only_member
    return query


def add_view_pages(
    app: faust.App,
    model: Callable[[], ReadModel],
    ready: Callable[[], bool],
    access: Access,
    version: Callable[[], object],
    busy: Callable[[], bool] = lambda: False,
) -> None:
    """``/views``, ``/views/<view>[.csv]``, ``/views/<view>/<key>`` and ``/openapi.json``.

    ``version`` changes whenever the model does (see :class:`ReplyCache`); ``busy`` says the
    stream is applying records (see :class:`ReadGate`).
    """
    guard = guarded(access, ReadGate(busy))
    cache = ReplyCache(lambda: (version(), ready()))

    @app.page("/views")
    class ViewsPage(View):
        @guard
        async def get(self, request: Request, decision: Decision) -> Response:
            seen = visible_views(access, request.headers.get("Authorization"))
            return send(self, views_reply(model(), ready(), seen))

    @app.page("/views/{view}")
    class ViewPage(View):
        @guard
        async def get(self, request: Request, view: str, decision: Decision) -> Response:
            query = _query(request, decision)
            key = (view, *sorted(query.items()))
            return send(self, cache.get(key, lambda: view_reply(model(), view, query, ready())))

    @app.page("/views/{view}/{key:.+}")
    class ItemPage(View):
        @guard
        async def get(self, request: Request, view: str, key: str, decision: Decision) -> Response:
            return send(self, item_reply(model(), view, key, dict(request.query), ready()))

    @app.page("/alerts")
    class AlertsPage(View):
        """The national supplier alerts, newest first (national readers; members read their own topic)."""

        @guard
        async def get(self, request: Request, decision: Decision) -> Response:
            supplier = request.query.get("supplier")
            alerts = [
                a for a in model().newest_alerts() if supplier is None or a["supplier_key"] == supplier
            ]
            body = {"alerts": alerts, "count": len(alerts), "ready": ready()}
            return self.text(json.dumps(body), content_type="application/json")

    spec = json.dumps(openapi())

    @app.page("/openapi.json")
    class OpenApiPage(View):
        async def get(self, request: Request) -> Response:
            return self.text(spec, content_type="application/json")
