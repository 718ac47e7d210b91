"""The version and source guards: replays change nothing, any order gives the same state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.canonical import EventRecord, RejectedRecord, SourceRef
from streams.facts import EntityRef, SupplierFacts
from streams.state import (
    EntityState,
    RejectionState,
    apply_event,
    apply_rejection,
    decode_entity_state,
    decode_rejection_state,
    encode_entity_state,
    encode_rejection_state,
)

REF = EntityRef("kent-police", "supplier", "S-1")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def event(version: int, offset: int, tp: int = 0, minutes: int = 0) -> EventRecord:
    return EventRecord(
        ref=REF,
        version=version,
        event_id=f"e-{offset}-{tp}",
        published_at=T0 + timedelta(minutes=minutes),
        source=SourceRef("bluelight.member.kent-police.suppliers.v1", tp, offset),
        facts=SupplierFacts(supplier_key="CH:01234567", name=f"name at offset {offset}"),
    )


def deliver(records: list[EventRecord]) -> tuple[EntityState | None, dict[str, int]]:
    state: EntityState | None = None
    seen: dict[str, int] = {}
    for rec in records:
        state, outcome = apply_event(state, rec)
        seen[outcome] = seen.get(outcome, 0) + 1
    return state, seen


def with_replays(records: list[EventRecord], restarts: list[tuple[int, int]]) -> list[EventRecord]:
    """``records`` as a consumer sees them when it crashes at ``stop`` and resumes at ``back``."""
    out: list[EventRecord] = []
    position = 0
    for stop, back in restarts:
        stop = max(stop % (len(records) + 1), position)
        out.extend(records[position:stop])
        position = min(back % (stop + 1), stop)
    out.extend(records[position:])
    return out


versions = st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=25)
restarts = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=5)


@given(versions, restarts)
@settings(max_examples=300)
def test_replays_after_crashes_change_nothing(vs: list[int], crashes: list[tuple[int, int]]) -> None:
    records = [event(v, offset, minutes=offset) for offset, v in enumerate(vs)]
    once, _ = deliver(records)
    replayed, outcomes = deliver(with_replays(records, crashes))
    assert replayed == once
    assert replayed is not None
    # every record counted exactly once: received = accepted + duplicates
    assert replayed.accepted + replayed.duplicates == len(records)
    assert outcomes.get("accepted", 0) == replayed.accepted
    assert outcomes.get("duplicate", 0) == replayed.duplicates


@given(versions)
def test_current_is_the_first_record_with_the_highest_version(vs: list[int]) -> None:
    records = [event(v, offset, minutes=offset) for offset, v in enumerate(vs)]
    state, _ = deliver(records)
    assert state is not None
    top = max(vs)
    first_top = vs.index(top)
    assert state.version == top
    assert state.event_id == records[first_top].event_id
    assert state.facts == records[first_top].facts
    # accepted: the records that raised the version when they arrived
    running, raised = 0, 0
    for v in vs:
        if v > running:
            raised, running = raised + 1, v
    assert state.accepted == raised
    assert state.newest_published_at == max(r.published_at for r in records)


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=12),
    st.lists(st.integers(1, 6), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_two_partitions_interleaved_in_any_way_agree(a: list[int], b: list[int], rnd: object) -> None:
    """Records of one entity from two input partitions (a key moved): the final version is the
    max, and every record is counted once, however the partitions interleave and replay."""
    import random

    assert isinstance(rnd, random.Random)
    pa = [event(v, i, tp=0, minutes=i) for i, v in enumerate(a)]
    pb = [event(v, i, tp=1, minutes=i) for i, v in enumerate(b)]
    # each partition in order, with a replay of a prefix; interleaved at random
    qa = pa + pa[: rnd.randint(0, len(pa))]
    qb = pb[: rnd.randint(0, len(pb))] + pb
    merged: list[EventRecord] = []
    while qa or qb:
        source = qa if (qa and (not qb or rnd.random() < 0.5)) else qb
        merged.append(source.pop(0))
    state, _ = deliver(merged)
    assert state is not None
    assert state.version == max(a + b)
    assert state.accepted + state.duplicates == len(a) + len(b)


def test_a_lower_offset_after_a_higher_one_is_a_replay() -> None:
    state, outcome = apply_event(None, event(1, 5))
    assert outcome == "accepted"
    same, outcome = apply_event(state, event(9, 5))
    assert outcome == "replayed" and same is state
    _, outcome = apply_event(state, event(9, 3))
    assert outcome == "replayed"
    newer, outcome = apply_event(state, event(1, 6))
    assert outcome == "duplicate" and newer.duplicates == 1 and newer.version == 1


def rejection(offset: int, kind: str, published: datetime | None) -> RejectedRecord:
    return RejectedRecord(
        member="kent-police",
        family="purchase-order",
        kind=kind,
        published_at=published,
        source=SourceRef("bluelight.member.kent-police.purchase-orders.v1", 2, offset),
    )


@given(
    st.lists(
        st.sampled_from(["decode", "schema", "validation", "tenant", "unsupported"]), min_size=1, max_size=20
    ),
    restarts,
)
def test_rejections_count_each_offset_once(kinds: list[str], crashes: list[tuple[int, int]]) -> None:
    records = [rejection(i, k, T0 + timedelta(seconds=i) if i % 3 else None) for i, k in enumerate(kinds)]
    order: list[RejectedRecord] = []
    position = 0
    for stop, back in crashes:
        stop = max(stop % (len(records) + 1), position)
        order.extend(records[position:stop])
        position = min(back % (stop + 1), stop)
    order.extend(records[position:])
    state: RejectionState | None = None
    for rec in order:
        state, _ = apply_rejection(state, rec)
    assert state is not None
    assert sum(state.counts.values()) == len(kinds)
    for kind in set(kinds):
        assert state.counts[kind] == kinds.count(kind)
    readable = [r.published_at for r in records if r.published_at is not None]
    assert state.newest_published_at == (max(readable) if readable else None)


def test_states_survive_their_table_encoding() -> None:
    state, _ = deliver([event(2, 0), event(1, 1, tp=1, minutes=3), event(3, 2)])
    assert state is not None
    assert decode_entity_state("supplier", encode_entity_state(state)) == state
    rej = RejectionState(counts={"decode": 2, "tenant": 1}, offset=41, newest_published_at=T0)
    assert decode_rejection_state(encode_rejection_state(rej)) == rej
    empty = RejectionState(counts={"decode": 1}, offset=0, newest_published_at=None)
    assert decode_rejection_state(encode_rejection_state(empty)) == empty


def test_order_facts_survive_their_table_encoding() -> None:
    from streams.facts import LineFacts, OrderFacts

    facts = OrderFacts(
        live=True,
        order_date=date(2026, 2, 28),
        supplier_key="VAT:GB123456789",
        supplier_name="Acme",
        total_net=Decimal("25.10"),
        lines=(
            LineFacts(
                "ppe",
                "Personal protective equipment",
                Decimal("25.10"),
                Decimal("12.5500"),
                "CPV:33735100|EA",
            ),
        ),
    )
    rec = EventRecord(
        ref=EntityRef("kent-police", "purchase-order", "PO-1"),
        version=1,
        event_id="x",
        published_at=T0,
        source=SourceRef("bluelight.member.kent-police.purchase-orders.v1", 0, 0),
        facts=facts,
    )
    state, _ = apply_event(None, rec)
    assert decode_entity_state("purchase-order", encode_entity_state(state)) == state


@given(st.lists(st.integers(1, 8), min_size=1, max_size=15), st.randoms(use_true_random=False))
def test_any_permutation_with_resends_ends_at_the_highest_version(vs: list[int], rnd: object) -> None:
    """A member may send versions in any order and resend any of them (new offsets each time):
    the current state is always the highest version, and every record counts once."""
    import random

    assert isinstance(rnd, random.Random)
    sent = vs + [rnd.choice(vs) for _ in range(rnd.randint(0, 5))]  # resends
    rnd.shuffle(sent)
    records = [
        EventRecord(
            ref=REF,
            version=v,
            event_id=f"v{v}",
            published_at=T0 + timedelta(minutes=v),  # a version's content depends only on it
            source=SourceRef("bluelight.member.kent-police.suppliers.v1", 0, offset),
            facts=SupplierFacts(supplier_key="CH:01234567", name=f"v{v}"),
        )
        for offset, v in enumerate(sent)
    ]
    state, _ = deliver(records)
    assert state is not None
    assert state.version == max(vs)
    assert state.event_id == f"v{max(vs)}"
    assert state.facts == SupplierFacts(supplier_key="CH:01234567", name=f"v{max(vs)}")
    assert state.accepted + state.duplicates == len(sent)
    assert state.newest_published_at == T0 + timedelta(minutes=max(vs))
