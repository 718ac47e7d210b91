"""The views stage without Kafka: real events routed and applied with crashes and replays give
exactly what an independent recomputation (tests/oracle.py) expects, and a rebuild from the
tables gives the same views as the incremental updates."""

from __future__ import annotations

import random
import shutil
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from streams import canonical, contributions
from streams.canonical import PurgeRecord, ReclassifyRecord, SourceRef
from streams.categories import encode_partner_map, map_classification, normalise_code
from streams.contributions import Contribution, Outbox, decode_pack, packs
from streams.fold import FoldStage
from streams.metrics import HubMetrics
from streams.route import route
from streams.stage import EntityStage
from streams.views.index import ViewIndex
from tests.oracle import (
    KEY_FIELD,
    REFERENCE_DIR,
    Categories,
    Sent,
    diff_view,
    expected_views,
    normalise_served,
)
from tests.oracle_gen import Plan, generate
from topologies.naming import VIEWS, member_topic

AS_OF = date(2026, 8, 31)
PLAN = Plan(members=("kent-police", "wiltshire-fire", "t-stage"), orders=25, contracts=10, suppliers=5)
SENT = generate(11, PLAN)


def canonical_stream(sent: list[Sent], partitions: int = 3) -> list[tuple[str, int, bytes]]:
    """Route every record as ingest would; (input tp, offset order, canonical bytes)."""
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for s in sent:
        topic = member_topic(s.member, s.family)
        partition = zlib.crc32(s.key or b"") % partitions
        offset = offsets.get((topic, partition), 0)
        offsets[(topic, partition)] = offset + 1
        routed = route(
            SourceRef(topic, partition, offset), s.key, s.value, map_classification, normalise_code
        )
        out.append((f"{topic}:{partition}", offset, canonical.encode(routed.canonical)))
    return out


class Stages:
    """Stage one and stage two joined by an in-memory contributions topic."""

    def __init__(
        self,
        entities: dict[bytes, bytes] | None = None,
        rejections: dict[bytes, bytes] | None = None,
        parts: dict[bytes, bytes] | None = None,
    ) -> None:
        metrics = HubMetrics.create(CollectorRegistry())
        self.one = EntityStage(
            entities if entities is not None else {}, rejections if rejections is not None else {}, metrics
        )
        self.index = ViewIndex()
        self.two = FoldStage(parts if parts is not None else {}, self.index)

    def stage_one(self, value: bytes) -> list[bytes]:
        """Apply a canonical record; the contribution records it sends."""
        _, sends = self.one.apply(value)
        return [contributions.encode(c) for c in sends]

    def apply(self, value: bytes) -> None:
        for c in self.stage_one(value):
            self.fold(c)

    def fold(self, record: bytes) -> None:
        """Fold a contribution record, and at once what the joins send for it."""
        self.two.apply(record)
        for c in self.two.take_sends():
            self.fold(contributions.encode(c))

    def settle(self) -> None:
        """The worker's joins tick, until nothing more is sent (what quiet looks like)."""
        while self.two.flush_joins():
            for c in self.two.take_sends():
                self.fold(contributions.encode(c))


def served(s: Stages) -> dict[str, dict[str, object]]:
    s.settle()
    out = {}
    for view in VIEWS:
        body: dict[str, object] = {"view": view}
        if view == "contract-pipeline":
            body["as_of"] = AS_OF.isoformat()
        body["items"] = s.index.items(view, AS_OF)
        out[view] = body
    return out


def oracle_problems(s: Stages, sent: list[Sent] = SENT, categories: Categories | None = None) -> list[str]:
    want = expected_views(sent, categories or Categories(), AS_OF)
    got = served(s)
    problems = []
    for view in VIEWS:
        diff = diff_view(want[view], normalise_served(view, got[view]), KEY_FIELD[view])
        problems += [f"{view}: {d}" for d in diff]
    return problems


def assert_matches_oracle(s: Stages, sent: list[Sent] = SENT, categories: Categories | None = None) -> None:
    problems = oracle_problems(s, sent, categories)
    assert not problems, "\n".join(problems)


