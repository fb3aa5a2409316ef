"""A flush's pass cut into slices (app/live/feed.py, `flush_slice`): each slice is one turn of the
event loop, other work runs between two slices, one pass at a time, and every watcher still gets
every event once, in order, whether it came before the pass or during it."""

from __future__ import annotations

import asyncio

from app.live.feed import Feed, FeedSettings, Watcher
from tests.app.test_live_direct_writes import _unchunked, _Writer
from tests.app.test_live_feed import _bid, _clock


def _sliced_feed(watchers: int, slice_size: int) -> tuple[Feed, list[_Writer]]:
    """A feed whose watchers are all idle and directly written, waiting on it."""
    feed = Feed("auction:1", FeedSettings(100, 0.0, 3600.0, flush_slice=slice_size), _clock)
    writers = []
    for _ in range(watchers):
        watcher = Watcher(feed.head, 0, None)
        writer = _Writer()
        watcher.writer = writer  # type: ignore[assignment]
        feed.waiting.append(watcher)
        writers.append(writer)
    return feed, writers


def _ids(writer: _Writer) -> list[int]:
    body = _unchunked(writer.written)
    return [int(line[4:]) for line in body.split(b"\n") if line.startswith(b"id: ")]


async def _turn() -> None:
    await asyncio.sleep(0)


async def test_a_pass_serves_one_slice_a_turn_and_other_work_runs_between_slices() -> None:
    feed, writers = _sliced_feed(watchers=10, slice_size=4)
    feed.append(_bid(1))  # an idle feed flushes in the next turn
    order: list[str] = []

    def other_work() -> None:  # a bid's request, ready while the pass is under way
        order.append(f"other after {sum(1 for w in writers if w.written)}")

    await _turn()
    assert sum(1 for w in writers if w.written) == 4
    asyncio.get_running_loop().call_soon(other_work)
    await _turn()
    await _turn()
    await _turn()
    assert [len(w.written) for w in writers] == [1] * 10
    # The other work ran after the second slice, not after the whole pass.
    assert order == ["other after 8"]
    assert all(_ids(w) == [1] for w in writers)
    assert all(w.written[0] is writers[0].written[0] for w in writers[:4])  # one chunk per place


async def test_events_during_a_pass_reach_every_watcher_once_and_in_order() -> None:
    feed, writers = _sliced_feed(watchers=9, slice_size=3)
    feed.append(_bid(1))
    await _turn()  # first slice: bid 1 to watchers 0-2
    feed.append(_bid(2))  # arrives during the pass: no second pass starts alongside it
    assert feed._flush_handle is not None
    await _turn()  # second slice: bids 1 and 2 to watchers 3-5
    feed.append(_bid(3))
    for _ in range(6):
        await _turn()
    for writer in writers:
        assert _ids(writer) == [1, 2, 3], _ids(writer)
    assert len(writers[0].written) == 2 and len(writers[3].written) == 2 and len(writers[8].written) == 1
    assert len(feed.waiting) == 9


async def test_slice_zero_serves_the_whole_pass_in_one_turn() -> None:
    feed, writers = _sliced_feed(watchers=50, slice_size=0)
    feed.append(_bid(1))
    await _turn()
    assert all(_ids(w) == [1] for w in writers)


async def test_closing_the_feed_during_a_pass_closes_the_watchers_not_yet_served() -> None:
    feed, writers = _sliced_feed(watchers=6, slice_size=2)
    pending = list(feed.waiting)
    feed.append(_bid(1))
    await _turn()
    feed.close()
    for _ in range(4):
        await _turn()
    assert [len(w.written) for w in writers] == [1, 1, 0, 0, 0, 0]
    assert all(w.closed for w in pending)
    assert feed.waiting == [] and feed._flush_handle is None
