"""Auctions of the market's listings: a whole loan or an income-right share sold by auction.

The origin handler of `listing` lots (auction.origins). Only the listing's seller may auction it,
only a listing made with mode `auction`, and only while no other auction of it still runs; the lot
may name collateral of the listing's loan only. The sale is a trade of the market, settled delivery
versus payment by clearing, so the house releases every deposit at close.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from auction.models import Auction
from auction.origins import OriginHandler, SaleTaken
from auction.policy import AuctionState
from transfer.kernel.errors import Conflict
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.listings import lock_listing, lock_listing_for_auction, trade_from_auction
from transfer.market.policy import MarketPolicy
from transfer.registry.collateral import refuse_others_collateral

# A listing may be auctioned again after its last auction ended in one of these; any other state
# means that auction is still selling the listing (or has sold it).
FAILED_STATES = (AuctionState.UNSOLD, AuctionState.DEFAULTED, AuctionState.CANCELLED)


class ListingSales(OriginHandler):
    settles_sale = True

    def __init__(self, market: MarketPolicy) -> None:
        self.market = market

    async def claim(
        self, unit: UnitOfWork, seller_id: int, origin_id: int, collateral_ids: Sequence[int]
    ) -> None:
        listing = await lock_listing_for_auction(unit, origin_id, seller_id)
        if listing.auction_id is not None:
            current = (
                await unit.session.execute(
                    select(Auction.id, Auction.state).where(Auction.id == listing.auction_id)
                )
            ).one_or_none()
            if current is not None and current.state not in FAILED_STATES:
                raise Conflict(
                    "listing_already_auctioned",
                    f"auction {current.id} of listing {listing.id} is {current.state}",
                    field="lot.listing_id",
                )
        await refuse_others_collateral(
            unit.session, collateral_ids, lambda owner: owner.loan_id == listing.loan_id, "the listing's loan"
        )

    async def attach(self, unit: UnitOfWork, origin_id: int, auction: Auction) -> None:
        (await lock_listing(unit, origin_id)).auction_id = auction.id

    async def sold(self, unit: UnitOfWork, auction: Auction, winner_id: int, price_fen: int) -> SaleTaken:
        assert auction.origin_id is not None
        trade = await trade_from_auction(unit, auction.origin_id, winner_id, price_fen, self.market)
        return SaleTaken({"trade_id": trade.id})