def test_in_order_matches_the_oracle() -> None:
    s = Stages()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    assert_matches_oracle(s)


def test_a_rebuild_from_the_parts_table_gives_the_same_views() -> None:
    s = Stages()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    s.settle()  # the tables are shared below: settle first, as a worker does before it stops
    again = Stages(s.one.entities, s.one.rejections, s.two.parts)
    again.two.rebuild()
    assert served(again) == served(s)


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=6))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_crashes_and_replays_change_nothing(seed: int, crashes: int) -> None:
    """A crash of stage one loses the contributions still in its outbox, while its tables keep
    the states (a local store ahead of the committed offset); the canonical records after the
    last commit are read again. Stage two re-reads contributions after its own crashes. Neither
    changes the views, and a rebuild of stage two from its table gives the same views."""
    rnd = random.Random(seed)
    stream = [v for *_, v in canonical_stream(SENT)]
    s = Stages()
    contributions_topic: list[bytes] = []
    position = 0
    for _ in range(crashes):
        stop = rnd.randint(position, len(stream))
        outbox = Outbox(3)
        left = position  # records before this one have had their contributions sent
        for i in range(position, stop):
            outbox.add(s.one.apply(stream[i])[1])
            if rnd.random() < 0.3:  # the agent found nothing more queued: the packs leave
                contributions_topic += [pack for _, pack in outbox.drain()]
                left = i + 1
        # the crash loses the outbox; every commit flushed it first, so none passed ``left``
        position = rnd.randint(position, left)
    outbox = Outbox(3)
    for i in range(position, len(stream)):
        outbox.add(s.one.apply(stream[i])[1])
    contributions_topic += [pack for _, pack in outbox.drain()]

    # stage two: the joins' output waits in an outbox too, and goes back to the same topic
    folded = 0
    rebuilt_at = rnd.randint(0, len(contributions_topic))
    crashes_left = crashes
    while folded < len(contributions_topic):
        start, stop = folded, rnd.randint(folded, len(contributions_topic))
        outbox, left = Outbox(3), folded
        for i in range(start, stop):
            if i == rebuilt_at:
                s.two.rebuild()
            s.two.apply(contributions_topic[i])
            if rnd.random() < 0.2:  # the joins tick
                s.two.flush_joins()
            outbox.add(s.two.take_sends())
            if rnd.random() < 0.3:
                contributions_topic += [pack for _, pack in outbox.drain()]
                left = i + 1
        if crashes_left and rnd.random() < 0.5:
            crashes_left -= 1
            s.two.flush_joins()  # the joins tick ran just before the crash ...
            s.two.take_sends()  # ... and its sends were lost with the outbox
            folded = rnd.randint(start, left)  # the outbox is lost; commits never passed ``left``
            s.two.rebuild()  # a restart with the local store: the joins come back from the table
        else:
            s.two.flush_joins()
            outbox.add(s.two.take_sends())
            contributions_topic += [pack for _, pack in outbox.drain()]
            folded = stop
    assert_matches_oracle(s)
    again = Stages(s.one.entities, s.one.rejections, s.two.parts)
    again.two.rebuild()
    assert served(again) == served(s)


def test_replay_withdraws_from_where_the_entity_left() -> None:
    """An amended order leaves a category; the withdrawal is lost in a crash; the replay sends it."""
    stream = [v for *_, v in canonical_stream(SENT)]
    s = Stages()
    topic: list[bytes] = []
    for value in stream:
        topic += s.stage_one(value)
    withdrawals = [c for c in topic if contributions.decode(c).part is None]
    assert withdrawals, "the generated stream has no amendment that leaves a view key"
    kept = [c for c in topic if contributions.decode(c).part is not None]
    for value in stream:  # everything read again after a crash that lost every withdrawal
        kept += s.stage_one(value)
    for c in kept:
        s.fold(c)
    assert_matches_oracle(s)


