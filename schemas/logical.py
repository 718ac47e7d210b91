"""Avro logical types (decimal, date, timestamp-millis), converted here rather than by fastavro.

fastavro converts logical types itself, but for bytes off the wire that is unsafe: it turns a
decimal of any length into a Decimal (quadratic in the length: a hostile 4 MB decimal takes
minutes) and silently rounds one with more digits than the schema's precision; on the way out it
encodes a naive datetime in the machine's local time. So serde hands fastavro schemas with the
logical types stripped (the encoding is the same: a logical type only annotates its base type)
and converts values with the functions compiled here, which check lengths, precision, scale and
time zones, and say which field was wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import Any

Convert = Callable[[Any], Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)
ONE_MILLISECOND = timedelta(milliseconds=1)
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_LOGICAL_KEYS = ("logicalType", "precision", "scale")


class LogicalValueError(ValueError):
    """A value that does not fit its logical type; ``path`` says where it is in the record."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path

    def within(self, step: str) -> LogicalValueError:
        """The same error seen from the enclosing record, array or map."""
        if not self.path:
            path = step
        elif self.path.startswith("["):
            path = step + self.path
        else:
            path = f"{step}.{self.path}"
        return LogicalValueError(self.reason, path)


class UnsupportedSchema(ValueError):
    """A schema using a logical type or union shape these converters do not handle."""


@dataclass(frozen=True)
class Codec:
    """How one schema's records go to and from what fastavro reads and writes."""

    wire_schema: Any  # the schema with logical types stripped: what fastavro is given
    to_wire: Convert
    from_wire: Convert


def codec(schema: Any) -> Codec:
    """Compile the converters of a raw (JSON) schema."""
    return Codec(
        wire_schema=strip_logical(schema),
        to_wire=_compile(schema, _Names(), _TO_WIRE) or _same,
        from_wire=_compile(schema, _Names(), _FROM_WIRE) or _same,
    )


def strip_logical(schema: Any) -> Any:
    """The schema with logicalType, precision and scale removed everywhere."""
    if isinstance(schema, list):
        return [strip_logical(s) for s in schema]
    if isinstance(schema, dict):
        return {k: strip_logical(v) for k, v in schema.items() if k not in _LOGICAL_KEYS}
    return schema


def logical_annotations(schema: Any, path: str = "") -> dict[str, tuple[Any, ...]]:
    """The logical type at each path of a schema, e.g. {"lines[].quantity": ("decimal", 18, 4)}.

    Two versions of a schema must agree on these wherever both have the path: the encoding does
    not carry them (nor does the fingerprint), so a changed scale would silently rescale values.
    """
    found: dict[str, tuple[Any, ...]] = {}
    if isinstance(schema, list):
        for branch in schema:
            found |= logical_annotations(branch, path)
    elif isinstance(schema, dict):
        if "logicalType" in schema:
            found[path] = (schema["logicalType"], schema.get("precision"), schema.get("scale", 0))
        for field in schema.get("fields", ()):
            found |= logical_annotations(field["type"], f"{path}.{field['name']}" if path else field["name"])
        for key, suffix in (("items", "[]"), ("values", "{}")):
            if key in schema:
                found |= logical_annotations(schema[key], path + suffix)
    return found


def _same(value: Any) -> Any:
    return value


# --- the value converters --------------------------------------------------------------------------


