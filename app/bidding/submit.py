"""One bid as the API places it, for callers inside the process (the room's form, the demo's
simulated bidders): the English driver path where it is on, else the unit of work under the lot's
FIFO gate, exactly as the bid handler (app/http/auctions/controller.py) runs it without an
Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from app.bidding.driver_bids import gated_english_bid
from app.context import AppContext
from auction.bidding.lot import BidResult
from auction.bidding.place import place_bid
from transfer.kernel.unit_of_work import UnitOfWork


async def submit_bid(
    ctx: AppContext, bidder_id: int, auction_id: int, amount_fen: int, max_amount_fen: int | None
) -> tuple[BidResult, datetime]:
    """The accepted bid and the server's receipt time; a refusal raises its DomainError."""
    on_driver = await gated_english_bid(ctx, bidder_id, auction_id, amount_fen, max_amount_fen)
    if on_driver is not None:
        return on_driver
    async with ctx.lot_gates.hold(auction_id) as gate_pass:
        policy = ctx.auction_policy

        async def work(unit: UnitOfWork) -> tuple[BidResult, datetime]:
            result = await place_bid(
                unit,
                auction_id,
                bidder_id,
                amount_fen,
                max_amount_fen,
                policy=policy,
                on_locked=gate_pass.release,
            )
            return result, unit.now

        return await ctx.transact(work, actor_id=bidder_id)
