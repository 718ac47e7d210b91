"""The views stage without Kafka: real events routed and applied with crashes and replays give
exactly what an independent recomputation (tests/oracle.py) expects, and a rebuild from the
tables gives the same views as the incremental updates."""

from __future__ import annotations

import random
import zlib
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from streams import canonical
from streams.canonical import SourceRef
from streams.categories import map_classification, normalise_code
from streams.metrics import HubMetrics
from streams.route import route
from streams.stage import ViewsStage
from streams.views.index import ViewIndex
from tests.oracle import KEY_FIELD, Categories, Sent, diff_view, expected_views, normalise_served
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


def stage() -> ViewsStage:
    return ViewsStage({}, {}, ViewIndex(), HubMetrics.create(CollectorRegistry()))


def served(s: ViewsStage) -> dict[str, dict[str, object]]:
    out = {}
    for view in VIEWS:
        body: dict[str, object] = {"view": view}
        if view == "contract-pipeline":
            body["as_of"] = AS_OF.isoformat()
        body["items"] = s.index.items(view, AS_OF)
        out[view] = body
    return out


def assert_matches_oracle(s: ViewsStage) -> None:
    want = expected_views(SENT, Categories(), AS_OF)
    got = served(s)
    problems = []
    for view in VIEWS:
        diff = diff_view(want[view], normalise_served(view, got[view]), KEY_FIELD[view])
        problems += [f"{view}: {d}" for d in diff]
    assert not problems, "\n".join(problems)


def test_in_order_matches_the_oracle() -> None:
    s = stage()
    for _, _, value in canonical_stream(SENT):
        s.apply(value)
    assert_matches_oracle(s)


@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=6))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_crashes_and_replays_change_nothing(rnd: random.Random, crashes: int) -> None:
    """Ingest may forward a stretch again after a crash, and the views stage may re-read
    canonical records after its own crash and a table recovery: neither changes the views."""
    stream = canonical_stream(SENT)
    delivered: list[bytes] = []
    position = 0
    for _ in range(crashes):
        stop = rnd.randint(position, len(stream))
        delivered += [v for *_, v in stream[position:stop]]
        position = rnd.randint(max(0, stop - 200), stop)  # resume at an older commit
    delivered += [v for *_, v in stream[position:]]
    s = stage()
    rebuilt_at = rnd.randint(0, len(delivered))
    for i, value in enumerate(delivered):
        if i == rebuilt_at:
            s.rebuild()  # as after a table recovery
        s.apply(value)
    assert_matches_oracle(s)
    again = ViewsStage(s.entities, s.rejections, ViewIndex(), HubMetrics.create(CollectorRegistry()))
    again.rebuild()
    assert served(again) == served(s)