def test_packs_coalesce_and_land_where_each_key_would() -> None:
    """The outbox keeps the newest contribution per contributor and key, and puts each in the
    partition its view key would get alone (stage two owns keys by that partition)."""
    s = Stages()
    outbox = Outbox(3)
    sent = []
    for _, _, value in canonical_stream(SENT):
        sends = s.one.apply(value)[1]
        sent += sends
        outbox.add(sends)
    newest: dict[tuple[str, str, str], Contribution] = {}
    for c in sent:
        newest[(c.view, c.key, c.contributor)] = c
    assert len(newest) < len(sent), "the stream has no record that replaces an earlier contribution"
    got = []
    for partition, pack in outbox.drain():
        for c in decode_pack(pack):
            assert canonical.partition_of(contributions.record_key(c.view, c.key), range(3)) == partition
            got.append(c)
    assert sorted(got, key=repr) == sorted(newest.values(), key=repr)
    assert len(outbox) == 0


def test_packs_stay_under_their_size_limit() -> None:
    s = Stages()
    sends = [c for _, _, value in canonical_stream(SENT) for c in s.one.apply(value)[1]]
    made = list(packs(sends, limit=2_000))
    assert len(made) > 1
    assert all(len(p) <= 2_000 + max(len(contributions.encode(c)) for c in sends) for p in made)
    assert [c for p in made for c in decode_pack(p)] == sends


def purge_orders(member: str) -> list[bytes]:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    return [canonical.encode_order(PurgeRecord(member, p, 3, now)) for p in range(3)]


def test_a_purge_takes_one_member_out_and_survives_being_read_again() -> None:
    """Every view equals the oracle over the other members' events after a purge; a crash
    before the states are forgotten (the order read again) or after (the order finds nothing)
    changes nothing."""
    s = Stages()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    gone = "wiltshire-fire"
    outbox = Outbox(3)
    orders = purge_orders(gone)
    for order in orders:
        outcome, sends = s.one.apply(order)
        assert outcome == "order"
        outbox.add(sends)
        for _, pack in outbox.drain():
            s.fold(pack)
        if order == orders[0]:
            continue  # crashed before forgetting partition 0: its order is read again below
        s.one.finish_order()
    rest = [x for x in SENT if x.member != gone]
    assert_matches_oracle(s, rest)
    for order in orders:  # read again after a crash
        outbox.add(s.one.apply(order)[1])
        for _, pack in outbox.drain():
            s.fold(pack)
        s.one.finish_order()
    assert_matches_oracle(s, rest)
    assert not [k for k in s.one.entities if gone.encode() in k]
    assert not [k for k in s.one.rejections if gone.encode() in k]


def test_a_published_map_places_held_spend_again_exactly_once(tmp_path: Path) -> None:
    """Kent publishes a second map that places its radio material group elsewhere: what the hub
    holds moves, as an oracle reading the new map expects; the orders read again (before or
    after the states were written) change nothing more."""
    member = "kent-police"
    ours = yaml.safe_load((REFERENCE_DIR / "local" / f"{member}.yaml").read_text())
    ours["codes"]["MG-RADIO"] = ["estates-fm", "Radio masts are estates in Kent's second map"]
    ours["version"] = 2
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    (reference / "local" / f"{member}.yaml").write_text(yaml.safe_dump(ours))
    after = Categories(reference)

    s = Stages()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    assert_matches_oracle(s)
    assert oracle_problems(s, SENT, after), "the generated stream has no line the new map moves"

    codes = {code: rule[0] for code, rule in ours["codes"].items()}
    partner_map = encode_partner_map(member, 2, codes, {}).decode()
    now = datetime(2026, 12, 2, tzinfo=UTC)
    orders = [canonical.encode_order(ReclassifyRecord(member, p, 3, partner_map, now)) for p in range(3)]
    outbox = Outbox(3)

    def order(value: bytes, finish: bool) -> int:
        outcome, sends = s.one.apply(value)
        assert outcome == "order"
        outbox.add(sends)
        for _, pack in outbox.drain():
            s.fold(pack)
        if finish:
            s.one.finish_order()
        return len(sends)

    crashed = None
    for value in orders:
        sent = order(value, finish=crashed is not None)
        if sent and crashed is None:
            crashed = (value, sent)  # a crash before its states were written
    assert crashed is not None, "no partition holds a line the new map moves"
    assert_matches_oracle(s, SENT, after)
    assert order(crashed[0], finish=True) == crashed[1]  # read again: the same contributions
    assert sum(order(value, finish=True) for value in orders) == 0  # and again: nothing left to move
    assert_matches_oracle(s, SENT, after)


