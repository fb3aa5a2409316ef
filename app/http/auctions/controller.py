from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.types import ASGIApp

from app.bidding.handler import handle_bid
from app.context import AppContext
from app.http.auctions.schemas import (
    AuctionCreate,
    AuctionOut,
    AuctionPage,
    BidHistory,
    BidHistoryItem,
    BidIn,
    BidOut,
    CancelIn,
    PaymentIn,
    PaymentOut,
    RegistrationOut,
    require_aware,
)
from app.http.auctions.views import lot_collateral, participant_auction, public_auction
from app.http.auctions.watch import watch
from app.http.auth import Actor, ensure_roles, requires
from app.http.input_bounds import Offset, one_of
from app.http.mutation import answer_response, keyed_request, run_mutation
from app.http.public_reads import ANONYMOUS_READ
from auction import queries
from auction.creation import AuctionSpec, cancel_auction, create_auction
from auction.origins import OriginKind
from auction.payment import pay
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionState
from auction.registration import register
from transfer.kernel.money import format_fen, parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 200
BIDDER = frozenset({"bidder"})


def _optional_yuan(value: str | None, field: str) -> int | None:
    return None if value is None else parse_yuan(value, field)


def _spec(data: AuctionCreate) -> AuctionSpec:
    return AuctionSpec(
        kind=data.kind,
        lot_title=data.lot.title,
        lot_description=data.lot.description,
        origin_kind=OriginKind.DIRECT.value if data.lot.listing_id is None else OriginKind.LISTING.value,
        origin_id=data.lot.listing_id,
        collateral_ids=tuple(data.lot.collateral_ids),
        start_price_fen=parse_yuan(data.start_price, "start_price"),
        increment_fen=parse_yuan(data.increment, "increment"),
        deposit_fen=parse_yuan(data.deposit, "deposit", allow_zero=True),
        reserve_price_fen=_optional_yuan(data.reserve_price, "reserve_price"),
        starts_at=require_aware(data.starts_at, "starts_at"),
        ends_at=require_aware(data.ends_at, "ends_at"),
        extension_window_s=data.extension_window_s,
        extension_s=data.extension_s,
        decrement_fen=_optional_yuan(data.decrement, "decrement"),
        step_s=data.step_s,
        floor_price_fen=_optional_yuan(data.floor_price, "floor_price"),
        rerun_of_id=data.rerun_of,
    )


