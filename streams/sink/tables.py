"""The PostgreSQL tables of the view topics, and what one batch of view records does to them.

Pure: no database here. A view's table comes from its Avro record schema (the latest version
in schemas/avro/view/<view>/): the first field is the key (the primary key), other scalar
fields become typed columns (text, bigint, numeric(p,s), date, timestamptz) and nested ones
(maps, arrays, records) ``jsonb``, with exact decimals as JSON numbers. Every row also says
which view-topic record it came from (``_partition``, ``_offset``), so a reader can tell how
current it is and a test can tell that no change was lost or applied twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from schemas.serde import DecodeError, catalogue, decode_record
from streams.views.records import schema_name
from topologies.naming import VIEWS, view_topic

OFFSETS_TABLE = "sink_offsets"
ERRORS_TABLE = "sink_errors"
META_COLUMNS = (("_partition", "integer"), ("_offset", "bigint"), ("_synced_at", "timestamptz"))


@dataclass(frozen=True)
class Column:
    """One column of a view table: ``nested`` ones are jsonb."""

    name: str
    sql_type: str
    nested: bool = False


@dataclass(frozen=True)
class Table:
    """A view's table: ``columns[0]`` is the key."""

    view: str
    name: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> str:
        """The primary-key column (the view's key field)."""
        return self.columns[0].name


def table_name(view: str) -> str:
    """``category-spend`` -> ``category_spend``."""
    return view.replace("-", "_")


def column_type(avro_type: Any) -> tuple[str, bool]:
    """The SQL type of an Avro field type and whether it is nested (jsonb)."""
    if isinstance(avro_type, list):  # a union: ["null", X] is a nullable X
        others = [t for t in avro_type if t != "null"]
        if len(others) == 1:
            return column_type(others[0])
        return "jsonb", True
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "decimal":
            return f"numeric({avro_type['precision']},{avro_type.get('scale', 0)})", False
        if logical == "date":
            return "date", False
        if logical in ("timestamp-millis", "timestamp-micros"):
            return "timestamptz", False
        if avro_type.get("type") in ("map", "array", "record"):
            return "jsonb", True
        return column_type(avro_type["type"])
    scalars = {
        "string": "text",
        "long": "bigint",
        "int": "integer",
        "boolean": "boolean",
        "double": "double precision",
        "float": "real",
        "bytes": "bytea",
    }
    if avro_type in scalars:
        return scalars[avro_type], False
    return "jsonb", True  # a named type defined elsewhere in the schema


def table_of(view: str) -> Table:
    """The table of ``view`` from the latest version of its record schema."""
    raw = catalogue().latest(schema_name(view)).raw
    columns = []
    for f in raw["fields"]:
        sql_type, nested = column_type(f["type"])
        columns.append(Column(f["name"], sql_type, nested))
    return Table(view, table_name(view), tuple(columns))


def tables() -> dict[str, Table]:
    """Every view's table, by view topic."""
    return {view_topic(view): table_of(view) for view in VIEWS}


# -- values -----------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """JSON of a decoded Avro value: decimals as exact numbers, dates and times as ISO text."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)


def row_of(table: Table, record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The column values of a decoded view record, in column order (jsonb as JSON text)."""
    return tuple(
        json_text(record.get(c.name)) if c.nested and record.get(c.name) is not None else record.get(c.name)
        for c in table.columns
    )


# -- one batch ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """The latest record of one key in a batch: a row to upsert, or ``None`` for a delete."""

    key: str
    partition: int
    offset: int
    row: tuple[Any, ...] | None
    record: dict[str, Any] | None = None  # decoded, until the batch turns survivors into rows


@dataclass(frozen=True)
class BadRecord:
    """A view-topic record the sink could not use, kept with the reason (and skipped)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    error: str


@dataclass
class Batch:
    """What a batch of records does: per table the last change of each key, errors, next offsets."""

    changes: dict[str, dict[str, Change]] = field(default_factory=dict)  # table name -> key -> change
    errors: list[BadRecord] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    records: int = 0


@dataclass(frozen=True)
class Message:
    """A consumed view-topic record, as the sink needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def plan_batch(messages: Iterable[Message], layout: Mapping[str, Table]) -> Batch:
    """The changes a batch makes, in topic order: a later record of a key replaces an earlier one."""
    batch = Batch()
    by_name = {t.name: t for t in layout.values()}
    for m in messages:
        batch.records += 1
        tp = (m.topic, m.partition)
        batch.next_offsets[tp] = max(batch.next_offsets.get(tp, 0), m.offset + 1)
        table = layout.get(m.topic)
        try:
            if table is None:
                raise ValueError(f"{m.topic} is not a view topic")
            change = _change(table, m)
        except (ValueError, DecodeError) as exc:
            key = m.key.decode(errors="replace") if m.key is not None else None
            batch.errors.append(BadRecord(m.topic, m.partition, m.offset, key, str(exc)))
            continue
        batch.changes.setdefault(table.name, {})[change.key] = change
    # rows only for the changes that survive: turning nested fields into JSON is the costly part
    for name, changes in batch.changes.items():
        table = by_name[name]
        for key, change in changes.items():
            if change.record is not None:
                changes[key] = replace(change, row=row_of(table, change.record), record=None)
    return batch


def _change(table: Table, m: Message) -> Change:
    if m.key is None:
        raise ValueError("the record has no key; view records are keyed by the view key")
    try:
        key = m.key.decode()
    except UnicodeDecodeError:
        raise ValueError(f"the key {m.key!r} is not UTF-8 text") from None
    if m.value is None:
        return Change(key, m.partition, m.offset, None)
    name, record = decode_record(m.value)
    if name != schema_name(table.view):
        raise ValueError(f"a {name} record on {m.topic}, which carries {schema_name(table.view)} records")
    if record.get(table.key) != key:
        raise ValueError(f"the record's {table.key} {record.get(table.key)!r} is not its key {key!r}")
    return Change(key, m.partition, m.offset, None, record)
