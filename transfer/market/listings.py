"""Listings and matching: negotiated offers, subscription books, and trades from auctions.

Eligibility rules refuse with a problem naming the rule: a seller cannot buy its own listing; income
rights of a non-performing loan go only to qualified institutional investors (银登中心收益权转让业务规则
第8条); a whole loan is listed only by its creditor, and only when nobody else holds part of its income
right or those holders consented.

Its length is those eligibility rules next to the three ways a trade is made that they guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update

from transfer.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.policy import MarketPolicy
from transfer.market.reservations import (
    refuse_listing_beyond_free_share,
    refuse_match_beyond_free_share,
)
from transfer.market.trades import create_trade
from transfer.models.loans import Loan
from transfer.models.market import Listing, Offer, Trade
from transfer.registry.loans import REPAID, is_ip_pledge_loan, refuse_defaulted
from transfer.registry.market_standing import refuse_without_market_standing
from transfer.registry.ownership import lock_loan, register_of
from transfer.rules.largest_remainder import allocate
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.rules.subscription import Subscription, allocate_subscriptions

KINDS = ("whole_loan", "income_right")
MODES = ("negotiated", "auction", "subscription")
MAX_OFFERS_PER_LISTING = 10_000
CLOSE_BATCH_SIZE = 100


@dataclass(frozen=True, slots=True)
class ListingSpec:
    loan_id: int
    kind: str
    mode: str
    asking_price_fen: int
    share_ppm: int | None = None
    min_unit_ppm: int | None = None
    closes_at: datetime | None = None
    holders_consent: bool = False


async def create_listing(unit: UnitOfWork, seller_id: int, spec: ListingSpec) -> Listing:
    if spec.kind not in KINDS:
        raise DomainError("unknown_kind", f"kind must be one of {', '.join(KINDS)}", field="kind")
    if spec.mode not in MODES:
        raise DomainError("unknown_mode", f"mode must be one of {', '.join(MODES)}", field="mode")
    loan = await lock_loan(unit, spec.loan_id)
    if loan.status == REPAID:
        raise Conflict(
            "loan_repaid", f"loan {loan.id} is repaid: there is nothing left to transfer", field="loan_id"
        )
    refuse_defaulted(loan, "loan_id")
    register = await register_of(unit, loan.id)
    if spec.kind == "whole_loan":
        share_ppm = _whole_loan_share_ppm(loan, register, seller_id, spec)
    else:
        share_ppm = _income_right_share_ppm(register.get(seller_id, 0), spec)
    min_unit_ppm = spec.min_unit_ppm or 1
    if min_unit_ppm <= 0 or share_ppm % min_unit_ppm:
        raise DomainError(
            "share_not_in_units", "share_ppm must be a whole number of min_unit_ppm", field="min_unit_ppm"
        )
    if spec.mode == "subscription" and (spec.closes_at is None or spec.closes_at <= unit.now):
        raise DomainError(
            "closes_at_required", "a subscription book needs closes_at in the future", field="closes_at"
        )
    if spec.kind == "whole_loan":
        await _refuse_second_whole_loan_listing(unit, loan.id, seller_id)
    await refuse_listing_beyond_free_share(unit, loan.id, seller_id, share_ppm)
    listing = Listing(
        loan_id=loan.id,
        seller_id=seller_id,
        kind=spec.kind,
        mode=spec.mode,
        share_ppm=share_ppm,
        asking_price_fen=spec.asking_price_fen,
        min_unit_ppm=min_unit_ppm,
        closes_at=spec.closes_at if spec.mode == "subscription" else None,
        status="open",
        holders_consent=spec.holders_consent,
        offer_count=0,
        created_at=unit.now,
    )
    unit.session.add(listing)
    await unit.session.flush()
    unit.record(
        "listing.created",
        f"listing:{listing.id}",
        {
            "loan_id": loan.id,
            "kind": spec.kind,
            "mode": spec.mode,
            "share_ppm": share_ppm,
            "asking_price_fen": spec.asking_price_fen,
            "closes_at": listing.closes_at.isoformat() if listing.closes_at else None,
        },
    )
    return listing


def _whole_loan_share_ppm(loan: Loan, register: Mapping[int, int], seller_id: int, spec: ListingSpec) -> int:
    """What a whole-loan listing offers: the creditor's own share, the others' only with their consent."""
    if loan.creditor_id != seller_id:
        raise Forbidden("not_creditor", "only the loan's creditor may list the whole loan", field="loan_id")
    others = {holder: ppm for holder, ppm in register.items() if holder != seller_id and ppm > 0}
    if others and not spec.holders_consent:
        raise Conflict(
            "income_rights_held_by_others",
            f"{len(others)} other holder(s) own part of this loan's income right; list with holders_consent",
            field="holders_consent",
        )
    if spec.mode == "subscription":
        raise DomainError(
            "subscription_only_income_right", "subscription books are for income rights", field="mode"
        )
    return register.get(seller_id, 0)


def _income_right_share_ppm(held_ppm: int, spec: ListingSpec) -> int:
    """What an income-right listing offers: a share of at most what the seller holds."""
    if spec.share_ppm is None or not 0 < spec.share_ppm <= WHOLE_SHARE_PPM:
        raise DomainError(
            "share_required", "an income-right listing needs 0 < share_ppm ≤ 1000000", field="share_ppm"
        )
    if held_ppm < spec.share_ppm:
        raise Conflict(
            "share_exceeds_holding", f"you hold {held_ppm} ppm of this income right", field="share_ppm"
        )
    return spec.share_ppm


async def _refuse_second_whole_loan_listing(unit: UnitOfWork, loan_id: int, seller_id: int) -> None:
    open_listing = (
        await unit.session.execute(
            select(Listing.id).where(
                Listing.loan_id == loan_id, Listing.seller_id == seller_id, Listing.status == "open"
            )
        )
    ).first()
    if open_listing is not None:
        raise Conflict(
            "already_listed", f"listing {open_listing[0]} already offers this loan", field="loan_id"
        )
    # A whole loan sold and not yet settled is sold: its title is not offered twice, even when the
    # creditor's own income-right share (what transfer.market.reservations counts) is nothing.
    pending = (
        await unit.session.execute(
            select(Trade.id).where(
                Trade.loan_id == loan_id,
                Trade.seller_id == seller_id,
                Trade.kind == "whole_loan",
                Trade.status == "pending",
            )
        )
    ).first()
    if pending is not None:
        raise Conflict(
            "already_listed", f"trade {pending[0]} already sells this loan, unsettled", field="loan_id"
        )


async def lock_listing(unit: UnitOfWork, listing_id: int) -> Listing:
    return await lock_row(unit, Listing, listing_id, code="listing_not_found", noun="listing", field="id")


async def _check_buyer(unit: UnitOfWork, listing: Listing, buyer_id: int) -> None:
    buyer = await refuse_without_market_standing(unit.session, buyer_id)
    if buyer_id == listing.seller_id:
        raise Forbidden("seller_cannot_buy", "a seller cannot buy its own listing")
    loan = await lock_loan(unit, listing.loan_id)
    if loan.status == REPAID:
        # Repaid after it was listed: the listing stays visible, but nothing is left to buy.
        raise Conflict("loan_repaid", f"loan {loan.id} is repaid: there is nothing left to transfer")
    refuse_defaulted(loan, None)
    if listing.kind == "income_right" and loan.status == "non_performing" and not buyer.qualified_investor:
        raise Forbidden(
            "qualified_investor_required",
            "income rights of a non-performing loan go only to qualified institutional investors",
        )


async def make_offer(
    unit: UnitOfWork, listing_id: int, buyer_id: int, *, price_fen: int | None, share_ppm: int | None
) -> Offer:
    # Who may buy is decided before what is for sale: the door, then the listing's state.
    await refuse_without_market_standing(unit.session, buyer_id)
    listing = await lock_listing(unit, listing_id)
    if listing.status != "open":
        raise Conflict("listing_not_open", f"listing {listing_id} is {listing.status}")
    if listing.mode == "auction":
        raise Conflict("listing_is_auctioned", f"bid in auction {listing.auction_id} instead", field="id")
    if listing.offer_count >= MAX_OFFERS_PER_LISTING:
        raise Conflict("too_many_offers", f"a listing takes at most {MAX_OFFERS_PER_LISTING} offers")
    await _check_buyer(unit, listing, buyer_id)
    wanted_ppm = listing.share_ppm if share_ppm is None else share_ppm
    if not 0 < wanted_ppm <= listing.share_ppm or wanted_ppm % listing.min_unit_ppm:
        raise DomainError(
            "share_out_of_range",
            f"share_ppm must be a multiple of {listing.min_unit_ppm} up to {listing.share_ppm}",
            field="share_ppm",
        )
    if listing.mode == "subscription":
        assert listing.closes_at is not None
        if unit.now >= listing.closes_at:
            raise Conflict("book_closed", "the subscription book has closed")
        existing = (
            await unit.session.execute(
                select(Offer.id).where(
                    Offer.listing_id == listing.id, Offer.buyer_id == buyer_id, Offer.status == "open"
                )
            )
        ).first()
        if existing is not None:
            raise Conflict("already_subscribed", f"you already subscribed (offer {existing[0]})")
        # A subscription is at the listing's price per ppm; the price is fixed when allocated.
        offer_price_fen = listing.asking_price_fen * wanted_ppm // listing.share_ppm
    else:
        if price_fen is None:
            raise DomainError(
                "price_required", "an offer on a negotiated listing needs a price", field="price"
            )
        offer_price_fen = price_fen
    listing.offer_count += 1
    offer = Offer(
        listing_id=listing.id,
        buyer_id=buyer_id,
        price_fen=max(offer_price_fen, 1),
        share_ppm=wanted_ppm,
        sequence=listing.offer_count,
        status="open",
        created_at=unit.now,
    )
    unit.session.add(offer)
    await unit.session.flush()
    unit.record(
        "offer.made",
        f"listing:{listing.id}",
        {"offer_id": offer.id, "buyer_id": buyer_id, "price_fen": offer.price_fen, "share_ppm": wanted_ppm},
    )
    return offer


async def accept_offer(unit: UnitOfWork, offer_id: int, seller_id: int, policy: MarketPolicy) -> Trade:
    offer = await unit.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("offer_not_found", f"offer {offer_id} does not exist", field="id")
    listing = await lock_listing(unit, offer.listing_id)
    if listing.seller_id != seller_id:
        raise Forbidden("not_your_listing", "only the seller accepts offers on a listing")
    if listing.mode != "negotiated":
        raise Conflict(
            "not_negotiated", "offers are accepted only on negotiated listings; subscription books allocate"
        )
    await unit.session.refresh(offer)
    if listing.status != "open" or offer.status != "open":
        raise Conflict("offer_not_open", f"the listing is {listing.status} and the offer {offer.status}")
    await _check_buyer(unit, listing, offer.buyer_id)
    await refuse_match_beyond_free_share(unit, listing.loan_id, listing.seller_id, offer.share_ppm)
    trade = await create_trade(
        unit,
        listing,
        buyer_id=offer.buyer_id,
        share_ppm=offer.share_ppm,
        price_fen=offer.price_fen,
        is_ip_pledge=await is_ip_pledge_loan(unit.session, listing.loan_id),
        policy=policy,
        offer_id=offer.id,
    )
    offer.status = "accepted"
    await unit.session.execute(
        update(Offer).where(Offer.listing_id == listing.id, Offer.status == "open").values(status="lapsed")
    )
    listing.status = "matched"
    return trade


async def close_subscription(
    unit: UnitOfWork, listing_id: int, policy: MarketPolicy, *, seller_id: int | None = None
) -> list[Trade]:
    """Allocate the book (pro rata in min units, largest remainder, ties to earlier) into trades."""
    listing = await lock_listing(unit, listing_id)
    if seller_id is not None and listing.seller_id != seller_id:
        raise Forbidden("not_your_listing", "only the seller closes its subscription book")
    if listing.mode != "subscription":
        raise Conflict("not_subscription", "only a subscription book is closed and allocated")
    if listing.status != "open":
        raise Conflict("listing_not_open", f"listing {listing_id} is {listing.status}")
    offers = list(
        (
            await unit.session.execute(
                select(Offer)
                .where(Offer.listing_id == listing.id, Offer.status == "open")
                .order_by(Offer.sequence)
            )
        ).scalars()
    )
    outcome = allocate_subscriptions(
        listing.share_ppm,
        listing.min_unit_ppm,
        [Subscription(o.id, o.share_ppm, o.sequence) for o in offers],
    )
    allocated = {a.subscription_id: a.share_ppm_allocated for a in outcome.allocations}
    winners = [o for o in offers if allocated.get(o.id, 0) > 0]
    # The price of what is allocated, split over the allocations so the parts sum exactly.
    total_price_fen = listing.asking_price_fen * outcome.share_ppm_allocated // listing.share_ppm
    prices_fen = allocate(total_price_fen, [allocated[o.id] for o in winners]) if winners else []
    is_ip_pledge = await is_ip_pledge_loan(unit.session, listing.loan_id)
    trades = []
    for offer, price_fen in zip(winners, prices_fen, strict=True):
        offer.status = "allocated"
        offer.allocated_ppm = allocated[offer.id]
        trades.append(
            await create_trade(
                unit,
                listing,
                buyer_id=offer.buyer_id,
                share_ppm=allocated[offer.id],
                price_fen=price_fen,
                is_ip_pledge=is_ip_pledge,
                policy=policy,
                offer_id=offer.id,
            )
        )
    for offer in offers:
        if offer.status == "open":
            offer.status = "not_allocated"
            offer.allocated_ppm = 0
    listing.status = "closed"
    unit.record(
        "listing.allocated",
        f"listing:{listing.id}",
        {
            "offered_ppm": listing.share_ppm,
            "allocated_ppm": outcome.share_ppm_allocated,
            "oversubscribed": outcome.oversubscribed,
            "allocations": {str(o.id): allocated.get(o.id, 0) for o in offers},
        },
    )
    return trades


def subscription_due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Subscription books past their closing time and not yet allocated."""
    return and_(Listing.mode == "subscription", Listing.status == "open", Listing.closes_at <= now)


