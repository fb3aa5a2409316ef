"""Who sees what of an auction.

* The public view (`public_auction`), for anyone, with or without a key: the lot and its collateral
  (kind, registry number, title, appraisal), the terms (start price, increment, deposit, times),
  the state, current price, leading paddle and bid count, and the outcome. Never a maximum, an
  identity (a bidder is a paddle, 第18条; the seller is not named), a reserve amount, or a sealed
  amount before close: while a sealed auction runs it shows no price, no leader, no bid count.
* A caller with a key (`participant_auction`) sees the public view, the seller, and its own place:
  paddle, deposit, whether it leads, its own maximum (English) or its own envelope (sealed).

Any handler that lists lots (a session's among them) presents each with these two functions, after
reading the collateral of the whole page at once with `lot_collateral`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.http.auctions.schemas import AuctionOut, CollateralOut, LotOut, YouOut
from auction.bidding.lot import english_rules, english_state
from auction.bidding.place import descending_price_now
from auction.models import Auction, Bid, Registration
from auction.origins import OriginKind
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind, AuctionState
from auction.rules import minimum_bid_fen
from transfer.kernel.money import format_fen
from transfer.registry.collateral_facts import collateral_facts

CollateralIndex = Mapping[int, CollateralOut]


def _money(value: int | None) -> str | None:
    return None if value is None else format_fen(value)


def _collateral_ids(auction: Auction) -> list[int]:
    ids = json.loads(auction.collateral_ids)
    assert isinstance(ids, list) and all(isinstance(i, int) for i in ids), auction.id
    return ids


async def lot_collateral(session: AsyncSession, auctions: Iterable[Auction]) -> dict[int, CollateralOut]:
    """The collateral every lot among `auctions` names, by id: read together (one statement for a
    page of lots, not one per lot)."""
    facts = await collateral_facts(session, (i for auction in auctions for i in _collateral_ids(auction)))
    return {
        item.id: CollateralOut(
            item.id, item.kind, item.registry_number, item.title, format_fen(item.appraisal_fen)
        )
        for item in facts.values()
    }


def _sealed_hidden(auction: Auction) -> bool:
    return auction.kind in SEALED_KINDS and auction.state in RUNNING_STATES


def _shown_state(auction: Auction, now: datetime) -> str:
    """The state as of `now`: the stored one lags its times by up to a scheduler tick."""
    if auction.state in RUNNING_STATES and now >= auction.ends_at:
        return "closing"  # the closer runs within a tick of ends_at
    if auction.state == AuctionState.SCHEDULED and now >= auction.starts_at:
        return AuctionState.OPEN.value
    return auction.state


def _prices(auction: Auction, now: datetime) -> tuple[int | None, int | None]:
    """The current price and the least admissible bid now (fen); a sealed auction has neither
    until close, and then only its final price."""
    kind = AuctionKind(auction.kind)
    running = auction.state in RUNNING_STATES
    if kind is AuctionKind.ENGLISH:
        minimum = minimum_bid_fen(english_state(auction), english_rules(auction)) if running else None
        return auction.price_fen, minimum
    if kind is AuctionKind.DESCENDING:
        current = descending_price_now(auction, now) if running else auction.final_price_fen
        return current, current if running else None
    if kind is AuctionKind.FIXED_PRICE:
        return auction.start_price_fen, auction.start_price_fen if running else None
    return (None if running else auction.final_price_fen), None


def _lot(auction: Auction, collateral: CollateralIndex) -> LotOut:
    ids = _collateral_ids(auction)
    # Collateral items are kept for the record even after their pledge is released: never missing.
    assert all(i in collateral for i in ids), (auction.id, ids)
    return LotOut(
        auction.lot_title,
        auction.lot_description,
        auction.origin_id if auction.origin_kind == OriginKind.LISTING else None,
        ids,
        [collateral[i] for i in ids],
    )


def public_auction(auction: Auction, collateral: CollateralIndex, now: datetime) -> AuctionOut:
    """The public view of one lot (see the module's docstring): what anyone may see."""
    hidden = _sealed_hidden(auction)
    current_fen, minimum_fen = _prices(auction, now)
    return AuctionOut(
        id=auction.id,
        kind=auction.kind,
        state=_shown_state(auction, now),
        lot=_lot(auction, collateral),
        start_price=format_fen(auction.start_price_fen),
        increment=format_fen(auction.increment_fen),
        deposit=format_fen(auction.deposit_fen),
        has_reserve=auction.reserve_price_fen is not None,
        reserve_met=None if hidden else (auction.reserve_met and auction.leader_id is not None),
        starts_at=auction.starts_at.isoformat(),
        ends_at=auction.ends_at.isoformat(),
        scheduled_ends_at=auction.scheduled_ends_at.isoformat(),
        extension_window_s=auction.extension_window_s,
        extension_s=auction.extension_s,
        current_price=_money(current_fen),
        minimum_bid=_money(minimum_fen),
        leading_paddle=None if hidden else auction.leader_paddle,
        bid_count=None if hidden else auction.bid_count,
        registrations=auction.registration_count,
        final_price=_money(auction.final_price_fen),
        winning_paddle=auction.leader_paddle if auction.winner_id is not None else None,
        unsold_reason=auction.unsold_reason,
        payment_due_at=auction.payment_due_at.isoformat() if auction.payment_due_at else None,
        closed_at=auction.closed_at.isoformat() if auction.closed_at else None,
        cancel_reason=auction.cancel_reason,
        rerun_of=auction.rerun_of_id,
        server_time=now.isoformat(),
    )


def _you(auction: Auction, mine: Registration, sealed_bid: Bid | None) -> YouOut:
    leads = auction.leader_id == mine.bidder_id and not _sealed_hidden(auction)
    assert sealed_bid is None or (auction.kind in SEALED_KINDS and sealed_bid.bidder_id == mine.bidder_id)
    return YouOut(
        paddle=mine.paddle,
        deposit_state=mine.deposit_state,
        leading=leads,
        # A bidder sees their own maximum, never anyone else's.
        your_max=_money(auction.leader_max_fen) if leads and auction.kind == AuctionKind.ENGLISH else None,
        your_sealed_bid=None if sealed_bid is None else format_fen(sealed_bid.amount_fen),
    )


def participant_auction(
    auction: Auction,
    collateral: CollateralIndex,
    now: datetime,
    mine: Registration | None = None,
    sealed_bid: Bid | None = None,
) -> AuctionOut:
    """What a caller with a key sees: the public view, the seller, and (registered) its own place;
    `sealed_bid` is the caller's own live envelope in a sealed auction."""
    return msgspec.structs.replace(
        public_auction(auction, collateral, now),
        seller_id=auction.seller_id,
        you=None if mine is None else _you(auction, mine, sealed_bid),
    )
