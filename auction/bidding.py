"""Bids: every bid on a lot runs under that lot's row lock.

Without the lock two bids read the same state, both "win", and the proxy resolution of one is lost;
with it, bids on one lot apply strictly in receipt order (the sequence), which is exactly the order a
replay of the history uses. Different lots never wait for each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import (
    Executable,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import ARRAY

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
from transfer.kernel import audit
from transfer.kernel.driver_sql import DriverStatement, compile_for_driver
from transfer.kernel.errors import DomainError, Forbidden, NotFound
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import EventSink, UnitOfWork

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
# LotForBid's fields that come from the bidder's registration; the rest are the lot's columns.
_REGISTRATION_COLUMNS = ("registration_id", "paddle", "deposit_state", "barred")
_LOT_COLUMNS = [f.name for f in fields(LotForBid) if f.name not in _REGISTRATION_COLUMNS]


def _lot_with_registrations(bidders: Any, *extra: Any) -> Select[Any]:
    """The lot joined to the registrations of the bidders `bidders` picks (no row when none)."""
    return (
        select(
            *(AUCTIONS.c[name] for name in _LOT_COLUMNS),
            *extra,
            REGISTRATIONS.c.id.label("registration_id"),
            REGISTRATIONS.c.paddle,
            REGISTRATIONS.c.deposit_state,
            REGISTRATIONS.c.barred,
        )
        .select_from(
            AUCTIONS.outerjoin(REGISTRATIONS, and_(REGISTRATIONS.c.auction_id == AUCTIONS.c.id, bidders))
        )
        .where(AUCTIONS.c.id == bindparam("auction_id"))
    )


# Built once. One bidder's registration (the unit-of-work path, both databases): _READ_LOT takes
# the lot's row lock (FOR UPDATE of the lot only), _READ_LOT_SNAPSHOT reads it without.
_READ_LOT_SNAPSHOT = _lot_with_registrations(REGISTRATIONS.c.bidder_id == bindparam("bidder_id"))
_READ_LOT = _READ_LOT_SNAPSHOT.with_for_update(of=AUCTIONS)
# PostgreSQL, for a batch of bids (place_english_bids): the lot once per registered bidder among
# `bidder_ids` (or once with no registration), with the row lock or without.
_READ_LOTS_SNAPSHOT = _lot_with_registrations(
    # The column's own type: an int4 array would refuse a 64-bit bidder id (migration 0010).
    REGISTRATIONS.c.bidder_id == any_(bindparam("bidder_ids", type_=ARRAY(REGISTRATIONS.c.bidder_id.type))),
    REGISTRATIONS.c.bidder_id.label("registered_bidder_id"),
)
_READ_LOTS = _READ_LOTS_SNAPSHOT.with_for_update(of=AUCTIONS)


class BidStatements(Protocol):
    """A bid's read and write inside a unit of work (SessionStatements, both databases). The
    PostgreSQL driver path runs batches through BatchStatements instead, with the same write."""

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
            applied = (
                await connection.execute(_conditional_bid_write(_is_batch(params)), params)
            ).scalar_one()
            assert applied == 1, "the lot changed under its row lock"
            return
        insert_bids, insert_events, update_lot = _sqlite_bid_writes()
        await connection.execute(insert_bids, _rows(params, "bid", BID_COLUMNS))
        await connection.execute(insert_events, _rows(params, "event", audit.EVENT_COLUMNS))
        await connection.execute(update_lot, params)


def _is_batch(params: dict[str, Any]) -> bool:
    """Whether _write_params gave the bids as column arrays (several bids) or as values (one)."""
    return isinstance(params["bid_sequence"], list)


def _rows(params: dict[str, Any], prefix: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The write's rows, one dict each: a batch's column arrays (prefix_column: [one value per
    row]) taken apart, or the one bid's values."""
    if not _is_batch(params):
        return [{f"{prefix}_{c}": params[f"{prefix}_{c}"] for c in columns}]
    arrays = [params[f"{prefix}_{c}"] for c in columns]
    return [
        {f"{prefix}_{c}": v for c, v in zip(columns, values, strict=True)}
        for values in zip(*arrays, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class DriverBidSql:
    """The driver path's statements, compiled once for PostgreSQL's asyncpg driver from the same
    tables and columns SessionStatements uses: the lot and some bidders' registrations read with
    the lot's row lock or without it, and the conditional write (`_conditional_bid_write`) of one
    bid or of a batch."""

    read_locked: DriverStatement
    read_snapshot: DriverStatement
    write_one: DriverStatement
    write_batch: DriverStatement

    def write(self, params: dict[str, Any]) -> DriverStatement:
        return self.write_batch if _is_batch(params) else self.write_one


@functools.cache
def postgres_driver_sql() -> DriverBidSql:
    return DriverBidSql(
        compile_for_driver(_READ_LOTS),
        compile_for_driver(_READ_LOTS_SNAPSHOT),
        compile_for_driver(_conditional_bid_write(batch=False)),
        compile_for_driver(_conditional_bid_write(batch=True)),
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
    """place_english_bids met a lot of another kind: the caller takes the general path (place_bid)."""


@dataclass(frozen=True, slots=True)
class EnglishBidRequest:
    """One bid of a batch: who, how much, and the server's receipt time (the bid time)."""

    bidder_id: int
    amount_fen: int
    max_amount_fen: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class EnglishBidOutcome:
    """A batch member's answer: its result, or the refusal (a DomainError) that wrote nothing.
    `sink` holds its live events, to publish once the batch's write is done."""

    sink: EventSink
    result: BidResult | None
    error: DomainError | None


class BatchStatements(Protocol):
    """A batch's two statements on PostgreSQL's driver (app/driver_bids.py, compiled by
    `postgres_driver_sql`): read the lot with some bidders' registrations, write."""

    async def read_lots(self, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]: ...

    async def write(self, params: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class KnownLot:
    """A lot as this process last read or wrote it (registration fields empty), and the
    registrations of bidders it has seen on it. Only ever a guess, checked by the conditional
    write: anything that matters to a bid changes the lot's sequence or state (a bid, a close, a
    cancellation; a registration stops being held only at a close or a cancellation)."""

    lot: LotForBid
    registrations: Mapping[int, Mapping[str, Any]]

    def knows(self, requests: Sequence[EnglishBidRequest]) -> bool:
        return all(request.bidder_id in self.registrations for request in requests)


@dataclass(slots=True)
class _Judged:
    outcomes: list[EnglishBidOutcome]
    lot: LotForBid
    params: dict[str, Any] | None  # the write, None when every bid was refused


def _judge_batch(
    read: LotForBid, registered: Mapping[int, Mapping[str, Any]], requests: Sequence[EnglishBidRequest]
) -> _Judged:
    """Each bid judged against the lot as the bids before it left it, with its own receipt time,
    exactly as one bid at a time would be (a refused bid changes nothing)."""
    lot = read
    outcomes: list[EnglishBidOutcome] = []
    bid_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    changes: dict[str, Any] | None = None
    unregistered = dict.fromkeys(_REGISTRATION_COLUMNS)
    for request in requests:
        sink = EventSink(request.bidder_id, request.received_at)
        bidder_lot = replace(lot, **registered.get(request.bidder_id, unregistered))
        try:
            registrant = _biddable(bidder_lot, sink.now, request.bidder_id)
            bid_changes, bid_row, result = _judge_english_bid(
                sink, bidder_lot, registrant, request.amount_fen, request.max_amount_fen
            )
        except DomainError as error:
            outcomes.append(EnglishBidOutcome(sink, None, error))
            continue
        changes = bid_changes
        lot = replace(lot, **bid_changes)
        bid_rows.append(bid_row)
        event_rows.extend(audit.event_rows(sink.take_events()))
        outcomes.append(EnglishBidOutcome(sink, result, None))
    params = None if changes is None else _write_params(read, changes, bid_rows, event_rows)
    return _Judged(outcomes, lot, params)


async def place_english_bids(
    statements: BatchStatements,
    auction_id: int,
    requests: Sequence[EnglishBidRequest],
    known: KnownLot | None = None,
) -> tuple[list[EnglishBidOutcome], KnownLot]:
    """Bids on one English lot, judged in order as if each came alone, written together; with the
    lot as they leave it, for the next batch.

    With `known` (the lot as this process last saw it) and every bidder's registration in it, the
    bids are judged on it and written at once, without a read; that stands only if every bid is
    accepted and the conditional write applies. Otherwise (a refusal must be judged on the lot as
    it is, and a lot changed since is not written over) the lot is read: once, with the batch's
    registrations, and each bid is judged against it; then one write inserts every accepted bid
    and its audit event and sets the lot to where the last one left it. Raises NotEnglish, before
    any write, for any other kind, NotFound for the whole batch when the lot does not exist, and
    LotChanged when the lot changed between the read and the write.
    """
    if known is not None and known.knows(requests):
        judged = _judge_batch(known.lot, known.registrations, requests)
        if judged.params is not None and all(outcome.error is None for outcome in judged.outcomes):
            try:
                await statements.write(judged.params)
            except LotChanged:
                pass  # changed since this process saw it: read it as it is
            else:
                return judged.outcomes, KnownLot(judged.lot, known.registrations)
    bidder_ids = sorted({request.bidder_id for request in requests})
    rows = await statements.read_lots({"auction_id": auction_id, "bidder_ids": bidder_ids})
    if not rows:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    first = dict(rows[0])
    if first["kind"] != AuctionKind.ENGLISH.value:
        raise NotEnglish(first["kind"])
    registered: dict[int, Mapping[str, Any]] = {
        row["registered_bidder_id"]: {c: row[c] for c in _REGISTRATION_COLUMNS}
        for row in rows
        if row["registered_bidder_id"] is not None
    }
    del first["registered_bidder_id"]
    read = LotForBid(**{**first, **dict.fromkeys(_REGISTRATION_COLUMNS)})
    judged = _judge_batch(read, registered, requests)
    if judged.params is not None:
        await statements.write(judged.params)
    if known is not None and known.lot.state == read.state:  # its registrations still stand
        registered = {**known.registrations, **registered}
    return judged.outcomes, KnownLot(judged.lot, registered)


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
def _conditional_bid_write(batch: bool) -> Select[int]:
    """The writes of one bid or of a batch as one statement that applies only if the lot is still
    as it was read: the lot update is conditioned on its sequence and state (any other bid raises
    the sequence; a close or a cancellation changes the state), and the bids and their audit events
    are inserted from the update's result, so they exist exactly when the update happened. Answers
    1 or 0 rows applied. Under the lot's row lock it always applies.

    One bid's values go as plain parameters, a batch's as one array per column: arrays cost the
    driver about a third more CPU to send, paid only where they save whole statements.
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
        if not batch:
            values = select(
                *(bindparam(f"{prefix}_{c}", type_=table.c[c].type) for c in columns)
            ).select_from(lot)
            return insert(table).from_select(list(columns), values).cte(name)
        # One array per column, unnested into rows in the order given (the bids' sequence order).
        arrays = [sql_cast(bindparam(f"{prefix}_{c}"), ARRAY(table.c[c].type)) for c in columns]
        rows = (
            func.unnest(*arrays)
            .table_valued(*columns, with_ordinality="ordinality")
            .render_derived(name=f"{prefix}_rows")
        )
        values = (
            select(*(rows.c[c] for c in columns))
            # Joined to the lot's update on nothing: every row if the update applied, else none.
            .select_from(rows.join(lot, true()))
            .order_by(rows.c.ordinality)
        )
        return insert(table).from_select(list(columns), values).cte(name)

    return (
        select(func.count())
        .select_from(lot)
        .add_cte(
            inserted_with(BIDS, "bid", BID_COLUMNS, "write_bids"),
            inserted_with(audit.EVENTS, "event", audit.EVENT_COLUMNS, "write_events"),
        )
    )


def _write_params(
    read: LotForBid,
    changes: dict[str, Any],
    bid_rows: Sequence[dict[str, Any]],
    event_rows: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The write's parameters: the lot as read (a conditional write applies only if it is still so),
    the lot as the last bid leaves it, and the bids and their events: one bid's values, or one
    array per column of a batch's (see _conditional_bid_write)."""
    assert changes.keys() == set(LOT_BID_COLUMNS)
    params = {
        "lot_id": read.id,
        "expected_sequence": read.last_sequence,
        "expected_state": read.state,
        **{f"lot_{c}": v for c, v in changes.items()},
    }
    if len(bid_rows) == 1:
        [bid_row], [event_row] = bid_rows, event_rows
        params.update({f"bid_{c}": v for c, v in bid_row.items()})
        params.update({f"event_{c}": v for c, v in event_row.items()})
    else:
        params.update({f"bid_{c}": [row[c] for row in bid_rows] for c in BID_COLUMNS})
        params.update({f"event_{c}": [row[c] for row in event_rows] for c in audit.EVENT_COLUMNS})
    return params


async def _english_bid(
    unit: EventSink,
    statements: BidStatements,
    lot: LotForBid,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> BidResult:
    """One bid under the lot's row lock (the unit-of-work path): judged, then written.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so on
    PostgreSQL the three writes go as one statement. Plain Core statements, no ORM flush.
    """
    changes, bid_row, result = _judge_english_bid(unit, lot, registrant, amount_fen, max_amount_fen)
    await statements.write(_write_params(lot, changes, [bid_row], audit.event_rows(unit.take_events())))
    return result


def _judge_english_bid(
    sink: EventSink,
    lot: LotForBid,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> tuple[dict[str, Any], dict[str, Any], BidResult]:
    """The rules applied to one bid at `sink.now`: what it changes on the lot, its row, its answer.
    Records its audit event and live events on the sink; raises BidRefused and writes nothing."""
    sequence = lot.last_sequence + 1
    outcome = apply_bid(
        english_state(lot),
        EnglishBid(registrant.bidder_id, amount_fen, max_amount_fen, sink.now, sequence),
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
    if in_extension_window(sink.now, lot.ends_at, soft_close):
        ends_at = extended_end(sink.now, lot.ends_at, soft_close)
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
    sink.record(
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
    bid_row = {
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
        "received_at": sink.now,
    }
    channel = f"auction:{lot.id}"
    # Queued on the sink: published only once the write is committed.
    sink.publish(
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
            "server_time": sink.now.isoformat(),
        },
    )
    if extended:
        sink.publish(
            channel,
            {"event": "extended", "ends_at": ends_at.isoformat(), "server_time": sink.now.isoformat()},
        )
    result = BidResult(
        lot.kind, lot_state, state.price_fen, leader_paddle, ends_at, sequence, outcome.bidder_leads, extended
    )
    return changes, bid_row, result


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
