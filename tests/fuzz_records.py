"""Malformed records at volume, each labelled with the rejection kind the hub must give it.

Issue 13 row 4. Every record is made from one valid event of a seeded stream (tests/oracle_gen.py),
so it goes to a real member's topic under a real entity's key, and is then broken in one way of
one *class*. Each class makes its kind true by construction, not by asking the hub:

- ``decode``: random bytes, empty, tombstone, truncated at any byte, trailing bytes, Confluent
  framing, an unknown fingerprint, oversized bodies, and hostile structure inside a valid
  header: an array block count of 2^20 to 2^62 (or a negative one with a huge block size), a
  string length beyond the message, a union branch or enum index out of range, a varint that
  never ends. Each leaves the reader short of bytes or out of a schema's range.
- ``schema``: another family's valid event on this family's topic.
- ``unsupported``: a currency the hub does not convert.
- ``validation``: valid Avro with invalid business values (totals off, an end before the start,
  dates outside 1990-2100, control characters in a name, a version of 0, text over its limit).
- ``tenant``: a valid event that claims another member.

``published_at`` is what ingest can read back from the bytes (None unless the body decodes),
so the oracle's member-activity (``last_event_at``) stays exact. tests/unit/test_fuzz_records.py
checks every class against the hub's pure router with hypothesis.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.models import family_of, to_avro
from schemas.serde import HEADER_SIZE, MAGIC, encode_record
from tests.oracle import Sent

OVERSIZED_MIN = 256 * 1024
OVERSIZED_MAX = 1_000_000  # under the broker's default message.max.bytes (1 MiB) with room to spare


@dataclass(frozen=True)
class Broken:
    """What a class made of one valid record: the bytes, the kind, and what stays readable."""

    value: bytes | None
    kind: str
    published_at: datetime | None = None
    family: str | None = None  # the topic's family when not the base record's own
    member: str | None = None  # the claimed member (tenant) for the note


Pool = dict[str, list[Sent]]  # a stream's valid records by member
Maker = Callable[[random.Random, Sent, Pool], Broken | None]  # None: not for this base


# --- byte-level helpers ---------------------------------------------------------------------------


def zigzag_varint(n: int) -> bytes:
    """Avro's long encoding of ``n`` (zig-zag, then base-128 varint)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte, z = z & 0x7F, z >> 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _record(base: Sent) -> dict[str, Any]:
    assert base.event is not None
    return to_avro(base.event)


def _encode(base: Sent, record: dict[str, Any]) -> bytes:
    assert base.event is not None
    return encode_record(family_of(base.event), record)


def _split_at(base: Sent, field: str, a: Any, b: Any) -> tuple[bytes, int]:
    """``base`` encoded with ``field`` = ``a``, and where its bytes first differ from ``field`` = ``b``."""
    one = _encode(base, {**_record(base), field: a})
    two = _encode(base, {**_record(base), field: b})
    at = next(i for i, (x, y) in enumerate(zip(one, two, strict=False)) if x != y)
    return one, at


def _published(base: Sent) -> datetime | None:
    return base.event.published_at if base.event is not None else None


# --- decode ---------------------------------------------------------------------------------------


def random_bytes(rng: random.Random, base: Sent, _: Pool) -> Broken:
    data = bytearray(rng.randbytes(rng.randint(1, 2048)))
    if data[:2] == MAGIC:
        data[0] ^= 0xFF
    return Broken(bytes(data), "decode")


def unknown_fingerprint(rng: random.Random, base: Sent, _: Pool) -> Broken:
    assert base.value is not None
    return Broken(MAGIC + rng.randbytes(8) + base.value[HEADER_SIZE:], "decode")  # 1 in 2^64 is known


def empty(rng: random.Random, base: Sent, _: Pool) -> Broken:
    return Broken(rng.choice([b"", None]), "decode")


def truncated(rng: random.Random, base: Sent, _: Pool) -> Broken:
    assert base.value is not None
    return Broken(base.value[: rng.randrange(len(base.value))], "decode")


def trailing(rng: random.Random, base: Sent, _: Pool) -> Broken:
    assert base.value is not None
    return Broken(base.value + rng.randbytes(rng.randint(1, 32)), "decode")


def confluent(rng: random.Random, base: Sent, _: Pool) -> Broken:
    assert base.value is not None
    return Broken(b"\x00" + rng.randbytes(4) + base.value[HEADER_SIZE:], "decode")


