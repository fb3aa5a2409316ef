"""A lot's live feed in one process (app/live/feed.py, app/live/stream.py): bounded watchers,
coalesced writes, no repeats after a watcher's start. In process, with ASGI sends of our own."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.live.feed import Feed, FeedSettings, Watcher
from app.live.stream import WatcherStream

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


class _Feeds:
    """What a stream needs of LiveFeeds: to leave its feed when it ends."""

    def __init__(self) -> None:
        self.left = 0

    def leave(self, feed: Feed) -> None:
        self.left += 1


class _Client:
    """An ASGI client: records every body it is sent; a stalled one stops taking them after
    `take_bodies` until released, as a full socket would make the server's send wait."""

    def __init__(self, take_bodies: int | None = None) -> None:
        self.bodies: list[bytes] = []
        self.ended = False
        self.take_bodies = take_bodies
        self.released = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.blocked = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        if self.take_bodies is not None and len(self.bodies) >= self.take_bodies:
            self.blocked.set()
            await self.released.wait()
        self.bodies.append(message["body"])
        self.ended = not message["more_body"]

    async def receive(self) -> dict[str, Any]:
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    def events(self) -> list[tuple[str | None, str, dict[str, Any]]]:
        out = []
        for block in b"".join(self.bodies).decode().split("\n\n"):
            if not block:
                continue
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            out.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
        return out


def _bid(sequence: int) -> bytes:
    return msgspec.json.encode(
        {"event": "bid", "sequence": sequence, "paddle": 1, "amount": f"{sequence}.00"}
    )


def _feed(backlog: int = 10, flush_ms: int = 0) -> Feed:
    return Feed("auction:1", FeedSettings(backlog, flush_ms / 1000, 3600.0), _clock)


def _stream(feed: Feed, client: _Client, feeds: _Feeds, floor: int = 0) -> asyncio.Task[None]:
    watcher = Watcher(feed.head, floor, floor or None)
    stream = WatcherStream(feeds, feed, watcher, b"event: hello\ndata: {}\n\n", _clock)  # type: ignore[arg-type]
    return asyncio.create_task(stream(None, client.receive, client.send))


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_stalled_watcher_is_told_to_reconnect_while_another_gets_every_event_at_once() -> None:
    feed, feeds = _feed(backlog=10), _Feeds()
    normal, stalled = _Client(), _Client(take_bodies=2)  # the stalled one takes hello and one chunk
    normal_task, stalled_task = _stream(feed, normal, feeds), _stream(feed, stalled, feeds)
    await _settle()
    feed.append(_bid(1))
    feed.append(_bid(2))
    await _settle()
    for sequence in range(3, 41):
        feed.append(_bid(sequence))  # a publish never waits for a watcher: it is not a coroutine
        await _settle()
    assert stalled.blocked.is_set()
    assert [e[0] for e in normal.events()[1:]] == [str(s) for s in range(1, 41)]
    assert [e[1] for e in stalled.events()] == ["hello", "bid", "bid"]

    stalled.released.set()
    await asyncio.wait_for(stalled_task, 1)
    # The chunk its send was waiting on (bid 3) goes out, then the word to reconnect after it.
    *sent, (event_id, name, reconnect) = stalled.events()
    assert [e[0] for e in sent] == [None, "1", "2", "3"]
    assert (event_id, name) == (None, "reconnect")
    assert reconnect == {"reason": "behind", "last_event_id": 3, "server_time": NOW.isoformat()}
    assert stalled.ended and feeds.left == 1
    feed.append(_bid(41))
    await _settle()
    assert normal.events()[-1][0] == "41" and not normal_task.done()
    normal.disconnected.set()
    await asyncio.wait_for(normal_task, 1)
    assert feeds.left == 2


async def test_a_watcher_exactly_the_backlog_behind_is_still_served() -> None:
    feed, feeds = _feed(backlog=10), _Feeds()
    client = _Client(take_bodies=1)  # its send of the first chunk (bid 1) waits
    task = _stream(feed, client, feeds)
    await _settle()
    for sequence in range(1, 12):
        feed.append(_bid(sequence))
        await _settle()
    client.released.set()  # ten events behind bid 1 when its send returns: not more than the backlog
    await _settle()
    assert [e[0] for e in client.events()[1:]] == [str(s) for s in range(1, 12)]
    feed.append(_bid(12))
    await _settle()
    assert client.events()[-1][0] == "12" and not task.done()
    client.disconnected.set()
    await asyncio.wait_for(task, 1)


async def test_frames_the_start_already_covered_are_left_out_and_nothing_after_them() -> None:
    feed, feeds = _feed(), _Feeds()
    client = _Client()
    task = _stream(feed, client, feeds, floor=3)
    await _settle()
    feed.append(_bid(2))
    feed.append(_bid(3))
    feed.append(msgspec.json.encode({"event": "closed", "server_time": NOW.isoformat()}))
    feed.append(_bid(4))
    await _settle()
    assert [(e[0], e[1]) for e in client.events()] == [(None, "hello"), (None, "closed"), ("4", "bid")]
    client.disconnected.set()
    await asyncio.wait_for(task, 1)


async def test_a_burst_of_events_reaches_a_watcher_in_one_write_per_flush_interval() -> None:
    feed, feeds = _feed(backlog=10, flush_ms=100), _Feeds()  # a batch larger than the backlog
    client = _Client()
    task = _stream(feed, client, feeds)
    await _settle()
    feed.append(_bid(1))  # idle feed: written at once
    await _settle()
    for sequence in range(2, 31):
        feed.append(_bid(sequence))
    await _settle()
    assert len(client.bodies) == 2  # hello, then bid 1; the rest waits for the interval
    await asyncio.sleep(0.15)
    assert len(client.bodies) == 3
    assert [e[0] for e in client.events()[1:]] == [str(s) for s in range(1, 31)]
    client.disconnected.set()
    await asyncio.wait_for(task, 1)
