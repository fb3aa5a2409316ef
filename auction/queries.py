"""Read side of the auction house: views, lists and the public bid history."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.models import Auction, Bid, Registration
from auction.policy import AuctionState
from transfer.kernel.errors import DomainError, NotFound


async def get_auction(session: AsyncSession, auction_id: int) -> Auction:
    auction = await session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    return auction


async def find_registration(session: AsyncSession, auction_id: int, bidder_id: int) -> Registration | None:
    return (
        await session.execute(
            select(Registration).where(
                Registration.auction_id == auction_id, Registration.bidder_id == bidder_id
            )
        )
    ).scalar_one_or_none()


async def list_auctions(
    session: AsyncSession, *, state: str | None, limit: int, offset: int
) -> tuple[list[Auction], int]:
    query = select(Auction)
    count = select(func.count()).select_from(Auction)
    if state is not None:
        if state not in {s.value for s in AuctionState}:
            raise DomainError(
                "unknown_state",
                f"state must be one of {', '.join(s.value for s in AuctionState)}",
                field="state",
            )
        query = query.where(Auction.state == state)
        count = count.where(Auction.state == state)
    total = int((await session.execute(count)).scalar_one())
    rows = await session.execute(query.order_by(Auction.ends_at, Auction.id).limit(limit).offset(offset))
    return list(rows.scalars()), total


async def bid_history(
    session: AsyncSession, auction_id: int, *, after_sequence: int, limit: int, live_only: bool
) -> list[Bid]:
    query = select(Bid).where(Bid.auction_id == auction_id, Bid.sequence > after_sequence)
    if live_only:
        query = query.where(Bid.superseded.is_(False))
    return list((await session.execute(query.order_by(Bid.sequence).limit(limit))).scalars())


async def live_sealed_bid(session: AsyncSession, auction_id: int, bidder_id: int) -> Bid | None:
    """A bidder's live envelope in a sealed auction (a newer one supersedes the older): shown to
    that bidder only, never to anyone else before close."""
    return (
        await session.execute(
            select(Bid).where(
                Bid.auction_id == auction_id, Bid.bidder_id == bidder_id, Bid.superseded.is_(False)
            )
        )
    ).scalar_one_or_none()