async def close_due_subscriptions(
    unit: UnitOfWork, policy: MarketPolicy, limit: int = CLOSE_BATCH_SIZE
) -> int:
    due = (
        (
            await unit.session.execute(
                select(Listing.id)
                .where(subscription_due(unit.now))
                .order_by(Listing.closes_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for listing_id in due:
        await close_subscription(unit, listing_id, policy)
    return len(due)


async def lock_listing_for_auction(unit: UnitOfWork, listing_id: int, seller_id: int) -> Listing:
    """The listing an auction is about to sell, under its lock: only the seller's own, open,
    listed for sale by auction. Nobody may put up for sale what is not theirs."""
    listing = await lock_row(
        unit, Listing, listing_id, code="listing_not_found", noun="listing", field="lot.listing_id"
    )
    if listing.seller_id != seller_id:
        raise Forbidden(
            "not_your_listing", "only the listing's seller may auction a listing", field="lot.listing_id"
        )
    if listing.status != "open":
        raise Conflict(
            "listing_not_open", f"listing {listing_id} is {listing.status}", field="lot.listing_id"
        )
    if listing.mode != "auction":
        raise Conflict(
            "listing_not_for_auction",
            f"listing {listing_id} is {listing.mode}; only a listing made with mode auction is auctioned",
            field="lot.listing_id",
        )
    loan = await lock_loan(unit, listing.loan_id)
    if loan.status == REPAID:
        raise Conflict(
            "loan_repaid",
            f"loan {loan.id} is repaid: there is nothing left to transfer",
            field="lot.listing_id",
        )
    refuse_defaulted(loan, "lot.listing_id")
    return listing


async def trade_from_auction(
    unit: UnitOfWork, listing_id: int, buyer_id: int, price_fen: int, policy: MarketPolicy
) -> Trade:
    """The auction engine calls this when an auction of a listing sells: the result is a trade."""
    listing = await lock_listing(unit, listing_id)
    if listing.status != "open":
        raise Conflict("listing_not_open", f"listing {listing_id} is {listing.status}")
    trade = await create_trade(
        unit,
        listing,
        buyer_id=buyer_id,
        share_ppm=listing.share_ppm,
        price_fen=price_fen,
        is_ip_pledge=await is_ip_pledge_loan(unit.session, listing.loan_id),
        policy=policy,
    )
    listing.status = "matched"
    return trade
