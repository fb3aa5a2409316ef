from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, Yuan, one_of_values
from transfer.kernel.money import format_fen
from transfer.market.listings import KINDS as LISTING_KINDS
from transfer.market.listings import MODES as LISTING_MODES
from transfer.models.market import FeeLine, Listing, Offer, Trade

SharePpm = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class ListingCreate(msgspec.Struct, forbid_unknown_fields=True):
    loan_id: Id
    kind: Annotated[str, one_of_values(LISTING_KINDS, max_length=64)]
    mode: Annotated[str, one_of_values(LISTING_MODES, max_length=64)]
    asking_price: Yuan
    share_ppm: SharePpm | None = None
    min_unit_ppm: SharePpm | None = None
    closes_at: datetime | None = None
    holders_consent: bool = False
    # For mode "auction": the auction's terms, as for POST /api/v1/auctions (lot may be omitted).
    auction: dict[str, object] | None = None


class OfferCreate(msgspec.Struct, forbid_unknown_fields=True):
    price: Yuan | None = None
    share_ppm: SharePpm | None = None


class ListingOut(msgspec.Struct):
    id: int
    loan_id: int
    seller_id: int
    kind: str
    mode: str
    share_ppm: int
    asking_price: str
    min_unit_ppm: int
    closes_at: str | None
    status: str
    auction_id: int | None
    offer_count: int
    created_at: str

    @classmethod
    def of(cls, listing: Listing) -> ListingOut:
        return cls(
            listing.id,
            listing.loan_id,
            listing.seller_id,
            listing.kind,
            listing.mode,
            listing.share_ppm,
            format_fen(listing.asking_price_fen),
            listing.min_unit_ppm,
            listing.closes_at.isoformat() if listing.closes_at else None,
            listing.status,
            listing.auction_id,
            listing.offer_count,
            listing.created_at.isoformat(),
        )


class ListingPage(msgspec.Struct):
    items: list[ListingOut]
    total: int
    limit: int
    offset: int


class OfferOut(msgspec.Struct):
    id: int
    listing_id: int
    buyer_id: int
    price: str
    share_ppm: int
    status: str
    allocated_ppm: int | None
    created_at: str

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls(
            offer.id,
            offer.listing_id,
            offer.buyer_id,
            format_fen(offer.price_fen),
            offer.share_ppm,
            offer.status,
            offer.allocated_ppm,
            offer.created_at.isoformat(),
        )


class FeeLineOut(msgspec.Struct):
    item: str
    payer: str
    payer_id: int
    gross: str
    waived: str
    charged: str
    rule: str

    @classmethod
    def of(cls, line: FeeLine) -> FeeLineOut:
        return cls(
            line.item,
            line.payer,
            line.payer_id,
            format_fen(line.gross_fen),
            format_fen(line.waived_fen),
            format_fen(line.charged_fen),
            line.rule,
        )


class TradeOut(msgspec.Struct):
    id: int
    listing_id: int
    loan_id: int
    kind: str
    seller_id: int
    buyer_id: int
    share_ppm: int
    price: str
    is_ip_pledge: bool
    trade_date: str
    settlement_due_on: str
    status: str
    settled_at: str | None
    fees: list[FeeLineOut] | None = None

    @classmethod
    def of(cls, trade: Trade, fees: list[FeeLine] | None = None) -> TradeOut:
        return cls(
            trade.id,
            trade.listing_id,
            trade.loan_id,
            trade.kind,
            trade.seller_id,
            trade.buyer_id,
            trade.share_ppm,
            format_fen(trade.price_fen),
            trade.is_ip_pledge,
            trade.trade_date.isoformat(),
            trade.settlement_due_on.isoformat(),
            trade.status,
            trade.settled_at.isoformat() if trade.settled_at else None,
            None if fees is None else [FeeLineOut.of(line) for line in fees],
        )


class TradePage(msgspec.Struct):
    items: list[TradeOut]
    total: int
    limit: int
    offset: int


class TradeList(msgspec.Struct):
    trades: list[TradeOut]
