"""One lot's live events in this process, shared by all its watchers.

A lot with thousands of watchers must not cost thousands of subscriptions, queues and wake-ups per
bid. So each channel has one feed: one subscription to the channels plugin, and a window of the
channel's last events, each encoded once as a server-sent-event frame. A watcher is a cursor into
that window; what lies between its cursor and the head is its queue, bounded by the window
(`live_watcher_backlog` events). A watcher that falls further behind than that (a stalled client,
whose writes wait on its full socket) is told to reconnect when it can next be written to, and
resumes from the bids table (auction.live_history), while the window moves on for everyone else:
a slow watcher never holds memory, another watcher or a bid.

Writes are coalesced: the feed wakes the watchers waiting on it at most once per
`live_flush_interval_ms`, and each writes everything it has not sent in one chunk, the same bytes
object for every watcher at the same cursor. A hot lot's bids then cost one write per watcher per
interval, whatever their rate. What a waiting watcher finds on waking is the feed's batch, not its
own lag: only a watcher whose write waited is held to the backlog.

A flush's pass over thousands of watchers is cut into slices of `flush_slice` watchers, each its
own turn of the event loop: a bid's request between two slices waits for one slice, not for the
whole pass, and the bid's own event (its receipt to its commit) is what the watchers wait on.
One pass runs at a time; the next flush starts when the pass has reached its last watcher.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import msgspec
import structlog
from litestar.channels import ChannelsPlugin

from app.live.direct import DirectWriter, chunked
from app.live.frames import frame
from transfer.kernel.clock import Clock

log = structlog.get_logger("ipx.live")

# Events whose payload carries the English bid sequence, the lot's event id.
SEQUENCED_EVENTS = frozenset({"bid", "extended"})


@dataclass(frozen=True, slots=True)
class FeedSettings:
    backlog: int
    flush_interval_s: float
    heartbeat_s: float
    # Idle watchers on uvicorn's httptools are written by the flush itself (app/live/direct.py).
    direct_writes: bool = True
    # Watchers a flush serves in one turn of the event loop (0: the whole pass in one turn).
    flush_slice: int = 0


class Watcher:
    """One connection's place in a feed. `floor`: the last bid sequence its stream's start
    (the `hello` and any catch-up) already covered; frames up to it are skipped, not repeated."""

    __slots__ = ("_future", "closed", "cursor", "floor", "last_id", "writer")

    def __init__(self, cursor: int, floor: int, last_id: int | None) -> None:
        self.cursor = cursor
        self.floor = floor
        self.last_id = last_id
        self.closed = False
        self.writer: DirectWriter | None = None
        self._future: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(None)

    def close(self) -> None:
        self.closed = True
        self.wake()

    async def wait(self, feed: Feed) -> None:
        self._future = asyncio.get_running_loop().create_future()
        feed.waiting.append(self)
        await self._future


@dataclass(slots=True)
class _Chunk:
    start: int
    end: int
    body: bytes
    last_id: int | None
    framed: bytes | None = None  # the body as one HTTP chunk, for the direct writes


class Feed:
    def __init__(self, channel: str, settings: FeedSettings, clock: Clock) -> None:
        self.channel = channel
        self.settings = settings
        self.clock = clock
        self.frames: list[bytes] = []
        self.ids: list[int | None] = []
        self.base = 0  # the absolute index of frames[0]
        self.head = 0  # the absolute index the next frame gets
        self.watchers = 0
        self.waiting: list[Watcher] = []
        self.opened: asyncio.Future[None] | None = None
        self.pump: asyncio.Task[None] | None = None
        self.unsubscribe: Callable[[], Any] | None = None
        self._chunk: _Chunk | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._passing: list[Watcher] = []  # the pass under way: its watchers not yet served
        self._pass_at = 0
        self._last_flush_s = 0.0
        self._flushed_head = 0  # the head at the last flush
        self._kept_head = 0  # the head at the flush before it
        self._last_frame_s = time.monotonic()
        self._heartbeat_handle: asyncio.TimerHandle | None = None

    def behind(self, watcher: Watcher) -> bool:
        """More than the backlog behind, asked when the watcher's last write returns: a watcher
        that was waiting on the feed is behind by one flush's worth only, the feed's own doing."""
        return self.head - watcher.cursor > self.settings.backlog

    def append(self, message: bytes) -> None:
        """A published event (JSON bytes) into the window; its watchers are woken soon."""
        payload = msgspec.json.decode(message)
        name = str(payload.get("event", "message"))
        sequence = payload.get("sequence") if name in SEQUENCED_EVENTS else None
        assert sequence is None or isinstance(sequence, int), (self.channel, name)
        self._push(frame(name, message, sequence), sequence)

    def _push(self, data: bytes, event_id: int | None) -> None:
        self.frames.append(data)
        self.ids.append(event_id)
        self.head += 1
        self._last_frame_s = time.monotonic()
        backlog = self.settings.backlog
        if len(self.frames) > 2 * backlog:  # trimmed in halves: amortized, never below the backlog
            # A watcher woken by the last flush may not have run yet: what it needs starts at its
            # cursor, at or after the head of the flush before that one, and stays.
            drop = min(len(self.frames) - backlog, self._kept_head - self.base)
            if drop > 0:
                del self.frames[:drop]
                del self.ids[:drop]
                self.base += drop
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and not self._passing:
            loop = asyncio.get_running_loop()
            wait_s = self._last_flush_s + self.settings.flush_interval_s - time.monotonic()
            self._flush_handle = (
                loop.call_soon(self._flush) if wait_s <= 0 else loop.call_later(wait_s, self._flush)
            )

    def _flush(self) -> None:
        self._flush_handle = None
        self._kept_head, self._flushed_head = self._flushed_head, self.head
        self._last_flush_s = time.monotonic()
        self._passing, self.waiting = self.waiting, []
        self._pass_at = 0
        self._serve_slice()

    def _serve_slice(self) -> None:
        """The next slice of the pass under way; the rest in a later turn of the event loop."""
        passing, start = self._passing, self._pass_at
        size = self.settings.flush_slice
        end = len(passing) if size <= 0 else min(len(passing), start + size)
        self._pass_at = end
        for watcher in passing[start:end]:
            writer = watcher.writer
            if writer is not None and not watcher.closed and not watcher.floor and writer.writable():
                # Written here and left waiting: no task wakes for an idle watcher's write.
                if watcher.cursor < self.head:
                    writer.write(self._take_framed(watcher))
                self.waiting.append(watcher)
            else:
                watcher.wake()
        if end < len(passing):
            self._flush_handle = asyncio.get_running_loop().call_soon(self._next_slice)
            return
        self._passing = []
        if self.head > self._flushed_head:  # events that came during the pass
            self._schedule_flush()

    def _next_slice(self) -> None:
        self._flush_handle = None
        self._serve_slice()

    def _take_framed(self, watcher: Watcher) -> bytes:
        """take(), framed as an HTTP chunk once for every watcher at the same place."""
        self.take(watcher)
        chunk = self._chunk
        assert chunk is not None
        if chunk.framed is None:
            chunk.framed = chunked(chunk.body)
        return chunk.framed

    def take(self, watcher: Watcher) -> bytes:
        """Everything from the watcher's cursor to the head, as one chunk; advances the cursor."""
        start, end = watcher.cursor, self.head
        assert self.base <= start < end, (self.channel, self.base, start, end)
        if watcher.floor:
            return self._take_past_floor(watcher, start, end)
        chunk = self._chunk
        if chunk is None or chunk.start != start or chunk.end != end:
            window = slice(start - self.base, end - self.base)
            ids = [i for i in self.ids[window] if i is not None]
            chunk = _Chunk(start, end, b"".join(self.frames[window]), ids[-1] if ids else None)
            self._chunk = chunk
        watcher.cursor = end
        if chunk.last_id is not None:
            watcher.last_id = chunk.last_id
        return chunk.body

    def _take_past_floor(self, watcher: Watcher, start: int, end: int) -> bytes:
        """A new watcher's first frames: those its start already covered are left out."""
        parts = []
        for offset in range(start - self.base, end - self.base):
            event_id = self.ids[offset]
            if event_id is not None and event_id <= watcher.floor:
                continue
            parts.append(self.frames[offset])
            if event_id is not None:
                watcher.last_id = event_id
                watcher.floor = 0  # ids only grow: nothing after this can repeat the start
        watcher.cursor = end
        return b"".join(parts)

    def start_heartbeat(self) -> None:
        self._heartbeat_handle = asyncio.get_running_loop().call_later(
            self.settings.heartbeat_s, self._heartbeat
        )

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_frame_s >= self.settings.heartbeat_s * 0.99:
            now = self.clock().astimezone(UTC).isoformat()
            self._push(frame("heartbeat", f'{{"server_time":"{now}"}}'.encode(), None), None)
        self.start_heartbeat()

    def close(self) -> None:
        for handle in (self._flush_handle, self._heartbeat_handle):
            if handle is not None:
                handle.cancel()
        self._flush_handle = self._heartbeat_handle = None
        waiting, self.waiting = self._passing[self._pass_at :] + self.waiting, []
        self._passing = []
        for watcher in waiting:
            watcher.close()


