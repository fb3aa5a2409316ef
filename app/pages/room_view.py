"""The auction room as one read: the API's presenters (app/http/auctions/views.py) and the latest bids.

Anyone gets the public view; a logged-in participant gets the key holder's view, with its own
place (paddle, deposit, its maximum while it leads, its sealed envelope), exactly as the API
answers that participant's key.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import exists, select

from app.context import AppContext
from app.http.auctions.schemas import AuctionOut, BidHistoryItem
from app.http.auctions.views import lot_collateral, participant_auction, public_auction
from app.http.auth import Actor
from auction import queries
from auction.models import Bid
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind
from transfer.kernel.money import format_fen, parse_yuan

# The room shows this many of the latest bids; the API pages through the rest.
ROOM_HISTORY_BIDS = 50
# How many next valid amounts the bid form offers as one-click choices.
NEXT_AMOUNTS = 3


class RoomState(msgspec.Struct):
    """What the live script reloads after a reconnect: the same fields the page was rendered with."""

    auction: AuctionOut
    history: list[BidHistoryItem]
    next_amounts: list[str]
    sealed_until_close: bool
    # Whether the viewer has a bid on this lot: "outbid" is said only to one who bid.
    viewer_has_bid: bool
    # Whole seconds to the end at the read: the page's first countdown, spoken in words.
    seconds_left: int
    # The live stream's heartbeat (IPX_LIVE_HEARTBEAT_S): the script counts a stream silent for
    # longer than a few of them as lost.
    heartbeat_s: float


def next_amounts(view: AuctionOut, increment_fen: int) -> list[str]:
    """The minimum bid and the next grid steps above it (English); the one price (other kinds)."""
    if view.minimum_bid is None:
        return []
    if view.kind != AuctionKind.ENGLISH.value:
        return [view.minimum_bid]
    minimum_fen = parse_yuan(view.minimum_bid, "minimum_bid")
    return [format_fen(minimum_fen + step * increment_fen) for step in range(NEXT_AMOUNTS)]


async def read_room(ctx: AppContext, auction_id: int, viewer: Actor | None) -> RoomState:
    now = ctx.clock()
    async with ctx.database.read() as session:
        auction = await queries.get_auction(session, auction_id)
        collateral = await lot_collateral(session, [auction])
        sealed_until_close = auction.kind in SEALED_KINDS and auction.state in RUNNING_STATES
        bids = (
            []
            if sealed_until_close
            else await queries.public_bid_history(
                session,
                auction,
                after_sequence=max(0, auction.last_sequence - ROOM_HISTORY_BIDS),
                limit=ROOM_HISTORY_BIDS,
            )
        )
        viewer_has_bid = False
        if viewer is None:
            view = public_auction(auction, collateral, now)
        else:
            mine = await queries.find_registration(session, auction_id, viewer.id)
            sealed_bid = (
                await queries.live_sealed_bid(session, auction_id, viewer.id)
                if mine is not None and auction.kind in SEALED_KINDS
                else None
            )
            view = participant_auction(auction, collateral, now, mine, sealed_bid)
            if mine is not None:
                viewer_has_bid = bool(
                    await session.scalar(
                        select(exists().where(Bid.auction_id == auction_id, Bid.registration_id == mine.id))
                    )
                )
    return RoomState(
        auction=view,
        history=[BidHistoryItem.of(*b) for b in reversed(bids)],
        next_amounts=next_amounts(view, auction.increment_fen),
        sealed_until_close=sealed_until_close,
        viewer_has_bid=viewer_has_bid,
        seconds_left=max(0, int((auction.ends_at - now).total_seconds())),
        heartbeat_s=ctx.settings.live_heartbeat_s,
    )
