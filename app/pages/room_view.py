"""The auction room as one read: the API's public presenter, the lot's collateral, the latest bids.

The page and its live script show exactly the API's figures (AuctionOut, BidHistoryItem); the
viewer's own registration (paddle, and its maximum while it leads) comes only with its session.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from app.context import AppContext
from app.http.auctions.schemas import AuctionOut, BidHistoryItem
from app.http.auth import Actor
from app.pages.lots import LotContents, lot_contents
from auction import queries
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind
from transfer.kernel.money import format_fen, parse_yuan
from transfer.models import Participant

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


@dataclass(frozen=True, slots=True)
class Room:
    state: RoomState
    contents: LotContents
    seller_name: str


def next_amounts(view: AuctionOut, increment_fen: int, minimum_fen: int | None) -> list[str]:
    """The minimum bid and the next grid steps above it (English); the one price (other kinds)."""
    if minimum_fen is None:
        return []
    if view.kind != AuctionKind.ENGLISH.value:
        return [format_fen(minimum_fen)]
    return [format_fen(minimum_fen + step * increment_fen) for step in range(NEXT_AMOUNTS)]


async def read_room(ctx: AppContext, auction_id: int, viewer: Actor | None) -> Room:
    now = ctx.clock()
    async with ctx.database.read() as session:
        auction = await queries.get_auction(session, auction_id)
        mine = await queries.find_registration(session, auction_id, viewer.id) if viewer is not None else None
        sealed_until_close = auction.kind in SEALED_KINDS and auction.state in RUNNING_STATES
        bids = (
            []
            if sealed_until_close
            else await queries.bid_history(
                session,
                auction_id,
                after_sequence=max(0, auction.last_sequence - ROOM_HISTORY_BIDS),
                limit=ROOM_HISTORY_BIDS,
                live_only=auction.kind in SEALED_KINDS,
            )
        )
        contents = (await lot_contents(session, [auction]))[auction.id]
        seller = await session.get(Participant, auction.seller_id)
    view = AuctionOut.of(auction, now, mine)
    minimum_fen = (
        None if view.minimum_bid is None else parse_yuan(view.minimum_bid, "minimum_bid", allow_zero=True)
    )
    state = RoomState(
        auction=view,
        history=[BidHistoryItem.of(b) for b in reversed(bids)],
        next_amounts=next_amounts(view, auction.increment_fen, minimum_fen),
        sealed_until_close=sealed_until_close,
    )
    return Room(state, contents, seller.name if seller is not None else str(auction.seller_id))
