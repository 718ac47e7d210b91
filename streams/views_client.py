"""Reading views from a running worker over HTTP, with a bearer token and following pages."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from typing import Any

import click

HTTP_TIMEOUT_S = 30


def fetch(url: str, token: str = "") -> tuple[int, object]:
    """GET ``url``: status and parsed JSON body; a clear ClickException when nothing answers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http only
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - http only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"cannot reach the worker at {url} ({reason}): is `bluelight worker` running? "
            "Set BLUELIGHT_HTTP (or --http) to its address."
        ) from exc


def all_items(http: str, view: str, as_of: date | None, token: str = "", member: str | None = None) -> Any:
    """Every item of a view, page after page; a ClickException saying why when refused."""
    items: list[Any] = []
    params: dict[str, str] = {}
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    if member:
        params["member"] = member
    while True:
        url = f"http://{http}/views/{view}" + ("?" + urllib.parse.urlencode(params) if params else "")
        status, body = fetch(url, token)
        if status != 200 or not isinstance(body, dict):
            message = body.get("error", body) if isinstance(body, dict) else body
            hint = " (set BLUELIGHT_TOKEN or --token)" if status == 401 else ""
            raise click.ClickException(f"{url}: {status} {message}{hint}")
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items
        params["cursor"] = cursor
