"""Bids: every bid on a lot runs under that lot's row lock.

Without the lock two bids read the same state, both "win", and the proxy resolution of one is lost;
with it, bids on one lot apply strictly in receipt order (the sequence), which is exactly the order a
replay of the history uses. Different lots never wait for each other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, and_, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from auction.closing import close_auction
from auction.creation import descending_rules
from auction.errors import BidRefused
from auction.models import Auction, Bid, Registration
from auction.policy import (
    FIRST_ACCEPTOR_KINDS,
    RUNNING_STATES,
    SEALED_KINDS,
    AuctionKind,
    AuctionPolicy,
    AuctionState,
)
from auction.rules import (
    EnglishBid,
    EnglishRules,
    EnglishState,
    Refusal,
    RefusalReason,
    SealedKind,
    SealedRules,
    SoftCloseRules,
    apply_bid,
    clock_price_fen,
    extended_end,
    in_extension_window,
    sealed_bid_refusal,
    timing_refusal,
)
from transfer import audit
from transfer.errors import DomainError, Forbidden, NotFound
from transfer.money import format_fen
from transfer.unit_of_work import UnitOfWork

BIDS = cast(Table, Bid.__table__)
AUCTIONS = cast(Table, Auction.__table__)


@dataclass(frozen=True, slots=True)
class BidResult:
    auction: Auction
    bid: Bid
    bidder_leads: bool
    extended: bool


def english_rules(auction: Auction) -> EnglishRules:
    return EnglishRules(auction.start_price_fen, auction.increment_fen, auction.reserve_price_fen)


def english_state(auction: Auction) -> EnglishState:
    return EnglishState(
        price_fen=auction.price_fen,
        leader_id=auction.leader_id,
        leader_max_fen=auction.leader_max_fen,
        runner_up_max_fen=auction.runner_up_max_fen,
        floor_fen=auction.floor_fen,
        reserve_met=auction.reserve_met if auction.leader_id is not None else False,
        bid_count=auction.bid_count,
        last_sequence=auction.last_sequence or None,
    )


async def lock_with_registration(
    unit: UnitOfWork, auction_id: int, bidder_id: int
) -> tuple[Auction, Registration | None]:
    """The lot under its row lock and the bidder's registration, in one round trip.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so the
    registration rides along with the lock instead of being read after it.
    """
    found = (
        await unit.session.execute(
            select(Auction, Registration)
            .outerjoin(
                Registration,
                and_(Registration.auction_id == Auction.id, Registration.bidder_id == bidder_id),
            )
            .where(Auction.id == auction_id)
            .with_for_update(of=Auction)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if found is None:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    return found[0], found[1]


async def place_bid(
    unit: UnitOfWork,
    auction_id: int,
    bidder_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    policy: AuctionPolicy,
) -> BidResult:
    auction, registration = await lock_with_registration(unit, auction_id, bidder_id)
    if auction.state not in RUNNING_STATES:
        raise BidRefused(Refusal(RefusalReason.CLOSED))
    timing = timing_refusal(unit.now, auction.starts_at, auction.ends_at)
    if timing is not None:
        raise BidRefused(timing)
    if registration is None or registration.deposit_state != "held" or registration.barred:
        raise Forbidden(
            "not_registered",
            "register on the auction (and have its deposit held) before bidding",
            field="auction",
        )
    kind = AuctionKind(auction.kind)
    if kind is AuctionKind.ENGLISH:
        return await _english_bid(unit, auction, registration, amount_fen, max_amount_fen)
    if max_amount_fen is not None:
        raise DomainError(
            "max_amount_not_allowed", f"a {kind.value} auction takes no max_amount", field="max_amount"
        )
    if kind in SEALED_KINDS:
        return await _sealed_bid(unit, auction, registration, amount_fen)
    assert kind in FIRST_ACCEPTOR_KINDS
    return await _acceptance(unit, auction, registration, amount_fen, policy)


def _new_bid(
    unit: UnitOfWork,
    auction: Auction,
    registration: Registration,
    amount_fen: int,
    max_amount_fen: int | None,
) -> Bid:
    auction.last_sequence += 1
    bid = Bid(
        auction_id=auction.id,
        registration_id=registration.id,
        bidder_id=registration.bidder_id,
        paddle=registration.paddle,
        sequence=auction.last_sequence,
        amount_fen=amount_fen,
        max_amount_fen=max_amount_fen,
        leading_after=False,
        superseded=False,
        received_at=unit.now,
    )
    unit.session.add(bid)
    if auction.state == AuctionState.SCHEDULED:
        auction.state = AuctionState.OPEN.value
    return bid


BID_COLUMNS = (
    "auction_id", "registration_id", "bidder_id", "paddle", "sequence", "amount_fen", "max_amount_fen",
    "price_after_fen", "leading_after", "superseded", "received_at",
)  # fmt: skip


@functools.cache
def _bid_writes(changed: tuple[str, ...], combined: bool) -> tuple[Executable, ...]:
    """The bid's writes with bound parameters, built once per set of changed lot columns.

    Reusing a built statement skips SQLAlchemy's per-call construction and cache-key work, a
    visible share of a bid's CPU. combined: one statement with data-modifying CTEs (PostgreSQL).
    """
    insert_bid = insert(BIDS).values({c: bindparam(f"bid_{c}") for c in BID_COLUMNS})
    insert_event = insert(audit.EVENTS).values({c: bindparam(f"event_{c}") for c in audit.EVENT_COLUMNS})
    update_lot = (
        update(AUCTIONS)
        .where(AUCTIONS.c.id == bindparam("lot_id"))
        .values({c: bindparam(f"lot_{c}") for c in changed})
    )
    if combined:
        return (update_lot.add_cte(insert_bid.cte("write_bid"), insert_event.cte("write_event")),)
    return (insert_bid, insert_event, update_lot)


async def _write_bid(
    unit: UnitOfWork, auction: Auction, bid_row: dict[str, Any], changes: dict[str, Any]
) -> Bid:
    """Insert the bid, update the lot and append the bid's audit event, under the lot's lock.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so on
    PostgreSQL the three writes go as one statement; SQLite, which holds its write lock for the
    whole transaction anyway, runs them one by one. Plain Core statements, no ORM flush: the
    loaded Auction is told the new values as committed, so it stays the truth for the answer and
    for any later ORM change in this transaction.
    """
    connection = await unit.session.connection()
    [event_row] = audit.event_rows(unit.take_events())
    params = {
        "lot_id": auction.id,
        **{f"lot_{c}": v for c, v in changes.items()},
        **{f"bid_{c}": v for c, v in bid_row.items()},
        **{f"event_{c}": v for c, v in event_row.items()},
    }
    for statement in _bid_writes(tuple(changes), connection.dialect.name == "postgresql"):
        await connection.execute(statement, params)
    for key, value in changes.items():
        set_committed_value(auction, key, value)
    return Bid(**bid_row)


async def _english_bid(
    unit: UnitOfWork,
    auction: Auction,
    registration: Registration,
    amount_fen: int,
    max_amount_fen: int | None,
) -> BidResult:
    sequence = auction.last_sequence + 1
    outcome = apply_bid(
        english_state(auction),
        EnglishBid(registration.bidder_id, amount_fen, max_amount_fen, unit.now, sequence),
        english_rules(auction),
    )
    if outcome.refusal is not None:
        raise BidRefused(outcome.refusal)
    state = outcome.state
    assert state.last_sequence == sequence
    changes: dict[str, Any] = {
        "last_sequence": sequence,
        "price_fen": state.price_fen,
        "leader_id": state.leader_id,
        "leader_max_fen": state.leader_max_fen,
        "runner_up_max_fen": state.runner_up_max_fen,
        "floor_fen": state.floor_fen,
        "reserve_met": state.reserve_met,
        "bid_count": state.bid_count,
    }
    if state.leader_id != auction.leader_id:
        changes["leader_paddle"] = registration.paddle
    if auction.state == AuctionState.SCHEDULED:
        changes["state"] = AuctionState.OPEN.value
    soft_close = SoftCloseRules(auction.extension_window_s, auction.extension_s, auction.max_end_at)
    extended = False
    if in_extension_window(unit.now, auction.ends_at, soft_close):
        new_end = extended_end(unit.now, auction.ends_at, soft_close)
        if new_end != auction.ends_at:
            changes["ends_at"] = new_end
            extended = True
    unit.record(
        "auction.bid",
        f"auction:{auction.id}",
        {
            "sequence": sequence,
            "bidder_id": registration.bidder_id,
            "paddle": registration.paddle,
            "amount_fen": amount_fen,
            "max_amount_fen": max_amount_fen,
            "price_fen": state.price_fen,
            "leader_paddle": changes.get("leader_paddle", auction.leader_paddle),
            "ends_at": changes.get("ends_at", auction.ends_at).isoformat(),
        },
    )
    bid = await _write_bid(
        unit,
        auction,
        {
            "auction_id": auction.id,
            "registration_id": registration.id,
            "bidder_id": registration.bidder_id,
            "paddle": registration.paddle,
            "sequence": sequence,
            "amount_fen": amount_fen,
            "max_amount_fen": max_amount_fen,
            "price_after_fen": state.price_fen,
            "leading_after": outcome.bidder_leads,
            "superseded": False,
            "received_at": unit.now,
        },
        changes,
    )
    channel = f"auction:{auction.id}"
    unit.publish(
        channel,
        {
            "event": "bid",
            "sequence": bid.sequence,
            "paddle": registration.paddle,
            "amount": format_fen(amount_fen),
            "current_price": format_fen(state.price_fen or 0),
            "leading_paddle": auction.leader_paddle,
            "reserve_met": state.reserve_met,
            "bid_count": state.bid_count,
            "ends_at": auction.ends_at.isoformat(),
            "server_time": unit.now.isoformat(),
        },
    )
    if extended:
        unit.publish(
            channel,
            {
                "event": "extended",
                "ends_at": auction.ends_at.isoformat(),
                "server_time": unit.now.isoformat(),
            },
        )
    return BidResult(auction, bid, outcome.bidder_leads, extended)


async def _sealed_bid(
    unit: UnitOfWork, auction: Auction, registration: Registration, amount_fen: int
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
        .where(
            Bid.auction_id == auction.id, Bid.bidder_id == registration.bidder_id, Bid.superseded.is_(False)
        )
        .values(superseded=True)
    )
    bid = _new_bid(unit, auction, registration, amount_fen, None)
    auction.bid_count += 1
    unit.record(
        "auction.sealed_bid",
        f"auction:{auction.id}",
        {
            "sequence": bid.sequence,
            "bidder_id": registration.bidder_id,
            "paddle": registration.paddle,
            "amount_fen": amount_fen,
        },
    )
    return BidResult(auction, bid, bidder_leads=False, extended=False)


async def _acceptance(
    unit: UnitOfWork, auction: Auction, registration: Registration, amount_fen: int, policy: AuctionPolicy
) -> BidResult:
    """Descending clock or fixed price: the first acceptor wins at the price on the clock now."""
    if auction.kind == AuctionKind.DESCENDING:
        price_fen = clock_price_fen(descending_rules(auction), unit.now)
    else:
        price_fen = auction.start_price_fen
    if amount_fen < price_fen:
        raise BidRefused(Refusal(RefusalReason.BELOW_MINIMUM, minimum_fen=price_fen))
    bid = _new_bid(unit, auction, registration, amount_fen, None)
    bid.price_after_fen = price_fen
    bid.leading_after = True
    auction.bid_count += 1
    auction.price_fen = price_fen
    auction.leader_id = registration.bidder_id
    auction.leader_paddle = registration.paddle
    unit.record(
        "auction.accepted",
        f"auction:{auction.id}",
        {
            "sequence": bid.sequence,
            "bidder_id": registration.bidder_id,
            "paddle": registration.paddle,
            "price_fen": price_fen,
        },
    )
    await close_auction(unit, auction, policy)
    return BidResult(auction, bid, bidder_leads=True, extended=False)


def descending_price_now(auction: Auction, now: datetime) -> int | None:
    if auction.kind != AuctionKind.DESCENDING or now < auction.starts_at:
        return None
    return clock_price_fen(descending_rules(auction), min(now, auction.ends_at))
