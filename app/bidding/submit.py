"""One bid as the API places it, for callers inside the process (the room's form, the demo's
simulated bidders): the bid handler's own `handle_bid`, as it runs a bid without an
Idempotency-Key, its answer decoded."""

from __future__ import annotations

import msgspec

from app.bidding.handler import handle_bid
from app.context import AppContext
from app.http.auctions.schemas import BidOut


async def submit_bid(
    ctx: AppContext, bidder_id: int, auction_id: int, amount_fen: int, max_amount_fen: int | None
) -> BidOut:
    """The accepted bid as the API answers it; a refusal raises its DomainError."""
    answer = await handle_bid(ctx, bidder_id, auction_id, amount_fen, max_amount_fen)
    assert answer is not None  # handle_bid answers None only when asked for the driver alone
    return msgspec.json.decode(answer.body, type=BidOut)
