"""POST /events/<family>: canonical events from ERPs that push, answered after the broker's ack.

A request, in the order it is handled:

1. ``Authorization: Bearer <token>`` names the member (401 without a token or with an
   unknown one); the sha256 of the token is compared with every configured hash in
   constant time;
2. the family comes from the path (404 for an unknown one);
3. the body is at most ``max_body_bytes`` (413 beyond) and arrives within
   ``read_timeout_seconds`` (408 otherwise); it is JSON within the contract's bounds
   (schemas.jsonin: no duplicate keys, no huge numbers, no deep nesting, no lone
   surrogates; 400 otherwise): one event object or a non-empty array of at most
   ``max_events`` of them (413 beyond);
4. every event is prepared and encoded as the hub will check it; an event naming another
   member is 403, any other invalid event 422 - with the first ``MAX_ERRORS_LISTED`` errors'
   index, field and reason, and the count of all - and then nothing of the request is
   published;
5. all events are sent; 202 only when the broker acknowledged every one (503 if it does
   not within ``ack_timeout_seconds``: the client retries, and a resend is harmless
   because event ids and versions are deterministic).

A connection that has not sent a whole request head within ``read_timeout_seconds`` is
closed (aiohttp's keep-alive timer, which also runs before the first request), and the
token of an ``Authorization`` header never reaches the log (:class:`MaskTokens`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import signal
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from prometheus_client import REGISTRY, generate_latest

from adapters.sdk.metrics import AdapterMetrics, default_metrics
from adapters.sdk.prepare import prepare
from adapters.sdk.publisher import Ack, Outgoing, Publisher, PublishError
from adapters.sdk.sharing import SharingPolicy
from adapters.webhook.config import WebhookConfig, WebhookMember, token_sha256
from bluelight.settings import HubSettings
from schemas.jsonin import JsonRefused, parse_json
from schemas.models import Event
from schemas.serde import EncodeError
from schemas.validate import Rejection
from topologies.naming import FAMILIES, Family, member_topic

ADAPTER = "webhook"
PUBLISHER: web.AppKey[Publisher] = web.AppKey("publisher", Publisher)
MAX_ERRORS_LISTED = 100  # errors spelled out in one answer; the rest are counted
MAX_ECHOED_ID = 200  # an entity_id longer than this (or not a string) is not echoed back

log = logging.getLogger(__name__)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _unauthorised(message: str) -> web.Response:
    response = _error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="bluelight", error="invalid_token"'
    return response


def authenticate(header: str | None, members: list[WebhookMember]) -> WebhookMember | str:
    """The member whose token is in ``header``, or why not (compared in constant time)."""
    if not header:
        return "missing Authorization header: send 'Authorization: Bearer <your token>'"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "the Authorization header must be 'Bearer <your token>'"
    presented = token_sha256(token.strip()).encode()
    found: WebhookMember | None = None
    for member in members:  # no early exit: the time taken does not depend on which matched
        if hmac.compare_digest(presented, member.token_sha256.encode()):
            found = member
    return found if found is not None else "unknown token"


def make_app(
    config: WebhookConfig,
    publisher: Publisher,
    policies: dict[str, SharingPolicy],
    metrics: AdapterMetrics | None = None,
) -> web.Application:
    """The webhook's aiohttp application, sending through ``publisher``."""
    counters = metrics or default_metrics()
    app = web.Application(client_max_size=config.max_body_bytes)
    app[PUBLISHER] = publisher

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "members": len(config.members)})

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), content_type="text/plain")

    async def post_events(request: web.Request) -> web.Response:
        who = authenticate(request.headers.get("Authorization"), config.members)
        if isinstance(who, str):
            return _unauthorised(who)
        family = request.match_info["family"]
        if family not in FAMILIES:
            return _error(
                404, f"unknown family {family!r}: POST to /events/<family>, one of {', '.join(FAMILIES)}"
            )
        fam = cast(Family, family)
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            return _too_large(request.content_length, config.max_body_bytes)
        try:
            body = await asyncio.wait_for(request.read(), config.read_timeout_seconds)
        except web.HTTPRequestEntityTooLarge:
            return _too_large(None, config.max_body_bytes)
        except TimeoutError:
            return _error(408, f"the body did not arrive within {config.read_timeout_seconds:g}s")
        parsed = _parse_body(body, config.max_events)
        if isinstance(parsed, web.Response):
            return parsed
        events: list[Event] = []
        errors: list[dict[str, Any]] = []
        for index, data in enumerate(parsed):
            if not isinstance(data, dict):
                errors.append(
                    {"index": index, "kind": "schema", "field": None, "reason": "not a JSON object"}
                )
                continue
            try:
                events.append(
                    prepare(
                        fam,
                        data,
                        who.member,
                        policy=policies.get(who.member),
                        source_system=who.source_system,
                    )
                )
            except Rejection as exc:
                counters.rejected.labels(who.member, fam, ADAPTER, exc.kind).inc()
                errors.append(_error_entry(index, data, exc))
            except Exception as exc:  # a hub bug on this input: refused with a reason, never a 500
                log.exception(
                    "webhook: event %d of a request from %s could not be checked", index, who.member
                )
                rejection = Rejection(
                    "validation", f"the hub could not check this event ({type(exc).__name__})"
                )
                counters.rejected.labels(who.member, fam, ADAPTER, rejection.kind).inc()
                errors.append(_error_entry(index, data, rejection))
        if errors:
            tenant = any(e["kind"] == "tenant" for e in errors)
            message = (
                f"an event claims another member than {who.member}, whose token this is"
                if tenant
                else f"{len(errors)} of {len(parsed)} event(s) invalid"
            )
            listed = errors[:MAX_ERRORS_LISTED]
            if len(errors) > len(listed):
                message += f" (the first {len(listed)} errors are listed)"
            return _error(
                403 if tenant else 422,
                message + "; nothing was published",
                errors=listed,
                errors_total=len(errors),
            )
        try:
            outgoing = [publisher.encode(event) for event in events]  # all of them, before any is sent
        except EncodeError as exc:  # prepare() encoded each already; a hub bug if this happens
            log.exception("webhook: a prepared event of %s could not be encoded", who.member)
            return _error(422, f"an event cannot be encoded: {exc}; nothing was published")
        try:
            acks = await asyncio.wait_for(_send_all(publisher, outgoing), config.ack_timeout_seconds)
        except (PublishError, TimeoutError) as exc:
            reason = str(exc) or f"no acknowledgement within {config.ack_timeout_seconds:g}s"
            return _error(
                503, f"the broker did not acknowledge: {reason}; retry the request (a resend is harmless)"
            )
        return web.json_response(
            {
                "accepted": len(acks),
                "topic": member_topic(who.member, fam),
                "events": [
                    {
                        "entity_id": e.entity_id,
                        "entity_version": e.entity_version,
                        "event_id": e.event_id,
                        "partition": a.partition,
                        "offset": a.offset,
                    }
                    for e, a in zip(events, acks, strict=True)
                ],
            },
            status=202,
        )

    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/events/{family}", post_events)
    return app