def oversized(rng: random.Random, base: Sent, _: Pool) -> Broken:
    """A valid header and a body of junk far larger than any event."""
    assert base.value is not None
    size = rng.randint(OVERSIZED_MIN, OVERSIZED_MAX)
    return Broken(base.value[:HEADER_SIZE] + rng.randbytes(size - HEADER_SIZE), "decode")


def huge_block_count(rng: random.Random, base: Sent, _: Pool) -> Broken | None:
    """An order whose lines array claims 2^20 to 2^62 items (or a negative count and a huge
    block size): every item takes at least a byte, and the message has far fewer."""
    if base.family != "purchase-order":
        return None
    lines = _record(base)["lines"]
    data, at = _split_at(base, "lines", lines, [])
    count = rng.randint(2**20, 2**62)
    head = zigzag_varint(count)
    if rng.random() < 0.5:  # a negative count: that many items, after their size in bytes
        head = zigzag_varint(-count) + zigzag_varint(rng.randint(2**20, 2**62))
    return Broken(data[:at] + head + data[at:], "decode")


def long_string(rng: random.Random, base: Sent, _: Pool) -> Broken:
    """``source_system`` (the third field) claims more bytes than the message has, or fewer than none."""
    data, at = _split_at(base, "source_system", "x", "y")  # ``at``: the one byte of text; its length before
    size = rng.randint(len(data), 2**62) if rng.random() < 0.7 else -rng.randint(1, 2**62)
    return Broken(data[: at - 1] + zigzag_varint(size) + data[at:], "decode")


def union_out_of_range(rng: random.Random, base: Sent, _: Pool) -> Broken | None:
    """An optional field's union branch index beyond its two branches (or negative)."""
    field = {"purchase-order": "contract_ref", "contract": "framework_ref", "supplier": "sme"}[base.family]
    other: Any = True if field == "sme" else "X"
    data, at = _split_at(base, field, None, other)
    branch = rng.choice([rng.randint(2, 2**40), -rng.randint(1, 2**40)])
    return Broken(data[:at] + zigzag_varint(branch) + data[at + 1 :], "decode")


def enum_out_of_range(rng: random.Random, base: Sent, _: Pool) -> Broken:
    """``status`` with a symbol index past the enum's end (or negative)."""
    symbols = {"purchase-order": ("ISSUED", "CANCELLED"), "contract": ("ACTIVE", "EXPIRED"),
               "supplier": ("ACTIVE", "INACTIVE")}[base.family]  # fmt: skip
    data, at = _split_at(base, "status", symbols[0], symbols[1])
    index = rng.choice([rng.randint(64, 2**40), -rng.randint(1, 2**40)])
    return Broken(data[:at] + zigzag_varint(index) + data[at + 1 :], "decode")


def endless_varint(rng: random.Random, base: Sent, _: Pool) -> Broken:
    """``entity_version``'s varint never ends: continuation bits to the end of the message."""
    data, at = _split_at(base, "source_system", "x", "y")
    return Broken(data[: at + 1] + b"\xff" * rng.randint(1, 64), "decode")


# --- schema, unsupported, tenant, validation ------------------------------------------------------


def other_family(rng: random.Random, base: Sent, pool: Pool) -> Broken:
    """A valid event of another family of the same member, on this family's topic."""
    others = [s for s in pool[base.member] if s.family != base.family]
    other = rng.choice(others)
    assert other.value is not None
    return Broken(other.value, "schema", _published(other), family=base.family)


def currency(rng: random.Random, base: Sent, _: Pool) -> Broken | None:
    if base.family == "supplier":
        return None
    record = {**_record(base), "currency": rng.choice(["EUR", "USD", "NOK", "JPY"])}
    return Broken(_encode(base, record), "unsupported", _published(base))


def other_member(rng: random.Random, base: Sent, pool: Pool) -> Broken:
    """A valid event naming another member, sent on this member's topic."""
    victim = rng.choice(sorted(m for m in pool if m != base.member))
    record = {**_record(base), "member_id": victim}
    return Broken(_encode(base, record), "tenant", _published(base), member=victim)


