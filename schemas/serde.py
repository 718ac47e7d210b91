"""Events and view records on the wire: Avro single-object encoding over the schema catalogue.

A message is ``C3 01`` + the 8-byte little-endian CRC-64-AVRO fingerprint of the writer
schema's Parsing Canonical Form + the Avro binary body (Avro spec, "Single object encoding").
The fingerprint names the writer schema exactly, so a reader needs no registry: it finds the
writer in the catalogue of every schemas/avro/<name>/v<N>.avsc and resolves the body to the
latest version of that name. That is what lets partners upgrade one at a time (FULL_TRANSITIVE
evolution, docs/schemas.md).

Decoding never trusts the bytes: every failure is a :class:`DecodeError` subclass with a message
saying what was wrong, messages are size-capped before fastavro sees them, and bytes left after
the record are an error (fastavro does not check).
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.logical import Codec, LogicalValueError, codec, logical_annotations
from schemas.models import Event, family_of, to_avro
from schemas.validate import Rejection, check_supported, check_tenant, validate_event
from schemas.vocabulary import FAMILIES, Family

MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8
# Larger than any real event (a 1,000-line order is ~150 KB) and than the broker's default
# message.max.bytes (~1 MiB); bounds what a hostile length prefix can make us allocate.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
AVRO_DIR = Path(__file__).parent / "avro"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")
_MAX_DETAIL = 300  # fastavro's messages can quote whole schemas; keep reasons readable


# --- errors ------------------------------------------------------------------------------------------


class DecodeError(ValueError):
    """Bytes that are not a readable single-object-encoded record of a catalogued schema."""


class BadMagic(DecodeError):
    """The message does not start with the single-object marker C3 01."""


class Truncated(DecodeError):
    """The message ends before its header or its record does."""


class Oversized(DecodeError):
    """The message is larger than MAX_MESSAGE_BYTES; refused before decoding."""


class UnknownFingerprint(DecodeError):
    """The writer schema's fingerprint is not in the catalogue (or is not the kind expected)."""


class MalformedBody(DecodeError):
    """The body is not a valid Avro encoding of its writer schema."""


class TrailingBytes(DecodeError):
    """Bytes are left over after the record: the writer schema and the body disagree."""


class SchemaMismatch(DecodeError):
    """The writer schema cannot be resolved to the reader schema (e.g. an unknown enum symbol)."""


class EncodeError(ValueError):
    """A record that does not fit the schema it is being written with."""


class CatalogueError(RuntimeError):
    """A schema file that cannot join the catalogue (bad JSON, bad name, duplicate fingerprint)."""


# --- the catalogue -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SchemaVersion:
    """One schema file: ``name`` is its folder under schemas/avro ("purchase-order", "view/x")."""

    name: str
    version: int
    path: Path
    raw: dict[str, Any]  # the schema as written in the file
    canonical_form: str
    fingerprint: bytes  # 8 bytes, as they appear in the header
    codec: Codec  # logical-type conversions (schemas.logical)
    wire_schema: Any  # parsed by fastavro, logical types stripped

    @property
    def header(self) -> bytes:
        """The 10 bytes every message written with this schema starts with."""
        return MAGIC + self.fingerprint

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True)
class Catalogue:
    """Every schema version under schemas/avro, by fingerprint and by (name, version)."""

    versions: tuple[SchemaVersion, ...]

    @functools.cached_property
    def by_fingerprint(self) -> Mapping[bytes, SchemaVersion]:
        """Look a writer schema up by the fingerprint in a message header."""
        return {v.fingerprint: v for v in self.versions}

    @functools.cached_property
    def by_name_version(self) -> Mapping[tuple[str, int], SchemaVersion]:
        """Look a schema up by name and version."""
        return {(v.name, v.version): v for v in self.versions}

    def names(self) -> list[str]:
        """Every schema name, sorted."""
        return sorted({v.name for v in self.versions})

    def history(self, name: str) -> list[SchemaVersion]:
        """All versions of ``name``, oldest first."""
        found = sorted((v for v in self.versions if v.name == name), key=lambda v: v.version)
        if not found:
            raise KeyError(f"no schema named {name!r} in {AVRO_DIR}; known: {', '.join(self.names())}")
        return found

    def latest(self, name: str) -> SchemaVersion:
        """The version the hub writes and reads ``name`` with."""
        return self.history(name)[-1]

    def get(self, name: str, version: int | None = None) -> SchemaVersion:
        """A given version of ``name``, the latest when ``version`` is None."""
        if version is None:
            return self.latest(name)
        try:
            return self.by_name_version[(name, version)]
        except KeyError:
            known = ", ".join(str(v.version) for v in self.history(name))
            raise KeyError(f"no version {version} of schema {name!r}; known: {known}") from None

    def __iter__(self) -> Iterator[SchemaVersion]:
        return iter(self.versions)

    @functools.cached_property
    def learned(self) -> dict[bytes, SchemaVersion]:
        """Writer schemas learned from the registry topic (schemas/registry.py): read, never written."""
        return {}

    def knows(self, fp: bytes) -> bool:
        """Whether a writer fingerprint is this release's own or learned."""
        return fp in self.by_fingerprint or fp in self.learned

    def learn(self, version: SchemaVersion) -> bool:
        """Read messages written with ``version`` from now on (its name's latest stays the reader).

        False if it was known already or its name is not in this release (nothing to read it as).
        """
        if self.knows(version.fingerprint) or not any(v.name == version.name for v in self.versions):
            return False
        self.learned[version.fingerprint] = version
        return True