def _too_large(size: int | None, limit: int) -> web.Response:
    said = f"{size} bytes" if size is not None else "the body"
    return _error(413, f"{said} is over the {limit}-byte limit; send fewer events per request")


def _error_entry(index: int, data: dict[str, Any], exc: Rejection) -> dict[str, Any]:
    entity_id = data.get("entity_id")
    shown = entity_id if isinstance(entity_id, str) and len(entity_id) <= MAX_ECHOED_ID else None
    return {"index": index, "entity_id": shown, "kind": exc.kind, "field": exc.field, "reason": exc.reason}


def _parse_body(body: bytes, max_events: int) -> list[Any] | web.Response:
    try:
        value = parse_json(body)
    except JsonRefused as exc:
        where = f" at line {exc.line} column {exc.column}" if exc.line is not None else ""
        return _error(400, f"the body is not JSON{where}: {exc.reason}")
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and value:
        if len(value) > max_events:
            return _error(
                413, f"{len(value)} events in one request; at most {max_events}: send fewer per request"
            )
        return value
    return _error(400, "the body must be one event object or a non-empty JSON array of them")


async def _send_all(publisher: Publisher, outgoing: list[Outgoing]) -> list[Ack]:
    for topic in sorted({out.topic for out in outgoing}):  # a missing topic fails before any send
        await publisher.partitions(topic)
    futures = [await publisher.send_encoded(out) for out in outgoing]
    return list(await asyncio.gather(*futures))


_BEARER = re.compile(r"(bearer\s+)[^\s'\",]+", re.IGNORECASE)


class MaskTokens(logging.Filter):
    """Replace whatever follows "Bearer" in a log record (message, arguments, traceback) by ***.

    aiohttp logs a request it cannot parse with the offending header line, so an over-long
    ``Authorization`` header would otherwise put a member's token in the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always keep it."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = mask(message), None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True


def mask(text: str) -> str:
    """``text`` with every bearer token replaced by ***."""
    return _BEARER.sub(r"\1***", text)


def mask_tokens_in_logs() -> None:
    """Install :class:`MaskTokens` on aiohttp's loggers and ours (idempotent)."""
    for name in ("aiohttp.server", "aiohttp.access", "aiohttp.web", __name__):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskTokens) for f in logger.filters):
            logger.addFilter(MaskTokens())


def make_runner(app: web.Application, config: WebhookConfig) -> web.AppRunner:
    """The app's runner: request heads must arrive within ``read_timeout_seconds``."""
    mask_tokens_in_logs()
    return web.AppRunner(app, keepalive_timeout=config.read_timeout_seconds)


async def serve(config: WebhookConfig, settings: HubSettings, config_dir: Path | None = None) -> None:
    """Run the webhook until cancelled."""
    policies = config.policies(config_dir or Path.cwd())
    async with Publisher(settings.kafka, ADAPTER) as publisher:
        runner = make_runner(make_app(config, publisher, policies), config)
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        print(f"webhook listening on http://{config.listen} (POST /events/<family>, GET /health)", flush=True)
        stop = asyncio.Event()  # until Ctrl-C, or SIGTERM from a service manager
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
