"""Live auction events: Litestar channels (memory backend by default) streamed as server-sent events.

Events are published only after commit (transfer.kernel.unit_of_work), best effort: a client only ever
sees committed state, and a slow or stalled stream can never hold up or lose a bid. Each watcher
reads its lot's shared feed (app/live/feed.py); this module writes one watcher's stream: its start
(the `hello` and any catch-up), then the feed's chunks, until the client goes or falls behind.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from app.live.direct import DirectWriter
from app.live.feed import Feed, LiveFeeds, Watcher
from app.live.frames import frame
from transfer.kernel.clock import Clock

# The feed's own subscription: it drains at once into the feed's window, so this only bounds a
# burst the event loop has not yet got to.
SUBSCRIBER_BACKLOG = 1_000

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # a proxy in front must pass each write on, not gather them
]


def create_channels() -> ChannelsPlugin:
    return ChannelsPlugin(
        backend=MemoryChannelsBackend(history=0),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=SUBSCRIBER_BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )


def publisher(channels: ChannelsPlugin) -> Any:
    async def publish(events: list[tuple[str, dict[str, Any]]]) -> None:
        for channel, payload in events:
            channels.publish(msgspec.json.encode(payload), channels=[channel])

    return publish


def event_frame(name: str, payload: Any, event_id: int | None = None) -> bytes:
    return frame(name, msgspec.json.encode(payload), event_id)


class WatcherStream:
    """The ASGI response of one watcher (`GET /api/v1/auctions/{id}/events`)."""

    def __init__(self, feeds: LiveFeeds, feed: Feed, watcher: Watcher, start: bytes, clock: Clock) -> None:
        self.feeds, self.feed, self.watcher, self.start, self.clock = feeds, feed, watcher, start, clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await send({"type": "http.response.body", "body": self.start, "more_body": True})
            if self.feed.settings.direct_writes:
                self.watcher.writer = DirectWriter.of(scope)
            listener = asyncio.ensure_future(self._until_disconnect(receive))
            try:
                last = await self._follow(send)
            finally:
                listener.cancel()
            await send({"type": "http.response.body", "body": last, "more_body": False})
        finally:
            self.feeds.leave(self.feed)

    async def _until_disconnect(self, receive: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.watcher.close()

    async def _follow(self, send: Any) -> bytes:
        """Writes the feed's chunks as they come; returns the stream's last bytes."""
        feed, watcher = self.feed, self.watcher
        woken = False
        while not watcher.closed:
            if feed.head == watcher.cursor:
                await watcher.wait(feed)
                woken = True
                continue
            if not woken and feed.behind(watcher):
                return self.reconnect()
            woken = False
            chunk = feed.take(watcher)
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        return b""

    def reconnect(self) -> bytes:
        """For a watcher that fell too far behind: reconnect with Last-Event-ID (the last id it was
        sent, given here too) and get what it missed from the bids table."""
        payload = {
            "reason": "behind",
            "last_event_id": self.watcher.last_id,
            "server_time": self.clock().astimezone(UTC).isoformat(),
        }
        return event_frame("reconnect", payload)
