"""Read side of the auction house: views, lists and the public bid history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.live_history import leader_after_bid, leader_of
from auction.models import Auction, Bid, Registration
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind, AuctionState
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


async def public_bid_history(
    session: AsyncSession, auction: Auction, *, after_sequence: int, limit: int
) -> list[tuple[Bid, bool]]:
    """A page of the history the public reads, each bid with whether the bidder leading before it
    made it (an English leader's bid only raises its hidden maximum: its amount is not shown)."""
    bids = await bid_history(
        session,
        auction.id,
        after_sequence=after_sequence,
        limit=limit,
        live_only=auction.kind in SEALED_KINDS,
    )
    if auction.kind != AuctionKind.ENGLISH or not bids:
        return [(bid, False) for bid in bids]
    leader = await leader_after_bid(session, auction.id, bids[0].sequence - 1)
    marked: list[tuple[Bid, bool]] = []
    for bid in bids:
        marked.append((bid, leader is not None and leader.paddle == bid.paddle))
        if bid.leading_after:
            leader = leader_of(bid)
    return marked


class Phase(StrEnum):
    """Where a lot stands for someone reading a catalogue, by the server clock."""

    UPCOMING = "upcoming"  # not started yet
    LIVE = "live"  # started and not closed (a lot past its end shows here until the closer runs)
    ENDED = "ended"  # closed, whatever the outcome


async def auctions_in_phase(
    session: AsyncSession, phase: Phase, now: datetime, *, limit: int
) -> tuple[list[Auction], int]:
    """A phase's lots, the most pressing first: upcoming by start, live by end, ended newest first."""
    running = Auction.state.in_([s.value for s in RUNNING_STATES])
    where: ColumnElement[bool]
    order: tuple[Any, ...]
    if phase is Phase.UPCOMING:
        where = running & (Auction.starts_at > now)
        order = (Auction.starts_at, Auction.id)
    elif phase is Phase.LIVE:
        where = running & (Auction.starts_at <= now)
        order = (Auction.ends_at, Auction.id)
    else:
        where = ~running
        order = (Auction.ends_at.desc(), Auction.id.desc())
    total = int((await session.execute(select(func.count()).select_from(Auction).where(where))).scalar_one())
    rows = await session.execute(select(Auction).where(where).order_by(*order).limit(limit))
    return list(rows.scalars()), total


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
