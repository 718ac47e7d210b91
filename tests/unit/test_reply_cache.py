"""The view pages' reply cache: one render per change of the read model, never a stale page."""

from __future__ import annotations

from streams.pages import ReplyCache
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