@dataclass
class LiveFeeds:
    """This process's feeds, one per channel that has watchers; opened by the first watcher,
    closed with the last."""

    channels: ChannelsPlugin
    settings: FeedSettings
    clock: Clock
    feeds: dict[str, Feed] = field(default_factory=dict)
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    async def join(self, channel: str) -> tuple[Feed, Watcher]:
        """A watcher at the feed's head: every event published from now on reaches it."""
        feed = self.feeds.get(channel)
        if feed is None:
            feed = Feed(channel, self.settings, self.clock)
            self.feeds[channel] = feed
            feed.opened = asyncio.ensure_future(self._open(feed))
        feed.watchers += 1
        assert feed.opened is not None
        try:
            await asyncio.shield(feed.opened)
        except BaseException:
            self.leave(feed)
            raise
        return feed, Watcher(feed.head, 0, None)

    def leave(self, feed: Feed) -> None:
        feed.watchers -= 1
        assert feed.watchers >= 0, feed.channel
        if feed.watchers == 0:
            if self.feeds.get(feed.channel) is feed:
                del self.feeds[feed.channel]
            task = asyncio.ensure_future(self._close(feed))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _open(self, feed: Feed) -> None:
        subscriber = await self.channels.subscribe([feed.channel])

        async def pump() -> None:
            async for message in subscriber.iter_events():
                feed.append(message)

        feed.unsubscribe = lambda: self.channels.unsubscribe(subscriber)
        feed.pump = asyncio.create_task(pump())
        feed.start_heartbeat()

    async def _close(self, feed: Feed) -> None:
        feed.close()
        if feed.opened is not None and not feed.opened.done():
            await asyncio.gather(feed.opened, return_exceptions=True)
        if feed.pump is not None:
            feed.pump.cancel()
            await asyncio.gather(feed.pump, return_exceptions=True)
        if feed.unsubscribe is not None:
            await feed.unsubscribe()

    async def close_all(self) -> None:
        for feed in list(self.feeds.values()):
            del self.feeds[feed.channel]
            await self._close(feed)