def _decimal_to_wire(precision: int, scale: int) -> Convert:
    quantum = Decimal(1).scaleb(-scale)
    exact = Context(prec=precision + scale + 2, traps=[Inexact, InvalidOperation])

    def convert(value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise LogicalValueError(f"{value!r} is not a Decimal (decimal({precision}, {scale}))")
        try:
            fixed = Decimal(value).quantize(quantum, context=exact)
        except (Inexact, InvalidOperation):
            raise LogicalValueError(
                f"{value} does not fit decimal({precision}, {scale}): more than {scale} places, "
                f"{precision} digits or not finite"
            ) from None
        unscaled = int(fixed.scaleb(scale))
        if abs(unscaled) >= 10**precision:
            raise LogicalValueError(f"{value} has more than {precision} digits")
        return unscaled.to_bytes(unscaled.bit_length() // 8 + 1, "big", signed=True)

    return convert


def _decimal_from_wire(precision: int, scale: int) -> Convert:
    limit = 10**precision
    max_bytes = (limit - 1).bit_length() // 8 + 1

    def convert(value: bytes) -> Decimal:
        if len(value) > max_bytes:
            raise LogicalValueError(
                f"a decimal({precision}, {scale}) of {len(value)} bytes (at most {max_bytes})"
            )
        unscaled = int.from_bytes(value, "big", signed=True)
        if abs(unscaled) >= limit:
            raise LogicalValueError(f"decimal {unscaled}e-{scale} has more than {precision} digits")
        return Decimal(unscaled).scaleb(-scale)

    return convert


def _date_to_wire(value: Any) -> int:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LogicalValueError(f"{value!r} is not a date")
    return (value - EPOCH_DATE).days


def _date_from_wire(value: int) -> date:
    try:
        return EPOCH_DATE + timedelta(days=value)
    except OverflowError:
        raise LogicalValueError(f"date {value} days from 1970-01-01 is out of range") from None


def _timestamp_to_wire(value: Any) -> int:
    if not isinstance(value, datetime):
        raise LogicalValueError(f"{value!r} is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise LogicalValueError(f"{value.isoformat()} has no time zone (timestamp-millis is UTC)")
    return (value - EPOCH) // ONE_MILLISECOND


def _timestamp_from_wire(value: int) -> datetime:
    try:
        return EPOCH + value * ONE_MILLISECOND
    except OverflowError:
        raise LogicalValueError(f"timestamp {value} ms from 1970 is out of range") from None


@dataclass(frozen=True)
class _Direction:
    decimal: Callable[[int, int], Convert]
    date: Convert
    timestamp_millis: Convert


_TO_WIRE = _Direction(_decimal_to_wire, _date_to_wire, _timestamp_to_wire)
_FROM_WIRE = _Direction(_decimal_from_wire, _date_from_wire, _timestamp_from_wire)


# --- compiling a schema into a converter --------------------------------------------------------------


class _Names:
    """Converters of the named types seen so far (None: the type needs no conversion)."""

    def __init__(self) -> None:
        self.converters: dict[str, Convert | None] = {}

    def full(self, name: str, namespace: str | None) -> str:
        return name if "." in name or not namespace else f"{namespace}.{name}"

    def lookup(self, name: str, namespace: str | None) -> Convert | None:
        for candidate in (self.full(name, namespace), name):
            if candidate in self.converters:
                return self.converters[candidate]
        raise UnsupportedSchema(f"unknown type name {name!r}")


def _compile(schema: Any, names: _Names, way: _Direction, namespace: str | None = None) -> Convert | None:
    """A converter for values of ``schema``, or None when they need none."""
    if isinstance(schema, list):
        return _union(schema, names, way, namespace)
    if isinstance(schema, str):
        return None if schema in _PRIMITIVES else names.lookup(schema, namespace)
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical is not None:
        return _logical(schema, way)
    if kind == "record" or kind == "error":
        return _record(schema, names, way, namespace)
    if kind in ("enum", "fixed"):
        names.converters[names.full(schema["name"], schema.get("namespace", namespace))] = None
        return None
    if kind == "array":
        return _array(_compile(schema["items"], names, way, namespace))
    if kind == "map":
        return _map(_compile(schema["values"], names, way, namespace))
    return _compile(kind, names, way, namespace)


def _logical(schema: dict[str, Any], way: _Direction) -> Convert:
    kind, logical = schema["type"], schema["logicalType"]
    if logical == "decimal" and kind == "bytes":
        return way.decimal(int(schema["precision"]), int(schema.get("scale", 0)))
    if logical == "date" and kind == "int":
        return way.date
    if logical == "timestamp-millis" and kind == "long":
        return way.timestamp_millis
    raise UnsupportedSchema(
        f"logical type {logical!r} on {kind!r} is not supported "
        "(use decimal on bytes, date on int or timestamp-millis on long)"
    )


def _record(schema: dict[str, Any], names: _Names, way: _Direction, namespace: str | None) -> Convert | None:
    full = names.full(schema["name"], schema.get("namespace", namespace))
    inner = full.rpartition(".")[0] or None
    cell: list[Convert] = []
    # Registered before the fields are compiled, so a recursive reference finds it.
    names.converters[full] = lambda value: cell[0](value)
    fields = [(f["name"], _compile(f["type"], names, way, inner)) for f in schema["fields"]]
    converting = [(name, convert) for name, convert in fields if convert is not None]
    if not converting:
        names.converters[full] = None
        return None

    def convert(record: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for name, field_convert in converting:
            if name in out:
                try:
                    out[name] = field_convert(out[name])
                except LogicalValueError as exc:
                    raise exc.within(name) from None
        return out

    cell.append(convert)
    names.converters[full] = convert
    return convert


def _array(item: Convert | None) -> Convert | None:
    if item is None:
        return None

    def convert(values: list[Any]) -> list[Any]:
        out = []
        for index, value in enumerate(values):
            try:
                out.append(item(value))
            except LogicalValueError as exc:
                raise exc.within(f"[{index}]") from None
        return out

    return convert


def _map(value_convert: Convert | None) -> Convert | None:
    if value_convert is None:
        return None

    def convert(values: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in values.items():
            try:
                out[key] = value_convert(value)
            except LogicalValueError as exc:
                raise exc.within(f"[{key!r}]") from None
        return out

    return convert


def _union(branches: list[Any], names: _Names, way: _Direction, namespace: str | None) -> Convert | None:
    converters = [_compile(b, names, way, namespace) for b in branches]
    converting = [c for c in converters if c is not None]
    if not converting:
        return None
    if len(branches) != 2 or "null" not in branches:
        raise UnsupportedSchema(f"a union with a logical-typed branch must be [null, T]: {branches}")
    only = converting[0]
    return lambda value: None if value is None else only(value)
