"""The auction house's part of the daily reconciliation: deposits must resolve (invariant 5), and
every auction past its end must close (invariant 4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.closing import CLOSABLE_STATES, due_to_close
from auction.models import Auction, CloseFailure, Registration
from transfer.clearing.reports import MAX_BREAKS_PER_KIND, Break
from transfer.models import LedgerTransfer


async def auction_breaks(session: AsyncSession, now: datetime, close_lag_s: int) -> list[Break]:
    return (
        await pending_deposits_on_finished_auctions(session)
        + await auctions_not_closed(session, now, close_lag_s)
        + await auctions_set_aside(session)
    )


async def pending_deposits_on_finished_auctions(session: AsyncSession) -> list[Break]:
    """A deposit hold still pending on an auction that is no longer running is a break (a lot set
    aside still holds its deposits, rightly: it is reported as set aside)."""
    rows = await session.execute(
        select(Auction.id, Registration.paddle, LedgerTransfer.id)
        .join(Registration, Registration.auction_id == Auction.id)
        .join(LedgerTransfer, LedgerTransfer.id == Registration.deposit_hold_id)
        .where(
            Auction.state.not_in([s.value for s in CLOSABLE_STATES]),
            LedgerTransfer.pending_status == "pending",
        )
        .limit(MAX_BREAKS_PER_KIND)
    )
    return [
        Break(
            "deposit_pending_on_closed_auction",
            f"auction:{auction_id}",
            f"paddle {paddle}: hold {hold} still pending",
        )
        for auction_id, paddle, hold in rows.all()
    ]


async def auctions_not_closed(session: AsyncSession, now: datetime, close_lag_s: int) -> list[Break]:
    """A running auction more than the closer's latency bound past its end."""
    rows = await session.execute(
        select(Auction.id, Auction.state, Auction.ends_at)
        .where(due_to_close(now - timedelta(seconds=close_lag_s)))
        .order_by(Auction.ends_at, Auction.id)
        .limit(MAX_BREAKS_PER_KIND)
    )
    return [
        Break(
            "auction_not_closed",
            f"auction:{auction_id}",
            f"ended {ends_at.isoformat()} ({int((now - ends_at).total_seconds())} s ago) and is still {state}",
        )
        for auction_id, state, ends_at in rows.all()
    ]


async def auctions_set_aside(session: AsyncSession) -> list[Break]:
    """A lot whose close failed and that is not closed yet."""
    rows = await session.execute(
        select(CloseFailure.auction_id, CloseFailure.attempts, CloseFailure.reason, CloseFailure.retry_at)
        .where(CloseFailure.resolved_at.is_(None))
        .order_by(CloseFailure.first_failed_at, CloseFailure.auction_id)
        .limit(MAX_BREAKS_PER_KIND)
    )
    return [
        Break(
            "auction_set_aside",
            f"auction:{auction_id}",
            f"close failed {attempts} time(s): {reason}; "
            + (
                f"next try {retry_at.isoformat()}" if retry_at else "no more retries: an admin must cancel it"
            ),
        )
        for auction_id, attempts, reason, retry_at in rows.all()
    ]
