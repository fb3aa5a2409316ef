from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auctions.controller import _spec as auction_spec
from app.http.auctions.schemas import AuctionCreate, require_aware
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset, one_of
from app.http.market.schemas import (
    ListingCreate,
    ListingOut,
    ListingPage,
    OfferCreate,
    OfferOut,
    TradeList,
    TradeOut,
    TradePage,
)
from app.http.mutation import run_mutation
from auction.creation import create_auction
from auction.origins import OriginKind
from transfer.kernel.errors import DomainError
from transfer.kernel.money import parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market import listings
from transfer.market import queries as market_queries
from transfer.market.settlement import settle_trade
from transfer.market.trades import fee_lines_of

MAX_PAGE_SIZE = 200


def _auction_terms(data: ListingCreate) -> AuctionCreate:
    if data.auction is None:
        raise DomainError(
            "auction_terms_required", "an auction listing needs its auction terms", field="auction"
        )
    terms = {"lot": {"title": f"Loan {data.loan_id}: {data.kind.replace('_', ' ')}"}, **data.auction}
    try:
        return msgspec.convert(terms, AuctionCreate)
    except msgspec.ValidationError as error:
        raise DomainError("invalid_auction_terms", str(error), field="auction") from None


class ListingController(Controller):
    path = "/api/v1/listings"
    tags = ["market"]

    @post("/", summary="List a whole loan or an income-right share (negotiated, auction, subscription)")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: ListingCreate
    ) -> Response[ListingOut]:
        spec = listings.ListingSpec(
            loan_id=data.loan_id,
            kind=data.kind,
            mode=data.mode,
            asking_price_fen=parse_yuan(data.asking_price, "asking_price"),
            share_ppm=data.share_ppm,
            min_unit_ppm=data.min_unit_ppm,
            closes_at=require_aware(data.closes_at, "closes_at") if data.closes_at else None,
            holders_consent=data.holders_consent,
        )
        terms = _auction_terms(data) if data.mode == "auction" else None

        async def work(unit: UnitOfWork) -> ListingOut:
            listing = await listings.create_listing(unit, request.user.id, spec)
            if terms is not None:
                await create_auction(
                    unit,
                    request.user.id,
                    replace(auction_spec(terms), origin_kind=OriginKind.LISTING.value, origin_id=listing.id),
                    ctx.auction_policy,
                )
            return ListingOut.of(listing)

        return await run_mutation(request, ctx, work)

    @get("/", summary="Listings, newest first, paginated")
    async def list_all(
        self,
        ctx: AppContext,
        status_filter: Annotated[
            str | None, Parameter(query="status", schema_extra=one_of(market_queries.LISTING_STATUSES))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> ListingPage:
        async with ctx.database.read() as session:
            rows, total = await market_queries.list_listings(
                session, status=status_filter, limit=limit, offset=offset
            )
        return ListingPage([ListingOut.of(row) for row in rows], total, limit, offset)

    @get("/{listing_id:int}", summary="One listing")
    async def detail(self, ctx: AppContext, listing_id: int) -> ListingOut:
        async with ctx.database.read() as session:
            return ListingOut.of(await market_queries.get_listing(session, listing_id))

    @get("/{listing_id:int}/offers", summary="Offers: all of them for the seller, your own for a buyer")
    async def offers(
        self, request: Request[Actor, Any, Any], ctx: AppContext, listing_id: int
    ) -> list[OfferOut]:
        async with ctx.database.read() as session:
            listing = await market_queries.get_listing(session, listing_id)
            return [
                OfferOut.of(o)
                for o in await market_queries.offers_visible_to(session, listing, request.user.id)
            ]

    @post("/{listing_id:int}/offers", summary="Offer on a negotiated listing, or subscribe to a book")
    async def offer(
        self, request: Request[Actor, Any, Any], ctx: AppContext, listing_id: int, data: OfferCreate
    ) -> Response[OfferOut]:
        price_fen = None if data.price is None else parse_yuan(data.price, "price")

        async def work(unit: UnitOfWork) -> OfferOut:
            offer = await listings.make_offer(
                unit, listing_id, request.user.id, price_fen=price_fen, share_ppm=data.share_ppm
            )
            return OfferOut.of(offer)

        return await run_mutation(request, ctx, work)

    @post(
        "/{listing_id:int}/close", status_code=200, summary="Close a subscription book early; allocation runs"
    )
    async def close(
        self, request: Request[Actor, Any, Any], ctx: AppContext, listing_id: int
    ) -> Response[TradeList]:
        async def work(unit: UnitOfWork) -> TradeList:
            trades = await listings.close_subscription(
                unit, listing_id, ctx.market_policy, seller_id=request.user.id
            )
            return TradeList([TradeOut.of(t, await fee_lines_of(unit.session, t.id)) for t in trades])

        return await run_mutation(request, ctx, work)


class OfferController(Controller):
    path = "/api/v1/offers"
    tags = ["market"]

    @post("/{offer_id:int}/accept", summary="The seller accepts an offer: a trade")
    async def accept(
        self, request: Request[Actor, Any, Any], ctx: AppContext, offer_id: int
    ) -> Response[TradeOut]:
        async def work(unit: UnitOfWork) -> TradeOut:
            trade = await listings.accept_offer(unit, offer_id, request.user.id, ctx.market_policy)
            return TradeOut.of(trade, await fee_lines_of(unit.session, trade.id))

        return await run_mutation(request, ctx, work)


class TradeController(Controller):
    path = "/api/v1/trades"
    tags = ["market"]

    @get("/", summary="Trades of the caller (clearing: all), newest first, paginated")
    async def list_all(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        listing_id: int | None = None,
        status_filter: Annotated[
            str | None, Parameter(query="status", schema_extra=one_of(market_queries.TRADE_STATUSES))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> TradePage:
        async with ctx.database.read() as session:
            rows, total = await market_queries.list_trades(
                session,
                viewer_id=request.user.id,
                is_clearing=request.user.has_any(frozenset({"clearing", "admin"})),
                listing_id=listing_id,
                status=status_filter,
                limit=limit,
                offset=offset,
            )
        return TradePage([TradeOut.of(t) for t in rows], total, limit, offset)

    @get("/{trade_id:int}", summary="A trade with its fee lines (gross, waived, charged, rule)")
    async def detail(self, request: Request[Actor, Any, Any], ctx: AppContext, trade_id: int) -> TradeOut:
        async with ctx.database.read() as session:
            trade = await market_queries.get_trade(
                session,
                trade_id,
                viewer_id=request.user.id,
                is_clearing=request.user.has_any(frozenset({"clearing", "admin"})),
            )
            return TradeOut.of(trade, await fee_lines_of(session, trade.id))

    @post(
        "/{trade_id:int}/settle",
        status_code=200,
        guards=[requires("clearing")],
        summary="Delivery versus payment",
    )
    async def settle(
        self, request: Request[Actor, Any, Any], ctx: AppContext, trade_id: int
    ) -> Response[TradeOut]:
        async def work(unit: UnitOfWork) -> TradeOut:
            trade = await settle_trade(unit, trade_id, clerk_id=request.user.id)
            return TradeOut.of(trade, await fee_lines_of(unit.session, trade.id))

        return await run_mutation(request, ctx, work)
