"""The worker's HTTP answers, as pure functions of the view index.

``GET /views/<view>`` -> ``{"view", "as_of" (contract-pipeline only), "items": [...]}``,
``GET /views/<view>/<key>`` -> the item or 404 ``{"error"}``; ``?as_of=YYYY-MM-DD`` for
contract-pipeline (default: today, UTC; other views ignore it). The faust pages in
``streams/app.py`` only adapt these to aiohttp.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from schemas.limits import date_outside
from topologies.naming import VIEWS


class Views(Protocol):
    """What the answers read: the read model on the worker, a ViewIndex in tests."""

    def item(self, view: str, key: str, as_of: date) -> dict[str, Any] | None:
        """One item of a view."""

    def items(self, view: str, as_of: date) -> list[dict[str, Any]]:
        """Every item of a view, sorted by key."""


@dataclass(frozen=True)
class Answer:
    """An HTTP status and JSON body."""

    status: int
    body: dict[str, Any]

    def text(self) -> str:
        """The body as JSON text (field order as built: key field first)."""
        return json.dumps(self.body, ensure_ascii=False)


def today() -> date:
    """Today in UTC: the default ``as_of``."""
    return datetime.now(UTC).date()


def _as_of(raw: str | None) -> date:
    if raw is None or raw == "":
        return today()
    try:
        as_of = date.fromisoformat(raw)
    except ValueError:
        raise _BadRequest(f"as_of={raw[:40]!r} is not a date: use YYYY-MM-DD (e.g. 2027-01-01)") from None
    if (outside := date_outside(as_of)) is not None:  # far dates overflow the window arithmetic
        raise _BadRequest(f"as_of {outside}")
    return as_of


class _BadRequest(ValueError):
    pass


def view_answer(index: Views, view: str, as_of_param: str | None, ready: bool) -> Answer:
    """``GET /views/<view>``."""
    problem = _check(view, as_of_param, ready)
    if problem is not None:
        return problem
    as_of = _as_of(as_of_param)
    body: dict[str, Any] = {"view": view}
    if view == "contract-pipeline":
        body["as_of"] = as_of.isoformat()
    body["items"] = index.items(view, as_of)
    return Answer(200, body)


def item_answer(index: Views, view: str, key: str, as_of_param: str | None, ready: bool) -> Answer:
    """``GET /views/<view>/<key>``."""
    problem = _check(view, as_of_param, ready)
    if problem is not None:
        return problem
    item = index.item(view, key, _as_of(as_of_param))
    if item is None:
        return Answer(404, {"error": f"{view} has no item {key!r}"})
    return Answer(200, item)


def _check(view: str, as_of_param: str | None, ready: bool) -> Answer | None:
    if view not in VIEWS:
        return Answer(404, {"error": f"no view {view!r}; views: {', '.join(VIEWS)}"})
    try:
        _as_of(as_of_param)
    except _BadRequest as exc:
        return Answer(400, {"error": str(exc)})
    if not ready:
        return Answer(503, {"error": "the views are being read from the view topics; try again shortly"})
    return None
