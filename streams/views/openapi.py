"""The worker's OpenAPI 3.1 description (``GET /openapi.json``), built from the view schemas.

Each view's item schema is derived from its Avro record (schemas/avro/view/<view>/), in the
shape the JSON API serves it: money and prices as decimal strings, dates as ``YYYY-MM-DD``,
times as ISO-8601 text; contract-pipeline's ``as_of`` sits on the response, not the item.
"""

from __future__ import annotations

from typing import Any

from schemas.serde import catalogue
from streams.views.export import DEFAULT_LIMIT, MAX_LIMIT
from streams.views.records import schema_name
from topologies.naming import VIEWS

JSON = "application/json"


def json_schema(avro: Any) -> dict[str, Any]:
    """The JSON Schema of an Avro type as the API writes its values."""
    if isinstance(avro, list):
        others = [json_schema(t) for t in avro if t != "null"]
        one = others[0] if len(others) == 1 else {"anyOf": others}
        return {"anyOf": [one, {"type": "null"}]} if "null" in avro else one
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        if logical == "decimal":
            return {"type": "string", "pattern": r"^-?\d+\.\d+$", "description": "an exact decimal"}
        if logical == "date":
            return {"type": "string", "format": "date"}
        if logical in ("timestamp-millis", "timestamp-micros"):
            return {"type": "string", "format": "date-time"}
        kind = avro.get("type")
        if kind == "map":
            return {"type": "object", "additionalProperties": json_schema(avro["values"])}
        if kind == "array":
            return {"type": "array", "items": json_schema(avro["items"])}
        if kind == "record":
            return _record(avro["fields"])
        return json_schema(kind)
    return {
        "string": {"type": "string"},
        "long": {"type": "integer"},
        "int": {"type": "integer"},
        "boolean": {"type": "boolean"},
        "double": {"type": "number"},
        "float": {"type": "number"},
    }.get(avro, {})


def _record(fields: list[dict[str, Any]], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    props = {}
    for f in fields:
        if f["name"] in skip:
            continue
        prop = json_schema(f["type"])
        if f.get("doc"):
            prop = {**prop, "description": f["doc"]}
        props[f["name"]] = prop
    return {"type": "object", "properties": props, "required": list(props)}


def item_schema(view: str) -> dict[str, Any]:
    """The JSON Schema of one item of ``view``."""
    raw = catalogue().latest(schema_name(view)).raw
    skip = frozenset({"as_of"}) if view == "contract-pipeline" else frozenset()
    return {**_record(raw["fields"], skip), "description": raw.get("doc", "")}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


def openapi() -> dict[str, Any]:
    """The whole description."""
    view_param = _param("view", "One of the views.", {"type": "string", "enum": list(VIEWS)}, "path")
    paging = [
        _param(
            "limit",
            f"Items per page (default {DEFAULT_LIMIT}).",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ),
        _param("cursor", "next_cursor of the previous page.", {"type": "string"}),
        _param("member", "Only items this member takes part in (figures stay national).", {"type": "string"}),
        _param(
            "as_of",
            "contract-pipeline: the date the buckets are for (default today, UTC).",
            {"type": "string", "format": "date"},
        ),
    ]
    error = {
        "description": "what was wrong",
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
        "Page": {
            "type": "object",
            "properties": {
                "view": {"type": "string"},
                "as_of": {"type": "string", "format": "date", "description": "contract-pipeline only"},
                "member": {"type": "string", "description": "when filtered"},
                "data_as_of": {
                    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
                    "description": "the newest event the views have applied",
                },
                "items": {
                    "type": "array",
                    "items": {"oneOf": [{"$ref": f"#/components/schemas/{v}"} for v in VIEWS]},
                },
                "next_cursor": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "description": "pass as ?cursor= for the next page; null on the last",
                },
            },
            "required": ["view", "data_as_of", "items", "next_cursor"],
        },
    }
    schemas |= {view: item_schema(view) for view in VIEWS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "BlueLight national views",
            "version": "1",
            "description": "The hub's national procurement views, as a worker serves them "
            "(docs/consumers.md). Keys are percent-encoded in paths.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/views": {
                "get": {
                    "summary": "The views, their key fields, sizes and links",
                    "responses": {"200": {"description": "the list"}},
                }
            },
            "/views/{view}": {
                "get": {
                    "summary": "A page of a view's items, in key order",
                    "parameters": [view_param, *paging],
                    "responses": {
                        "200": {
                            "description": "a page",
                            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Page"}}},
                        },
                        "400": error,
                        "404": error,
                        "503": error,
                    },
                }
            },
            "/views/{view}.csv": {
                "get": {
                    "summary": "The same page as CSV (nested fields flattened, docs/consumers.md)",
                    "parameters": [view_param, *paging],
                    "responses": {
                        "200": {
                            "description": "CSV with a header row; X-Next-Cursor when more",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/views/{view}/{key}": {
                "get": {
                    "summary": "One item",
                    "parameters": [
                        view_param,
                        _param("key", "The item's key, percent-encoded.", {"type": "string"}, "path"),
                        paging[3],
                    ],
                    "responses": {"200": {"description": "the item"}, "404": error},
                }
            },
            "/alerts": {
                "get": {
                    "summary": "National supplier alerts, newest first (national readers; docs/alerts.md)",
                    "parameters": [_param("supplier", "Only this supplier key's.", {"type": "string"})],
                    "responses": {"200": {"description": "{alerts: [...], count, ready}"}, "403": error},
                }
            },
            "/health": {
                "get": {
                    "summary": "Whether the views are ready (open to all)",
                    "security": [],
                    "responses": {"200": {"description": "ready"}, "503": {"description": "recovering"}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (open to all)",
                    "security": [],
                    "responses": {"200": {"description": "Prometheus text"}},
                }
            },
        },
    }


