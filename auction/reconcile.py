"""The auction house's part of the daily reconciliation: deposits must resolve (invariant 5)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.models import Auction, Registration
from auction.policy import RUNNING_STATES
from transfer.models import LedgerTransfer
from transfer.reports import MAX_BREAKS_PER_KIND, Break


async def pending_deposits_on_finished_auctions(session: AsyncSession) -> list[Break]:
    """A deposit hold still pending on an auction that is no longer running is a break."""
    rows = await session.execute(
        select(Auction.id, Registration.paddle, LedgerTransfer.id)
        .join(Registration, Registration.auction_id == Auction.id)
        .join(LedgerTransfer, LedgerTransfer.id == Registration.deposit_hold_id)
        .where(
            Auction.state.not_in([s.value for s in RUNNING_STATES]),
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
