"""The SQL of a bid: reading the lot with some bidders' registrations, and the one conditional write
of an English batch, built once; compiled for asyncpg on PostgreSQL's driver, run through a unit of
work's session otherwise (one statement on PostgreSQL, three on SQLite)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Executable,
    Select,
    Table,
    Text,
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

from auction.bidding.lot import AUCTIONS, BIDS, REGISTRATION_COLUMNS, REGISTRATIONS, LotForBid
from transfer.kernel import audit
from transfer.kernel.driver_sql import DriverStatement, compile_for_driver
from transfer.kernel.unit_of_work import UnitOfWork

_LOT_COLUMNS = [f.name for f in fields(LotForBid) if f.name not in REGISTRATION_COLUMNS]


def _lot_with_registrations(bidders: Any) -> Select[Any]:
    """The lot once per registered bidder that `bidders` picks, or once with no registration; no
    row when there is no such lot."""
    return (
        select(
            *(AUCTIONS.c[name] for name in _LOT_COLUMNS),
            REGISTRATIONS.c.bidder_id.label("registered_bidder_id"),
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


# Built once: the read of place_english_bids, the lot with the registrations of `bidder_ids`. On
# PostgreSQL's driver with the lot's row lock (FOR UPDATE of the lot only) or without; the bidders
# as one array parameter, of the column's own type (an int4 array would refuse a 64-bit bidder id,
# migration 0010).
_READ_LOTS_SNAPSHOT = _lot_with_registrations(
    REGISTRATIONS.c.bidder_id == any_(bindparam("bidder_ids", type_=ARRAY(REGISTRATIONS.c.bidder_id.type)))
)


_READ_LOTS = _READ_LOTS_SNAPSHOT.with_for_update(of=AUCTIONS)


# In a unit of work, on either database, always with the row lock (SQLite, which has no row locks,
# renders no FOR UPDATE: its transaction already holds the write lock, BEGIN IMMEDIATE).
_READ_LOTS_IN_UNIT = _lot_with_registrations(
    REGISTRATIONS.c.bidder_id.in_(bindparam("bidder_ids", expanding=True))
).with_for_update(of=AUCTIONS)


class SessionStatements:
    """The locked mode's statements in a unit of work (auction.bidding.place), both databases: on
    its session's connection, so they share the transaction of whatever else the unit does (an
    Idempotency-Key's claim)."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    async def read_lot(self, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        """The lot under its row lock with the registrations of params' bidder_ids."""
        connection = await self._unit.session.connection()
        return [row._mapping for row in await connection.execute(_READ_LOTS_IN_UNIT, params)]

    async def read_lots(self, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        """LotStatements' name for read_lot (auction.bidding.english)."""
        return await self.read_lot(params)

    async def write(self, params: dict[str, Any], live_events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """On PostgreSQL the conditional write, the one statement the driver path runs too (under
        the row lock it always applies); SQLite, which holds its write lock for the whole
        transaction and has no data-modifying CTEs, runs the three writes one by one. The live
        events are the unit's to send (auction.bidding.place adds them to unit.live_events)."""
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
    """Whether write_params gave the bids as column arrays (several bids) or as values (one)."""
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
    bid or of a batch, plain or sending notifications with it."""

    read_locked: DriverStatement
    read_snapshot: DriverStatement
    write_one: DriverStatement
    write_batch: DriverStatement
    write_one_notifying: DriverStatement
    write_batch_notifying: DriverStatement

    def write(self, params: dict[str, Any], *, notifying: bool = False) -> DriverStatement:
        if notifying:
            return self.write_batch_notifying if _is_batch(params) else self.write_one_notifying
        return self.write_batch if _is_batch(params) else self.write_one


@functools.cache
def postgres_driver_sql() -> DriverBidSql:
    return DriverBidSql(
        compile_for_driver(_READ_LOTS),
        compile_for_driver(_READ_LOTS_SNAPSHOT),
        compile_for_driver(_conditional_bid_write(batch=False)),
        compile_for_driver(_conditional_bid_write(batch=True)),
        compile_for_driver(_conditional_bid_write(batch=False, notifying=True)),
        compile_for_driver(_conditional_bid_write(batch=True, notifying=True)),
    )


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
def _conditional_bid_write(batch: bool, notifying: bool = False) -> Select[int]:
    """The writes of one bid or of a batch as one statement that applies only if the lot is still
    as it was read: the lot update is conditioned on its sequence and state (any other bid raises
    the sequence; a close or a cancellation changes the state), and the bids and their audit events
    are inserted from the update's result, so they exist exactly when the update happened. Answers
    1 or 0 rows applied. Under the lot's row lock it always applies.

    One bid's values go as plain parameters, a batch's as one array per column: arrays cost the
    driver about a third more CPU to send, paid only where they save whole statements.

    notifying: the statement also sends `notify_payloads` (text[]) on `notify_channel` with
    pg_notify, if the update applied. Sent inside the write's transaction, they are delivered at
    its commit, in commit order, which for one lot is its sequence order: listeners in other
    processes see a lot's events in order whichever process wrote them (app/live/relay.py).
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

    applied = select(func.count()).select_from(lot)
    if notifying:
        payloads = (
            func.unnest(sql_cast(bindparam("notify_payloads"), ARRAY(Text)))
            .table_valued("payload")
            .render_derived(name="notify_rows")
        )
        notified = (
            select(func.pg_notify(bindparam("notify_channel", type_=Text), payloads.c.payload))
            .select_from(payloads.join(lot, true()))
            .cte("notify_live")
        )
        # Referenced so that it runs (a plain SELECT in WITH runs only when read); it reads the
        # lot's update, so it notifies exactly when the update applied.
        applied = applied.where(select(func.count()).select_from(notified).scalar_subquery() >= 0)
    return applied.add_cte(
        inserted_with(BIDS, "bid", BID_COLUMNS, "write_bids"),
        inserted_with(audit.EVENTS, "event", audit.EVENT_COLUMNS, "write_events"),
    )


def write_params(
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
