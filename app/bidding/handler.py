"""The answer to `POST /api/v1/auctions/{id}/bids`, for both fronts that serve it: the raw ASGI one
(app/bidding/fast_path.py) and the Litestar handler (app/http/auctions/controller.py). The mode a
bid takes is chosen here (ARCHITECTURE.md, "The path of an English bid")."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext

import msgspec
from litestar.status_codes import HTTP_201_CREATED

from app.bidding.driver_bids import batched_english_bid, driver_bids_on
from app.bidding.lot_gates import GatePass
from app.context import AppContext
from app.http.auctions.schemas import BidOut
from app.http.idempotency import KeyedRequest, StoredAnswer
from app.http.mutation import answer_once
from auction.bidding.place import place_bid
from transfer.kernel.unit_of_work import UnitOfWork


async def handle_bid(
    context: AppContext,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    keyed: KeyedRequest | None = None,
    driver_only: bool = False,
) -> StoredAnswer | None:
    """The bid's answer (201 and the bid, or the answer stored for its Idempotency-Key), its
    refusal raised as the DomainError it is. The caller has checked the bidder role.

    Without a key, on PostgreSQL's driver, an English bid takes the optimistic mode, batched with
    its lot's other bids. Every other bid (a key, SQLite, IPX_DRIVER_BIDS=false, a lot of another
    kind) takes the locked mode in a unit of work, where a key's claim shares the bid's transaction.
    driver_only: answer None, having written nothing, instead of taking the locked mode.
    """
    if keyed is None and driver_bids_on(context) and auction_id not in context.not_english:
        outcome = await batched_english_bid(context, bidder_id, auction_id, amount_fen, max_amount_fen)
        if outcome is not None:
            body = msgspec.json.encode(BidOut.of(outcome.answer(), outcome.sink.now))
            return StoredAnswer(HTTP_201_CREATED, body, replayed=False)
    if driver_only:
        return None
    return await _locked_bid(context, bidder_id, auction_id, amount_fen, max_amount_fen, keyed)


async def _locked_bid(
    context: AppContext,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    keyed: KeyedRequest | None,
) -> StoredAnswer:
    # Only this route reads the policy (for the other kinds): the optimistic one never builds it.
    policy = context.auction_policy
    # Bids on a lot the driver found to be of another kind queue here in arrival order, so a burst
    # on it does not park every pooled connection on its row lock. English bids come here only
    # with a key, or on SQLite, whose write gate already queues every writer of the process.
    gate: AbstractAsyncContextManager[GatePass | None] = (
        context.lot_gates.hold(auction_id) if auction_id in context.not_english else nullcontext()
    )
    async with gate as gate_pass:

        async def work(unit: UnitOfWork) -> BidOut:
            on_locked = None if gate_pass is None else gate_pass.release
            result = await place_bid(
                unit, auction_id, bidder_id, amount_fen, max_amount_fen, policy=policy, on_locked=on_locked
            )
            return BidOut.of(result, unit.now)

        return await answer_once(context, bidder_id, keyed, work, status_code=HTTP_201_CREATED)
