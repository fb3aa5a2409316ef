"""Opening one watcher's event stream: where it resumes, its `hello`, the events it missed.

The watcher joins its lot's feed before the lot is read, so every event committed after that read
reaches it live; events the read already covers (bids up to the lot's sequence as read) are left
out of the live part, so nothing is missed and nothing repeats. A reconnect names the last event
id it saw (`Last-Event-ID`, which browsers send by themselves, or `since`): the bids after it are
read back from the bids table (auction.live_history) and sent after the `hello`, before the live
ones. Everything sent is the public view (app/http/auctions/views.py): a paddle, never a bidder,
never a maximum; a sealed lot has no bid events before its close.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.context import AppContext
from app.http.auctions.views import lot_collateral, participant_auction, public_auction
from app.http.input_bounds import MAX_ID
from app.live.stream import WatcherStream, event_frame
from auction import queries
from auction.live_history import missed_events
from auction.policy import AuctionKind
from transfer.kernel.errors import DomainError


def _resume_after(header: str | None, since: int | None) -> int | None:
    """The last event id the client saw: the header a reconnecting EventSource sends wins over
    the `since` of the URL it was first opened with."""
    if header is None or header.strip() == "":
        return since
    value = header.strip()
    if not value.isdigit() or int(value) > MAX_ID:
        raise DomainError(
            "invalid_last_event_id",
            "Last-Event-ID must be an event id this stream sent",
            field="last_event_id",
        )
    return int(value)


async def watch(
    ctx: AppContext,
    request: Request[Any, Any, Any],
    auction_id: int,
    last_event_id: str | None,
    since: int | None,
) -> WatcherStream:
    after = _resume_after(last_event_id, since)
    feeds = ctx.live_feeds
    assert feeds is not None, "the app wires the live feeds"
    feed, watcher = await feeds.join(f"auction:{auction_id}")
    try:
        async with ctx.database.read() as session:
            auction = await queries.get_auction(session, auction_id)
            collateral = await lot_collateral(session, [auction])
            english = auction.kind == AuctionKind.ENGLISH
            if english and after is not None and after > auction.last_sequence:
                raise DomainError(
                    "last_event_id_ahead",
                    f"this lot's last event id is {auction.last_sequence}",
                    field="last_event_id",
                )
            missed = (
                await missed_events(session, auction, after, max_events=ctx.settings.live_catch_up_max_events)
                if english and after is not None
                else []
            )
    except BaseException:
        feeds.leave(feed)
        raise
    present = public_auction if request.user is None else participant_auction
    hello = {"auction": present(auction, collateral, ctx.clock())}
    # Only an English lot's bids are live events, so only its stream has ids; a sealed lot's
    # sequence would tell how many envelopes it holds.
    last_sequence = auction.last_sequence if english else None
    start = [event_frame("hello", hello, last_sequence)]
    start.extend(event_frame(name, payload, payload["sequence"]) for name, payload in missed)
    if last_sequence is not None:
        watcher.floor = watcher.last_id = last_sequence
    return WatcherStream(feeds, feed, watcher, b"".join(start), ctx.clock)