class AuctionController(Controller):
    path = "/api/v1/auctions"
    tags = ["auctions"]

    @post("/", guards=[requires("bank", "admin")], summary="Put a lot up for auction")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: AuctionCreate
    ) -> Response[AuctionOut]:
        spec = _spec(data)

        async def work(unit: UnitOfWork) -> AuctionOut:
            auction = await create_auction(unit, request.user.id, spec, ctx.auction_policy)
            return participant_auction(auction, await lot_collateral(unit.session, [auction]), unit.now)

        return await run_mutation(request, ctx, work)

    @get("/", security=ANONYMOUS_READ, summary="Auctions, soonest end first, paginated; anyone")
    async def list_all(
        self,
        request: Request[Actor | None, Any, Any],
        ctx: AppContext,
        state_filter: Annotated[
            str | None, Parameter(query="state", schema_extra=one_of(AuctionState))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> AuctionPage:
        now = ctx.clock()
        async with ctx.database.read() as session:
            rows, total = await queries.list_auctions(session, state=state_filter, limit=limit, offset=offset)
            collateral = await lot_collateral(session, rows)
        present = public_auction if request.user is None else participant_auction
        return AuctionPage([present(a, collateral, now) for a in rows], total, limit, offset)

    @get(
        "/{auction_id:int}",
        security=ANONYMOUS_READ,
        summary="State, current price, leading paddle, end (sealed: no prices until close); anyone",
    )
    async def detail(
        self, request: Request[Actor | None, Any, Any], ctx: AppContext, auction_id: int
    ) -> AuctionOut:
        viewer = request.user
        async with ctx.database.read() as session:
            auction = await queries.get_auction(session, auction_id)
            collateral = await lot_collateral(session, [auction])
            if viewer is None:
                return public_auction(auction, collateral, ctx.clock())
            mine = await queries.find_registration(session, auction_id, viewer.id)
            sealed_bid = (
                await queries.live_sealed_bid(session, auction_id, viewer.id)
                if mine is not None and auction.kind in SEALED_KINDS
                else None
            )
        return participant_auction(auction, collateral, ctx.clock(), mine, sealed_bid)

    @post(
        "/{auction_id:int}/registrations",
        guards=[requires("bidder")],
        summary="Hold the deposit, get a paddle",
    )
    async def register(
        self, request: Request[Actor, Any, Any], ctx: AppContext, auction_id: int
    ) -> Response[RegistrationOut]:
        async def work(unit: UnitOfWork) -> RegistrationOut:
            return RegistrationOut.of(await register(unit, auction_id, request.user.id, ctx.auction_policy))

        return await run_mutation(request, ctx, work)

    @post("/{auction_id:int}/bids", summary="Bid (with an optional proxy maximum); bidder role")
    async def bid(
        self, request: Request[Actor, Any, Any], ctx: AppContext, auction_id: int, data: BidIn
    ) -> Response[BidOut]:
        ensure_roles(request.user, BIDDER)  # not a guard: see ensure_roles
        amount_fen = parse_yuan(data.amount, "amount")
        max_amount_fen = _optional_yuan(data.max_amount, "max_amount")
        keyed = await keyed_request(request)
        answer = await handle_bid(ctx, request.user.id, auction_id, amount_fen, max_amount_fen, keyed=keyed)
        assert answer is not None  # handle_bid answers None only when asked for the driver alone
        return answer_response(answer)

    @get(
        "/{auction_id:int}/bids",
        security=ANONYMOUS_READ,
        summary="Public bid history by paddle (no maxima, no identities); anyone",
    )
    async def history(
        self,
        ctx: AppContext,
        auction_id: int,
        after_sequence: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 100,
    ) -> BidHistory:
        async with ctx.database.read() as session:
            auction = await queries.get_auction(session, auction_id)
            sealed_until_close = auction.kind in SEALED_KINDS and auction.state in RUNNING_STATES
            bids = (
                []
                if sealed_until_close
                else await queries.public_bid_history(
                    session, auction, after_sequence=after_sequence, limit=limit
                )
            )
        next_after = bids[-1][0].sequence if len(bids) == limit else None
        return BidHistory(auction_id, sealed_until_close, [BidHistoryItem.of(*b) for b in bids], next_after)

    @get(
        "/{auction_id:int}/events",
        security=ANONYMOUS_READ,
        summary="Server-sent events: bid, extended, closed (with server time); anyone",
        media_type="text/event-stream",
        description=(
            "Starts with `hello` (the lot as it stands). An English lot's bid events carry `id:`, the "
            "bid's sequence: reconnect with `Last-Event-ID` (or `since`) to get the bids missed "
            "since, from the history, before the live ones, with no gap and no repeat. A watcher "
            "that falls too far behind gets `reconnect` and the stream ends."
        ),
    )
    async def events(
        self,
        request: Request[Actor | None, Any, Any],
        ctx: AppContext,
        auction_id: int,
        since: Annotated[int | None, Parameter(description="the last event id seen")] = None,
        last_event_id: Annotated[
            str | None,
            Parameter(header="Last-Event-ID", description="the last event id seen; wins over since"),
        ] = None,
    ) -> ASGIApp:
        return await watch(ctx, request, auction_id, last_event_id, since)

    @post("/{auction_id:int}/payments", summary="The winner pays the balance from available funds")
    async def payment(
        self, request: Request[Actor, Any, Any], ctx: AppContext, auction_id: int, data: PaymentIn
    ) -> Response[PaymentOut]:
        async def work(unit: UnitOfWork) -> PaymentOut:
            paid = await pay(unit, auction_id, request.user.id, ctx.auction_policy)
            return PaymentOut(
                paid.auction.id,
                paid.auction.state,
                format_fen(paid.price_fen),
                format_fen(paid.deposit_applied_fen),
                format_fen(paid.balance_fen),
                unit.now.isoformat(),
            )

        return await run_mutation(request, ctx, work)

    @post(
        "/{auction_id:int}/cancel",
        status_code=200,
        guards=[requires("bank", "admin")],
        summary="Cancel before the first bid",
    )
    async def cancel(
        self, request: Request[Actor, Any, Any], ctx: AppContext, auction_id: int, data: CancelIn
    ) -> Response[AuctionOut]:
        async def work(unit: UnitOfWork) -> AuctionOut:
            auction = await cancel_auction(
                unit,
                auction_id,
                request.user.id,
                is_admin="admin" in request.user.roles,
                reason=data.reason,
                origins=ctx.auction_policy.origins,
            )
            return participant_auction(auction, await lot_collateral(unit.session, [auction]), unit.now)

        return await run_mutation(request, ctx, work)
