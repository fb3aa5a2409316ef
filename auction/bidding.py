"""Bids: every bid on a lot runs under that lot's row lock.

Without the lock two bids read the same state, both "win", and the proxy resolution of one is lost;
with it, bids on one lot apply strictly in receipt order (the sequence), which is exactly the order a
replay of the history uses. Different lots never wait for each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Executable, Select, Table, and_, bindparam, func, insert, select, update

from auction.closing import close_auction
from auction.creation import descending_rules, lock_auction
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
from transfer.driver_sql import DriverStatement, compile_for_driver
from transfer.errors import DomainError, Forbidden, NotFound
from transfer.money import format_fen
from transfer.unit_of_work import EventSink, UnitOfWork

BIDS = cast(Table, Bid.__table__)
AUCTIONS = cast(Table, Auction.__table__)


@dataclass(frozen=True, slots=True)
class LotForBid:
    """What a bid needs of its lot and of the bidder's registration, read under the lot's row lock.

    A plain snapshot, not an ORM object: loading the ORM entity cost a bid about a quarter of a
    millisecond of CPU, paid while holding the lock; the English path needs no more than this.
    """

    id: int
    kind: str
    state: str
    starts_at: datetime
    ends_at: datetime
    start_price_fen: int
    increment_fen: int
    reserve_price_fen: int | None
    price_fen: int | None
    leader_id: int | None
    leader_paddle: int | None
    leader_max_fen: int | None
    runner_up_max_fen: int | None
    floor_fen: int | None
    reserve_met: bool
    bid_count: int
    last_sequence: int
    extension_window_s: int
    extension_s: int
    max_end_at: datetime | None
    registration_id: int | None
    paddle: int | None
    deposit_state: str | None
    barred: bool | None


@dataclass(frozen=True, slots=True)
class Registrant:
    registration_id: int
    bidder_id: int
    paddle: int


@dataclass(frozen=True, slots=True)
class BidResult:
    """The lot as the bid left it, for the answer (sealed kinds reveal none of the prices)."""

    kind: str
    state: str
    price_fen: int | None
    leader_paddle: int | None
    ends_at: datetime
    sequence: int
    bidder_leads: bool
    extended: bool

    @classmethod
    def of(cls, auction: Auction, bid: Bid, bidder_leads: bool, extended: bool) -> BidResult:
        return cls(
            auction.kind,
            auction.state,
            auction.price_fen,
            auction.leader_paddle,
            auction.ends_at,
            bid.sequence,
            bidder_leads,
            extended,
        )


def english_rules(auction: Auction | LotForBid) -> EnglishRules:
    return EnglishRules(auction.start_price_fen, auction.increment_fen, auction.reserve_price_fen)


def english_state(auction: Auction | LotForBid) -> EnglishState:
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


REGISTRATIONS = cast(Table, Registration.__table__)
_LOT_COLUMNS = [
    f.name
    for f in fields(LotForBid)
    if f.name not in ("registration_id", "paddle", "deposit_state", "barred")
]
# Built once: the lot joined to this bidder's registration; _READ_LOT takes the lot's row lock
# (FOR UPDATE of the lot only), _READ_LOT_SNAPSHOT reads it for a conditional write.
_READ_LOT_SNAPSHOT = (
    select(
        *(AUCTIONS.c[name] for name in _LOT_COLUMNS),
        REGISTRATIONS.c.id.label("registration_id"),
        REGISTRATIONS.c.paddle,
        REGISTRATIONS.c.deposit_state,
        REGISTRATIONS.c.barred,
    )
    .select_from(
        AUCTIONS.outerjoin(
            REGISTRATIONS,
            and_(
                REGISTRATIONS.c.auction_id == AUCTIONS.c.id,
                REGISTRATIONS.c.bidder_id == bindparam("bidder_id"),
            ),
        )
    )
    .where(AUCTIONS.c.id == bindparam("auction_id"))
)
_READ_LOT = _READ_LOT_SNAPSHOT.with_for_update(of=AUCTIONS)


class BidStatements(Protocol):
    """An English bid's two statements, on whatever connection its transaction runs on: a unit of
    work's session (SessionStatements, both databases) or the PostgreSQL driver itself
    (app/driver_bids.py, the same statements compiled once by `postgres_driver_sql`)."""

    async def read_lot(self, params: dict[str, Any]) -> Mapping[str, Any] | None: ...

    async def write(self, params: dict[str, Any]) -> None: ...


class SessionStatements:
    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    async def read_lot(self, params: dict[str, Any]) -> Mapping[str, Any] | None:
        connection = await self._unit.session.connection()
        row = (await connection.execute(_READ_LOT, params)).one_or_none()
        return None if row is None else cast(Mapping[str, Any], row._mapping)

    async def write(self, params: dict[str, Any]) -> None:
        """On PostgreSQL the conditional write, the one statement the driver path runs too (under
        the row lock it always applies); SQLite, which holds its write lock for the whole
        transaction and has no data-modifying CTEs, runs the three writes one by one."""
        connection = await self._unit.session.connection()
        if connection.dialect.name == "postgresql":
            applied = (await connection.execute(_conditional_bid_write(), params)).scalar_one()
            assert applied == 1, "the lot changed under its row lock"
            return
        for statement in _sqlite_bid_writes():
            await connection.execute(statement, params)


@functools.cache
def postgres_driver_sql() -> tuple[DriverStatement, DriverStatement, DriverStatement]:
    """The lot read with its row lock, the lot read without it, and the conditional write
    (`_conditional_bid_write`), compiled once for PostgreSQL's asyncpg driver from the same
    columns and parameters SessionStatements uses."""
    return (
        compile_for_driver(_READ_LOT),
        compile_for_driver(_READ_LOT_SNAPSHOT),
        compile_for_driver(_conditional_bid_write()),
    )


async def read_lot_for_bid(statements: BidStatements, auction_id: int, bidder_id: int) -> LotForBid:
    """The lot under its row lock and the bidder's registration, in one round trip.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so the
    registration rides along with the lock instead of being read after it.
    """
    row = await statements.read_lot({"auction_id": auction_id, "bidder_id": bidder_id})
    if row is None:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    return LotForBid(**row)


class LotChanged(Exception):
    """A conditional write found the lot changed since it was read (another bid, a close): the
    caller reads it again and re-applies the rules to what is there now."""


class NotEnglish(Exception):
    """place_english_bid met a lot of another kind: the caller takes the general path (place_bid)."""


async def place_english_bid(
    sink: EventSink,
    statements: BidStatements,
    auction_id: int,
    bidder_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    on_locked: Callable[[], None] | None = None,
) -> BidResult:
    """A bid on an English lot with nothing but the two statements (no session, no ORM): the
    PostgreSQL driver-level path. Raises NotEnglish, before any write, for any other kind."""
    lot = await read_lot_for_bid(statements, auction_id, bidder_id)
    if lot.kind != AuctionKind.ENGLISH.value:
        raise NotEnglish(lot.kind)
    if on_locked is not None:
        on_locked()
    registrant = _biddable(lot, sink.now, bidder_id)
    return await _english_bid(sink, statements, lot, registrant, amount_fen, max_amount_fen)


def _biddable(lot: LotForBid, now: datetime, bidder_id: int) -> Registrant:
    """The bidder may bid on the lot now, or the refusal says why."""
    if lot.state not in RUNNING_STATES:
        raise BidRefused(Refusal(RefusalReason.CLOSED))
    timing = timing_refusal(now, lot.starts_at, lot.ends_at)
    if timing is not None:
        raise BidRefused(timing)
    if lot.registration_id is None or lot.paddle is None or lot.deposit_state != "held" or lot.barred:
        raise Forbidden(
            "not_registered",
            "register on the auction (and have its deposit held) before bidding",
            field="auction",
        )
    return Registrant(lot.registration_id, bidder_id, lot.paddle)


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
    """on_locked: called once the lot's row lock is held (the app lets the lot's next bid queue
    for the lock then, see app/lot_gates.py)."""
    statements = SessionStatements(unit)
    lot = await read_lot_for_bid(statements, auction_id, bidder_id)
    if on_locked is not None:
        on_locked()
    registrant = _biddable(lot, unit.now, bidder_id)
    kind = AuctionKind(lot.kind)
    if kind is AuctionKind.ENGLISH:
        return await _english_bid(unit, statements, lot, registrant, amount_fen, max_amount_fen)
    # The other kinds are rare and change more of the lot: they work on the ORM entity (the row
    # lock is already held, so loading it waits for nobody).
    auction = await lock_auction(unit, auction_id)
    if max_amount_fen is not None:
        raise DomainError(
            "max_amount_not_allowed", f"a {kind.value} auction takes no max_amount", field="max_amount"
        )
    if kind in SEALED_KINDS:
        return await _sealed_bid(unit, auction, registrant, amount_fen)
    assert kind in FIRST_ACCEPTOR_KINDS
    return await _acceptance(unit, auction, registrant, amount_fen, policy)


def _new_bid(
    unit: UnitOfWork,
    auction: Auction,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> Bid:
    auction.last_sequence += 1
    bid = Bid(
        auction_id=auction.id,
        registration_id=registrant.registration_id,
        bidder_id=registrant.bidder_id,
        paddle=registrant.paddle,
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
# What an English bid sets on its lot (all of it, every time: one statement shape).
LOT_BID_COLUMNS = (
    "last_sequence", "price_fen", "leader_id", "leader_paddle", "leader_max_fen", "runner_up_max_fen",
    "floor_fen", "reserve_met", "bid_count", "state", "ends_at",
)  # fmt: skip


@functools.cache
def _sqlite_bid_writes() -> tuple[Executable, ...]:
    """The bid's three writes with bound parameters, built once (reusing a built statement skips
    SQLAlchemy's per-call construction and cache-key work, a visible share of a bid's CPU)."""
    return (
        insert(BIDS).values({c: bindparam(f"bid_{c}") for c in BID_COLUMNS}),
        insert(audit.EVENTS).values({c: bindparam(f"event_{c}") for c in audit.EVENT_COLUMNS}),
        update(AUCTIONS)
        .where(AUCTIONS.c.id == bindparam("lot_id"))
        .values({c: bindparam(f"lot_{c}") for c in LOT_BID_COLUMNS}),
    )


@functools.cache
def _conditional_bid_write() -> Select[int]:
    """The bid's writes as one statement that applies only if the lot is still as it was read: the
    lot update is conditioned on its sequence and state (any other bid raises the sequence; a close
    or a cancellation changes the state), and the bid and its audit event are inserted from the
    update's result, so they exist exactly when the update happened. Answers 1 or 0 rows applied.
    """
    lot = (
        update(AUCTIONS)
        .where(
            AUCTIONS.c.id == bindparam("lot_id"),
            AUCTIONS.c.last_sequence == bindparam("expected_sequence"),
            AUCTIONS.c.state == bindparam("expected_state"),
        )
        .values({c: bindparam(f"lot_{c}") for c in LOT_BID_COLUMNS})
        .returning(AUCTIONS.c.id)
        .cte("write_lot")
    )

    def inserted_with(table: Table, prefix: str, columns: tuple[str, ...], name: str) -> Any:
        values = select(*(bindparam(f"{prefix}_{c}", type_=table.c[c].type) for c in columns)).select_from(
            lot
        )
        return insert(table).from_select(list(columns), values).cte(name)

    return (
        select(func.count())
        .select_from(lot)
        .add_cte(
            inserted_with(BIDS, "bid", BID_COLUMNS, "write_bid"),
            inserted_with(audit.EVENTS, "event", audit.EVENT_COLUMNS, "write_event"),
        )
    )


async def _write_bid(
    sink: EventSink,
    statements: BidStatements,
    lot: LotForBid,
    bid_row: dict[str, Any],
    changes: dict[str, Any],
) -> None:
    """Insert the bid, update the lot and append the bid's audit event: under the lot's lock, or
    as a conditional write that applies only if the lot is still as `lot` shows it.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so on
    PostgreSQL the three writes go as one statement. Plain Core statements, no ORM flush.
    """
    [event_row] = audit.event_rows(sink.take_events())
    params = {
        "lot_id": lot.id,
        # What the lot was when read: a conditional write (postgres_driver_sql) applies only then.
        "expected_sequence": lot.last_sequence,
        "expected_state": lot.state,
        **{f"lot_{c}": v for c, v in changes.items()},
        **{f"bid_{c}": v for c, v in bid_row.items()},
        **{f"event_{c}": v for c, v in event_row.items()},
    }
    assert changes.keys() == set(LOT_BID_COLUMNS)
    await statements.write(params)


async def _english_bid(
    unit: EventSink,
    statements: BidStatements,
    lot: LotForBid,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> BidResult:
    sequence = lot.last_sequence + 1
    outcome = apply_bid(
        english_state(lot),
        EnglishBid(registrant.bidder_id, amount_fen, max_amount_fen, unit.now, sequence),
        english_rules(lot),
    )
    if outcome.refusal is not None:
        raise BidRefused(outcome.refusal)
    state = outcome.state
    assert state.last_sequence == sequence
    leader_paddle = registrant.paddle if state.leader_id != lot.leader_id else lot.leader_paddle
    lot_state = AuctionState.OPEN.value if lot.state == AuctionState.SCHEDULED else lot.state
    soft_close = SoftCloseRules(lot.extension_window_s, lot.extension_s, lot.max_end_at)
    ends_at = lot.ends_at
    if in_extension_window(unit.now, lot.ends_at, soft_close):
        ends_at = extended_end(unit.now, lot.ends_at, soft_close)
    extended = ends_at != lot.ends_at
    changes: dict[str, Any] = {
        "last_sequence": sequence,
        "price_fen": state.price_fen,
        "leader_id": state.leader_id,
        "leader_paddle": leader_paddle,
        "leader_max_fen": state.leader_max_fen,
        "runner_up_max_fen": state.runner_up_max_fen,
        "floor_fen": state.floor_fen,
        "reserve_met": state.reserve_met,
        "bid_count": state.bid_count,
        "state": lot_state,
        "ends_at": ends_at,
    }
    unit.record(
        "auction.bid",
        f"auction:{lot.id}",
        {
            "sequence": sequence,
            "bidder_id": registrant.bidder_id,
            "paddle": registrant.paddle,
            "amount_fen": amount_fen,
            "max_amount_fen": max_amount_fen,
            "price_fen": state.price_fen,
            "leader_paddle": leader_paddle,
            "ends_at": ends_at.isoformat(),
        },
    )
    await _write_bid(
        unit,
        statements,
        lot,
        {
            "auction_id": lot.id,
            "registration_id": registrant.registration_id,
            "bidder_id": registrant.bidder_id,
            "paddle": registrant.paddle,
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
    channel = f"auction:{lot.id}"
    unit.publish(
        channel,
        {
            "event": "bid",
            "sequence": sequence,
            "paddle": registrant.paddle,
            "amount": format_fen(amount_fen),
            "current_price": format_fen(state.price_fen or 0),
            "leading_paddle": leader_paddle,
            "reserve_met": state.reserve_met,
            "bid_count": state.bid_count,
            "ends_at": ends_at.isoformat(),
            "server_time": unit.now.isoformat(),
        },
    )
    if extended:
        unit.publish(
            channel,
            {"event": "extended", "ends_at": ends_at.isoformat(), "server_time": unit.now.isoformat()},
        )
    return BidResult(
        lot.kind, lot_state, state.price_fen, leader_paddle, ends_at, sequence, outcome.bidder_leads, extended
    )


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
    bid = _new_bid(unit, auction, registrant, amount_fen, None)
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
    bid = _new_bid(unit, auction, registrant, amount_fen, None)
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