def bad_values(rng: random.Random, base: Sent, _: Pool) -> Broken:
    """Valid Avro whose values break one business rule."""
    record = _record(base)
    rules: list[Callable[[], None]] = [
        lambda: record.update(entity_version=0),
        lambda: record.update(occurred_at=record["occurred_at"].replace(year=rng.choice([1899, 2150]))),
        lambda: record.update(source_system=rng.choice(["sap\x00", "erp\x1b[31m", "ora\u202ecle"])),
        lambda: record.update(entity_id="E" * rng.randint(201, 5_000)),
    ]
    if base.family == "purchase-order":
        rules += [
            lambda: record.update(total_net=record["total_net"] + Decimal(rng.randint(1, 10**6)) / 100),
            lambda: record.update(order_date=date(rng.choice([1900, 1989, 2101, 9999]), 1, 1)),
        ]
    if base.family == "contract":
        rules.append(
            lambda: record.update(
                end_date=record["start_date"] - timedelta(days=rng.randint(1, 900)), max_extent_date=None
            )
        )
    if base.family == "supplier":
        rules.append(lambda: record.update(legal_name="Acme\x07Ltd"))
    rng.choice(rules)()
    published = record["published_at"]
    return Broken(_encode(base, record), "validation", published if published.tzinfo else None)


CLASSES: dict[str, Maker] = {
    "random-bytes": random_bytes,
    "unknown-fingerprint": unknown_fingerprint,
    "empty-or-tombstone": empty,
    "truncated": truncated,
    "trailing-bytes": trailing,
    "confluent-framing": confluent,
    "oversized": oversized,
    "huge-block-count": huge_block_count,
    "long-string": long_string,
    "union-out-of-range": union_out_of_range,
    "enum-out-of-range": enum_out_of_range,
    "endless-varint": endless_varint,
    "other-family": other_family,
    "currency": currency,
    "other-member": other_member,
    "bad-values": bad_values,
}
OVERSIZED_SHARE = 0.0005  # 50 of 100,000: each is up to 1 MB on the member's topic and its DLQ


def pool_of(stream: Sequence[Sent]) -> Pool:
    """The valid records of ``stream`` by member: what the classes break."""
    pool: Pool = {}
    for s in stream:
        if s.event is not None and s.value is not None:
            pool.setdefault(s.member, []).append(s)
    return pool


def broken(rng: random.Random, name: str, base: Sent, pool: Pool) -> Sent | None:
    """``base`` broken by class ``name`` as a labelled record (None: the class does not apply)."""
    made = CLASSES[name](rng, base, pool)
    if made is None:
        return None
    family = made.family or base.family
    note = f"fuzz {name}/{made.kind} on {base.member}'s {family} topic, from {base.note}"
    if made.member:
        note += f" claiming {made.member}"
    return Sent(base.member, family, base.key, made.value, None, made.kind, made.published_at, note)  # type: ignore[arg-type]


def fuzzed(seed: int, stream: Sequence[Sent], count: int) -> list[Sent]:
    """``count`` malformed records made from ``stream``'s valid events, every class in turn."""
    rng = random.Random(seed)
    pool = pool_of(stream)
    bases = [s for records in pool.values() for s in records]
    names = [n for n in CLASSES if n != "oversized"]
    out: list[Sent] = []
    while len(out) < count:
        name = "oversized" if rng.random() < OVERSIZED_SHARE else names[len(out) % len(names)]
        made = broken(rng, name, rng.choice(bases), pool)
        if made is not None:
            out.append(made)
    return out


def mixed(seed: int, stream: Sequence[Sent], fuzz: Sequence[Sent]) -> list[Sent]:
    """Both sequences interleaved at random, each in its own order (the valid stream's order
    is what the oracle replays)."""
    rng = random.Random(seed)
    slots = [True] * len(stream) + [False] * len(fuzz)
    rng.shuffle(slots)
    a, b = iter(stream), iter(fuzz)
    return [next(a) if take_stream else next(b) for take_stream in slots]


BROKER_MAX_BATCH = 1_048_588  # the broker's default message.max.bytes: one record batch, all in
BATCH_OVERHEAD = 61 + 16 + 64  # a batch's header, one record's own fields, and a margin


def at_the_limit(stream: Sequence[Sent], count: int = 2) -> list[Sent]:
    """``count`` junk records as large as the broker takes on a member's topic: the DLQ record
    of one (the same bytes plus the hub's headers) is larger than the broker takes."""
    rng = random.Random(len(stream))
    bases = [s for s in stream if s.event is not None and s.value is not None][:count]
    out = []
    for base in bases:
        assert base.value is not None
        size = BROKER_MAX_BATCH - BATCH_OVERHEAD - len(base.key or b"")
        value = base.value[:HEADER_SIZE] + rng.randbytes(size - HEADER_SIZE)
        note = f"fuzz at-the-limit/decode on {base.member}'s {base.family} topic ({size:,} bytes)"
        out.append(Sent(base.member, base.family, base.key, value, None, "decode", None, note))
    return out
