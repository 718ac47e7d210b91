"""Hostile bytes never crash or hang the decoder: every failure is a DecodeError (or a Rejection)."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_examples import events

from schemas.models import Event
from schemas.serde import (
    HEADER_SIZE,
    MAGIC,
    BadMagic,
    DecodeError,
    TrailingBytes,
    Truncated,
    UnknownFingerprint,
    catalogue,
    decode_event,
    encode_event,
    event_from_bytes,
)
from schemas.validate import Rejection

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def giant_varint(n: int) -> bytes:
    """An Avro long of magnitude ``n`` (zig-zag; may exceed 64 bits, as a hostile writer might)."""
    n = 2 * n if n >= 0 else -2 * n - 1
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def survives(data: bytes) -> None:
    """Decoding either succeeds or raises a DecodeError; the full path only ever raises a Rejection."""
    try:
        family, record = decode_event(data)
    except DecodeError as exc:
        assert str(exc), "every error says what was wrong"
    else:
        assert family in ("purchase-order", "contract", "supplier") and isinstance(record, dict)
    try:
        event_from_bytes(data, "kent-police")
    except Rejection as exc:
        assert exc.kind in ("decode", "schema", "validation", "tenant", "unsupported") and exc.reason


@pytest.mark.timeout(300)
@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    survives(data)


@pytest.mark.timeout(300)
@FUZZ
@given(st.data(), st.binary(max_size=400))
def test_random_body_behind_a_known_header(data: st.DataObject, body: bytes) -> None:
    version = data.draw(st.sampled_from(list(catalogue())))
    survives(version.header + body)


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.data())
def test_truncation_anywhere_is_truncated(event: Event, data: st.DataObject) -> None:
    whole = encode_event(event)
    cut = data.draw(st.integers(0, len(whole) - 1))
    with pytest.raises(Truncated):
        decode_event(whole[:cut])
    survives(whole[:cut])


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.binary(min_size=1, max_size=64))
def test_trailing_garbage(event: Event, garbage: bytes) -> None:
    with pytest.raises(TrailingBytes):
        decode_event(encode_event(event) + garbage)


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.binary(min_size=2, max_size=2).filter(lambda b: b != MAGIC))
def test_wrong_magic(event: Event, magic: bytes) -> None:
    with pytest.raises(BadMagic):
        decode_event(magic + encode_event(event)[2:])


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.binary(min_size=8, max_size=8))
def test_unknown_fingerprint(event: Event, fingerprint: bytes) -> None:
    if fingerprint in catalogue().by_fingerprint:
        return
    data = encode_event(event)
    with pytest.raises(UnknownFingerprint):
        decode_event(data[:2] + fingerprint + data[HEADER_SIZE:])


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.data())
def test_bit_flips(event: Event, data: st.DataObject) -> None:
    message = bytearray(encode_event(event))
    for _ in range(data.draw(st.integers(1, 4))):
        bit = data.draw(st.integers(0, len(message) * 8 - 1))
        message[bit // 8] ^= 1 << (bit % 8)
    survives(bytes(message))


@pytest.mark.timeout(300)
@FUZZ
@given(events(), st.data())
def test_giant_varints_spliced_into_the_body(event: Event, data: st.DataObject) -> None:
    message = encode_event(event)
    at = data.draw(st.integers(HEADER_SIZE, len(message)))
    size = data.draw(st.sampled_from([2**31, 2**62, 2**63 - 1, 2**64, 2**200, -(2**63), -1]))
    replace = data.draw(st.integers(0, 10))
    survives(message[:at] + giant_varint(size) + message[at + replace :])


@pytest.mark.timeout(300)
@settings(max_examples=60, deadline=None)
@given(events(), st.data())
def test_hostile_length_prefixes_allocate_little(event: Event, data: st.DataObject) -> None:
    """A length prefix claiming gigabytes must not make the decoder allocate them."""
    message = encode_event(event)
    at = data.draw(st.integers(HEADER_SIZE, len(message)))
    hostile = message[:at] + giant_varint(2**40) + message[at:]
    tracemalloc.start()
    try:
        survives(hostile)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