def crc64_avro_fingerprint(canonical_form: str) -> bytes:
    """CRC-64-AVRO of a Parsing Canonical Form, little-endian, as the header carries it."""
    return bytes.fromhex(fingerprint(canonical_form, "CRC-64-AVRO"))


def load_schema_file(path: Path, root: Path = AVRO_DIR) -> SchemaVersion:
    """Parse one .avsc file into a catalogue entry."""
    match = _VERSION_FILE.match(path.name)
    if match is None:
        raise CatalogueError(f"{path}: schema files are named v<N>.avsc (N = 1, 2, ...)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CatalogueError(f"{path}: not a usable Avro schema: {exc}") from exc
    return schema_version(path.parent.relative_to(root).as_posix(), int(match.group(1)), raw, path)


def schema_version(name: str, version: int, raw: Any, path: Path | None = None) -> SchemaVersion:
    """A catalogue entry from a parsed schema (a file's, or one learned from the registry topic)."""
    where = path or f"{name} v{version} from the schema registry topic"
    try:
        parse_schema(raw)  # the full check, logical types included
        canonical = to_parsing_canonical_form(raw)
        converters = codec(raw)
        wire_schema = parse_schema(converters.wire_schema)
    except Exception as exc:
        raise CatalogueError(f"{where}: not a usable Avro schema: {exc}") from exc
    return SchemaVersion(
        name=name,
        version=version,
        path=path or Path(f"<registry>/{name}/v{version}.avsc"),
        raw=raw,
        canonical_form=canonical,
        fingerprint=crc64_avro_fingerprint(canonical),
        codec=converters,
        wire_schema=wire_schema,
    )


def load_catalogue(root: Path = AVRO_DIR) -> Catalogue:
    """Parse every schemas/avro/**/v<N>.avsc; two files with one fingerprint are an error."""
    versions = tuple(load_schema_file(p, root) for p in sorted(root.rglob("*.avsc")))
    seen: dict[bytes, SchemaVersion] = {}
    for v in versions:
        if v.fingerprint in seen:
            raise CatalogueError(
                f"{v.path} and {seen[v.fingerprint].path} have the same canonical form "
                "(a new version must change fields or types, not only docs, defaults or logical types)"
            )
        seen[v.fingerprint] = v
    for older, newer in _pairs_of_versions(versions):
        old, new = logical_annotations(older.raw), logical_annotations(newer.raw)
        changed = sorted(p for p in old.keys() & new.keys() if old[p] != new[p])
        if changed:
            raise CatalogueError(
                f"{newer.path} changes the logical type of {', '.join(changed)} from {older}; "
                "that would silently change values (add a new field instead)"
            )
    return Catalogue(versions)


def _pairs_of_versions(versions: tuple[SchemaVersion, ...]) -> Iterator[tuple[SchemaVersion, SchemaVersion]]:
    for a in versions:
        for b in versions:
            if a.name == b.name and a.version < b.version:
                yield a, b


@functools.cache
def catalogue() -> Catalogue:
    """The project's schemas, parsed once on first use (never at import)."""
    return load_catalogue()


# --- generic records ---------------------------------------------------------------------------------


class Decoded(NamedTuple):
    """A decoded message: the schema name and the record, resolved to that name's latest version."""

    name: str
    record: dict[str, Any]


def encode_record(schema_name: str, record: Mapping[str, Any], version: int | None = None) -> bytes:
    """Single-object encoding of ``record`` with a version of ``schema_name`` (default: the latest)."""
    writer = catalogue().get(schema_name, version)
    out = io.BytesIO()
    out.write(writer.header)
    try:
        schemaless_writer(out, writer.wire_schema, writer.codec.to_wire(record), strict_allow_default=True)
    except Exception as exc:
        raise EncodeError(f"record does not fit {writer}: {_detail(exc)}") from exc
    return out.getvalue()


def decode_record(data: bytes) -> Decoded:
    """The record in ``data``, read with its writer schema and resolved to the latest version."""
    writer = _writer_of(data)
    reader = catalogue().latest(writer.name)
    body = io.BytesIO(data)
    body.seek(HEADER_SIZE)
    try:
        wire = schemaless_reader(body, writer.wire_schema, None if reader is writer else reader.wire_schema)
        record = reader.codec.from_wire(wire)
    except SchemaResolutionError as exc:
        raise SchemaMismatch(f"a {writer} record cannot be read as {reader}: {_detail(exc)}") from None
    except LogicalValueError as exc:
        raise MalformedBody(f"the {writer} record has a bad value: {exc}") from None
    except Exception as exc:  # fastavro raises many types (EOFError, IndexError, UnicodeDecodeError, ...)
        if isinstance(exc, EOFError) or body.tell() >= len(data):
            # fastavro's compiled reader reports a varint cut off by the end as an IndexError
            raise Truncated(f"the {writer} record ends early: the message ends at byte {len(data)}") from None
        raise MalformedBody(f"the body is not a valid {writer} record: {_detail(exc)}") from None
    left = len(data) - body.tell()
    if left:
        raise TrailingBytes(f"{left} bytes are left after the {writer} record (of {len(data)} bytes)")
    return Decoded(writer.name, cast(dict[str, Any], record))


def _writer_of(data: bytes) -> SchemaVersion:
    """Check the header and find the writer schema."""
    size = len(data)
    if size > MAX_MESSAGE_BYTES:
        raise Oversized(f"message of {size} bytes is larger than the {MAX_MESSAGE_BYTES}-byte limit")
    if size == 0:
        raise Truncated("the message is empty")
    if size < len(MAGIC) and MAGIC.startswith(bytes(data)):
        raise Truncated(f"message of {size} byte ends inside the C3 01 marker")
    if data[:2] != MAGIC:
        hint = " (a 0x00 first byte looks like Confluent framing, which the hub does not accept)"
        raise BadMagic(
            f"message starts with {bytes(data[:2]).hex(' ')}, not the single-object marker c3 01"
            + (hint if data[0] == 0 else "")
        )
    if size < HEADER_SIZE:
        raise Truncated(f"message of {size} bytes ends inside the 10-byte header")
    fp = bytes(data[2:HEADER_SIZE])
    known = catalogue()
    writer = known.by_fingerprint.get(fp) or known.learned.get(fp)
    if writer is None:
        raise UnknownFingerprint(f"writer schema fingerprint {fp.hex()} is not in the hub's catalogue")
    return writer


def _detail(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


# --- events ---------------------------------------------------------------------------------------------


def encode_event(event: Event) -> bytes:
    """An event as its family's latest schema writes it."""
    return encode_record(family_of(event), to_avro(event))


def decode_event(data: bytes) -> tuple[Family, dict[str, Any]]:
    """The family and raw Avro record of an event message, resolved to the latest schema."""
    name, record = decode_record(data)
    if name not in FAMILIES:
        raise UnknownFingerprint(f"the message is a {name} record, not an event")
    return cast(Family, name), record


def event_from_bytes(data: bytes | None, member: str, family: Family | None = None) -> Event:
    """The accepted event in ``data`` from ``member``'s topic, or a Rejection of the right kind.

    Order of checks: decode, schema resolution, schema and rules, currency, tenant. With
    ``family`` (the topic's family), an event of another family is a ``schema`` rejection.
    A record without a value (a tombstone) is a ``decode`` rejection.
    """
    if data is None:
        raise Rejection("decode", "the record has no value (a tombstone); events are never deleted")
    try:
        found, record = decode_event(data)
    except SchemaMismatch as exc:
        raise Rejection("schema", str(exc)) from exc
    except DecodeError as exc:
        raise Rejection("decode", str(exc)) from exc
    if family is not None and found != family:
        raise Rejection("schema", f"a {found} event on a {family} topic")
    event = validate_event(found, record)
    check_supported(event)
    check_tenant(event, member)
    return event
