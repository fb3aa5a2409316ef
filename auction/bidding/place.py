"""Placing one bid of any kind in the locked mode, in a unit of work: the lot read under its row
lock; an English bid judged and written by the English executor (auction/bidding/english.py, a
batch of one); sealed envelopes, and first-acceptor sales (descending and fixed price) that close
the lot at once, each on its own path from the same read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    update,
)

from auction.bidding.english import place_english_bids
from auction.bidding.judge import biddable_registrant, new_bid
from auction.bidding.lot import BidResult, EnglishBidRequest, NotEnglish, Registrant
from auction.bidding.statements import SessionStatements
from auction.closing import close_auction
from auction.creation import descending_rules, lock_auction
from auction.errors import BidRefused
from auction.models import Auction, Bid
from auction.policy import (
    FIRST_ACCEPTOR_KINDS,
    SEALED_KINDS,
    AuctionKind,
    AuctionPolicy,
)
from auction.rules import (
    Refusal,
    RefusalReason,
    SealedKind,
    SealedRules,
    clock_price_fen,
    sealed_bid_refusal,
)
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork


async def place_bid(
    unit: UnitOfWork,
    auction_id: int,
    bidder_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    policy: AuctionPolicy,
    on_locked: Callable[[], None] | None = None,
) -> BidResult:
    """The bid, in the unit's transaction (with whatever else the unit does in it: an
    Idempotency-Key's claim), at the unit's time. on_locked: called for a lot of another kind once
    its row lock is held (the app lets that lot's next bid queue for the lock then, see
    app/bidding/lot_gates.py)."""
    statements = SessionStatements(unit)
    request = EnglishBidRequest(bidder_id, amount_fen, max_amount_fen, unit.now)
    try:
        [outcome], _ = await place_english_bids(statements, auction_id, [request])
    except NotEnglish as other:
        lot = other.lot_for(bidder_id)
    else:
        unit.live_events.extend(outcome.sink.live_events)  # published once the unit commits
        return outcome.answer()
    if on_locked is not None:
        on_locked()
    # The other kinds are rare and change more of the lot: they work on the ORM entity (the row
    # lock is already held, so loading it waits for nobody).
    registrant = biddable_registrant(lot, unit.now, bidder_id)
    kind = AuctionKind(lot.kind)
    auction = await lock_auction(unit, lot.id)
    if max_amount_fen is not None:
        raise DomainError(
            "max_amount_not_allowed", f"a {kind.value} auction takes no max_amount", field="max_amount"
        )
    if kind in SEALED_KINDS:
        return await _sealed_bid(unit, auction, registrant, amount_fen)
    assert kind in FIRST_ACCEPTOR_KINDS
    return await _acceptance(unit, auction, registrant, amount_fen, policy)


async def _sealed_bid(
    unit: UnitOfWork, auction: Auction, registrant: Registrant, amount_fen: int
) -> BidResult:
    rules = SealedRules(
        SealedKind(auction.kind), auction.start_price_fen, auction.increment_fen, auction.reserve_price_fen
    )
    refusal = sealed_bid_refusal(amount_fen, rules)
    if refusal is not None:
        raise BidRefused(refusal)
    # One live envelope per bidder: the new one replaces the old until close.
    await unit.session.execute(
        update(Bid)
        .where(Bid.auction_id == auction.id, Bid.bidder_id == registrant.bidder_id, Bid.superseded.is_(False))
        .values(superseded=True)
    )
    bid = new_bid(unit, auction, registrant, amount_fen, None)
    auction.bid_count += 1
    unit.record(
        "auction.sealed_bid",
        f"auction:{auction.id}",
        {
            "sequence": bid.sequence,
            "bidder_id": registrant.bidder_id,
            "paddle": registrant.paddle,
            "amount_fen": amount_fen,
        },
    )
    return BidResult.of(auction, bid, bidder_leads=False, extended=False)


async def _acceptance(
    unit: UnitOfWork, auction: Auction, registrant: Registrant, amount_fen: int, policy: AuctionPolicy
) -> BidResult:
    """Descending clock or fixed price: the first acceptor wins at the price on the clock now."""
    if auction.kind == AuctionKind.DESCENDING:
        price_fen = clock_price_fen(descending_rules(auction), unit.now)
    else:
        price_fen = auction.start_price_fen
    if amount_fen < price_fen:
        raise BidRefused(Refusal(RefusalReason.BELOW_MINIMUM, minimum_fen=price_fen))
    bid = new_bid(unit, auction, registrant, amount_fen, None)
    bid.price_after_fen = price_fen
    bid.leading_after = True
    auction.bid_count += 1
    auction.price_fen = price_fen
    auction.leader_id = registrant.bidder_id
    auction.leader_paddle = registrant.paddle
    unit.record(
        "auction.accepted",
        f"auction:{auction.id}",
        {
            "sequence": bid.sequence,
            "bidder_id": registrant.bidder_id,
            "paddle": registrant.paddle,
            "price_fen": price_fen,
        },
    )
    await close_auction(unit, auction, policy)
    return BidResult.of(auction, bid, bidder_leads=True, extended=False)


def descending_price_now(auction: Auction, now: datetime) -> int | None:
    if auction.kind != AuctionKind.DESCENDING or now < auction.starts_at:
        return None
    return clock_price_fen(descending_rules(auction), min(now, auction.ends_at))
