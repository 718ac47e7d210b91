"""Each fuzz class of tests/fuzz_records.py gets the kind it is labelled with from the hub's router.

The volume test (tests/integration/test_fuzz_volume.py) sends 100,000 of these through a real
worker and checks the DLQs against the labels; here hypothesis picks the class, the base event
and the seed, and the pure router (streams/route.py) must agree, with the readable
``published_at`` the oracle counts, quickly and in bounded memory.
"""

from __future__ import annotations

import random
import resource
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.serde import MAX_MESSAGE_BYTES
from streams.canonical import RejectedRecord, SourceRef
from streams.categories import map_classification, normalise_code
from streams.route import route
from tests.fuzz_records import CLASSES, broken, fuzzed, pool_of, zigzag_varint
from tests.oracle_gen import Plan, generate
from topologies.naming import member_topic

MEMBERS = ("kent-police", "london-fire", "essex-police")
STREAM = generate(5, Plan(members=MEMBERS, orders=8, contracts=4, suppliers=3))
POOL = pool_of(STREAM)
BASES = [s for records in POOL.values() for s in records]


@given(st.sampled_from(sorted(CLASSES)), st.sampled_from(BASES), st.integers(min_value=0, max_value=2**32))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_class_gets_its_labelled_kind(name: str, base: object, seed: int) -> None:
    made = broken(random.Random(seed), name, base, POOL)  # type: ignore[arg-type]
    if made is None:
        return  # the class does not apply to this family
    began = time.monotonic()
    routed = route(
        SourceRef(member_topic(made.member, made.family), 0, 0), made.key, made.value,
        map_classification, normalise_code,
    )  # fmt: skip
    assert time.monotonic() - began < 1.0, f"{made.note}: took {time.monotonic() - began:.2f}s"
    assert routed.rejection is not None, f"{made.note}: accepted"
    assert routed.rejection.kind == made.reject, f"{made.note}: {routed.rejection}"
    assert routed.dead_letter is not None and routed.dead_letter.value == made.value
    assert isinstance(routed.canonical, RejectedRecord)
    assert routed.canonical.published_at == made.published_at, made.note


def test_the_volume_mix_has_every_class_and_kind() -> None:
    made = fuzzed(1, STREAM, 2_000)
    kinds = {s.reject for s in made}
    assert kinds == {"decode", "schema", "unsupported", "validation", "tenant"}
    assert {n for n in CLASSES if n != "oversized"} <= {s.note.split()[1].split("/")[0] for s in made}


def test_hostile_counts_do_not_allocate_what_they_claim() -> None:
    """A lines array of 2^31 items in a small message: read, refused, no memory spike."""
    base = next(s for s in BASES if s.family == "purchase-order")
    assert base.value is not None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for count in (2**31, 2**40, 2**62):
        made = broken(random.Random(count), "huge-block-count", base, POOL)
        assert made is not None
        routed = route(SourceRef(member_topic(base.member, base.family), 0, 0), base.key, made.value,
                       map_classification, normalise_code)  # fmt: skip
        assert routed.rejection is not None and routed.rejection.kind == "decode"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 64, f"reading hostile counts grew the process by {grown_mb:.0f} MB"
    assert len(zigzag_varint(2**62)) <= 10 and MAX_MESSAGE_BYTES > 1_000_000
