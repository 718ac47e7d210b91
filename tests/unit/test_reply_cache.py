"""The view pages under load: one render per change of the read model, never a stale page, and
reads that give way to a busy stream."""

from __future__ import annotations

import asyncio
import time

from streams.pages import Pulse, ReadGate, ReplyCache
from streams.readmodel import ReadModel
from streams.views.export import Reply, view_reply


def test_a_page_is_made_once_per_version_and_again_after_a_change() -> None:
    version = [0]
    made: list[int] = []
    cache = ReplyCache(lambda: version[0])

    def make() -> Reply:
        made.append(version[0])
        return Reply(200, f"v{version[0]}")

    assert [cache.get(("v",), make).text for _ in range(100)] == ["v0"] * 100
    version[0] = 1
    assert cache.get(("v",), make).text == "v1"
    assert made == [0, 1]
    assert cache.hits == 99


def test_it_keeps_at_most_its_size_and_the_recently_used() -> None:
    cache = ReplyCache(lambda: 0, size=2)
    for key in ("a", "b", "a", "c"):
        cache.get((key,), lambda k=key: Reply(200, k))  # type: ignore[misc]
    assert list(cache.replies) == [("a",), ("c",)]


def test_a_served_page_follows_the_read_model() -> None:
    model = ReadModel()
    model.ready = True
    cache = ReplyCache(lambda: model.records_read)

    def page() -> str:
        return cache.get(("member-activity",), lambda: view_reply(model, "member-activity", {}, True)).text

    assert '"items": []' in page()
    model.put("member-activity", "kent-police", {"member_id": "kent-police", "accepted": 1})
    model.records_read += 1  # what put_record counts for each record read
    assert "kent-police" in page()
    assert model.keys("member-activity") == ["kent-police"]
    model.put("member-activity", "avon-fire", {"member_id": "avon-fire", "accepted": 2})
    assert model.keys("member-activity") == ["avon-fire", "kent-police"]


def test_reads_wait_their_turn_only_while_the_stream_moves() -> None:
    busy = [True]
    gate = ReadGate(lambda: busy[0], rate=40)

    async def readers(n: int) -> float:
        began = time.monotonic()
        await asyncio.gather(*(gate.wait() for _ in range(n)))
        return time.monotonic() - began

    # 20 reads at 40 a second: the last one waits at least 19 intervals
    assert asyncio.run(readers(20)) >= 19 / 40
    assert gate.held_back == 20
    busy[0] = False
    asyncio.run(readers(20))
    assert gate.held_back == 20  # a quiet stream holds no read back


def test_the_pulse_holds_busy_for_a_while_after_the_count_last_moved() -> None:
    count = [0]
    pulse = Pulse(lambda: count[0], hold=0.2)
    assert pulse() is False
    count[0] += 5
    assert pulse() is True
    assert pulse() is True  # still within the hold
    time.sleep(0.25)
    assert pulse() is False