class ChangelogTable(dict[bytes, bytes]):
    """A table that keeps its changelog beside it, in the order of the writes (None: a delete)."""

    def __init__(self, changelog: list[tuple[bytes, bytes | None]] | None = None) -> None:
        super().__init__()
        self.changelog: list[tuple[bytes, bytes | None]] = []
        for key, value in changelog or []:
            if value is None:
                self.pop(key, None)
                self.changelog.append((key, None))
            else:
                self[key] = value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self.changelog.append((key, value))

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self.changelog.append((key, None))

    def on_key_del(self, key: bytes) -> None:
        """What a faust table does for a key deleted locally: a tombstone on the changelog."""
        self.changelog.append((key, None))


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=6))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_kills_that_cut_the_changelog_short_leave_the_joins_exact(seed: int, kills: int) -> None:
    """Regression for contract-coverage serving the spend of orders that had left their contract,
    after five SIGKILLs and a wiped state dir (a CI rehearsal at stop 20, test_workers).

    A kill can leave the changelog with any prefix of the writes made after the last commit. A
    join key records the view keys it reached (``#touched``) in a second write after its part:
    the changelog could keep the part and lose the touched keys, the record read again found
    its part stored ("same") and wrote nothing, and a worker that later restored the partition
    from the changelog (a wiped state dir, or a takeover) never withdrew the key from there.
    Here each kill cuts the changelog anywhere after the last commit, and the worker restarts
    with its local store (a store ahead of the changelog) or from the changelog alone."""
    rnd = random.Random(seed)
    s = Stages(parts=ChangelogTable())
    topic = [c for value in (v for *_, v in canonical_stream(SENT)) for c in s.stage_one(value)]
    folded, kills_left = 0, kills
    while folded < len(topic):
        table = cast(ChangelogTable, s.two.parts)
        start, stop = folded, rnd.randint(folded, len(topic))
        outbox, left = Outbox(3), folded
        writes_before: dict[int, int] = {}
        for i in range(start, stop):
            writes_before[i] = len(table.changelog)
            s.two.apply(topic[i])
            if rnd.random() < 0.2:  # the joins tick
                s.two.flush_joins()
            outbox.add(s.two.take_sends())
            if rnd.random() < 0.3:
                topic += [pack for _, pack in outbox.drain()]
                left = i + 1
        writes_before[stop] = len(table.changelog)
        if kills_left and rnd.random() < 0.5:
            kills_left -= 1
            folded = rnd.randint(start, left)  # the committed offset; the outbox is lost
            # the commit flushed every write before it; of the later ones, any prefix survives
            del table.changelog[rnd.randint(writes_before[folded], len(table.changelog)) :]
            if rnd.random() < 0.5:
                table = ChangelogTable(table.changelog)  # the state dir wiped: restored
            s.index = ViewIndex()
            s.two = FoldStage(table, s.index)
            s.two.rebuild()
        else:
            s.two.flush_joins()
            outbox.add(s.two.take_sends())
            topic += [pack for _, pack in outbox.drain()]
            folded = stop
    assert_matches_oracle(s)
    # and a worker taking every partition over from the changelog alone serves the same
    restored = ChangelogTable(cast(ChangelogTable, s.two.parts).changelog)
    again = Stages(s.one.entities, s.one.rejections, restored)
    again.two.rebuild()
    assert served(again) == served(s)
