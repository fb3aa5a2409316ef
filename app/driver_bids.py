"""English bids on PostgreSQL, run on the asyncpg driver instead of through a SQLAlchemy session.

A bid is the hottest write in the system, and on a burst the server's CPU is what limits it. Here
a bid is two statements on a pooled asyncpg connection, each its own transaction:

1. read the lot and the bidder's registration (no lock);
2. one conditional write: the lot update applies only if the lot's sequence and state are still
   what step 1 read, and the bid row and its audit event are inserted from that update's result,
   so all three happen together or not at all (`auction.bidding._conditional_bid_write`).

If another bid or a close got in between, the write applies nothing and the bid is read and
judged again (LotChanged), as the issue allows: "a row lock or one conditional update per bid".
Inside a process a lot's bids pass one at a time (app/lot_gates.py), so that only happens
across processes or against the closer. A lot with bids queued behind this one (a hot lot) takes
the row lock instead and hands the gate on as soon as it holds it (see english_bid_on_driver).
Against the unit-of-work path this saves the session machinery and, for a lot bid on alone, the
BEGIN and COMMIT round trips: together about half of a bid's server CPU. The statements are
compiled once from the Core statements (`auction.bidding.postgres_driver_sql`); the rules, checks,
audit event and after-commit live events are the same code as the general path
(`auction.bidding.place_english_bid`).

What takes the general path instead (`auction.bidding.place_bid` in a unit of work, under the row
lock): SQLite, every other auction kind (found by the read, before any write), and requests with
an Idempotency-Key, whose claim and stored answer live in the unit of work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from app.context import AppContext
from app.db import DriverConnections
from auction.bidding import BidResult, LotChanged, NotEnglish, place_english_bid, postgres_driver_sql
from transfer.unit_of_work import MAX_ATTEMPTS, RETRYABLE_SQLSTATES, EventSink, retry_pause, run_after_commit

# A hot lot contended by several processes may change under a bid a few times in a row; each
# retry is two cheap statements, and a bid that keeps losing is far more likely refused next.
MAX_CHANGED_ATTEMPTS = 50
NOT_ENGLISH_MAX_ENTRIES = 10_000


class DriverStatements:
    """locking: read the lot FOR UPDATE (inside the caller's transaction), so the write always
    applies; otherwise read it plainly and let the conditional write find out."""

    def __init__(self, connection: asyncpg.Connection, *, locking: bool) -> None:
        self._connection = connection
        self._locking = locking

    async def read_lot(self, params: dict[str, Any]) -> Mapping[str, Any] | None:
        locked, snapshot, _ = postgres_driver_sql()
        read = locked if self._locking else snapshot
        row: Mapping[str, Any] | None = await self._connection.fetchrow(read.sql, *read.arguments(params))
        return row

    async def write(self, params: dict[str, Any]) -> None:
        _, _, write = postgres_driver_sql()
        if await self._connection.fetchval(write.sql, *write.arguments(params)) != 1:
            raise LotChanged


async def english_bid_on_driver(
    context: AppContext,
    driver: DriverConnections,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    on_locked: Callable[[], None] | None = None,
) -> tuple[BidResult, datetime] | None:
    """The bid's result and its server time, or None when the lot is not an English auction.

    Two modes, both correct under any concurrency:

    * on_locked given (a contended lot: bids are queued behind this one in this process): BEGIN,
      read under the row lock, call on_locked (the next bid may queue for the lock), write,
      COMMIT. The lock passes from bid to bid without gaps, which is what a hot lot needs.
    * otherwise: the read and the conditional write, two statements and no transaction around
      them; a lot that changed in between is read again. Half the round trips, for the common
      case of a lot nobody else is bidding on at this instant.

    Refusals (BidRefused, Forbidden, NotFound) happen before any write and reach the caller as they
    are; deadlocks and serialization failures run the bid again, as run_in_transaction does.
    """
    locking = on_locked is not None
    # The server's receipt time is the bid time (DESIGN.md): read once, kept by every attempt, as
    # the unit-of-work path reads it before it waits for the row lock.
    received_at = context.clock()
    for attempt in range(1, MAX_CHANGED_ATTEMPTS + 1):
        sink = EventSink(bidder_id, received_at)
        try:
            async with driver.connection() as connection:
                statements = DriverStatements(connection, locking=locking)
                if locking:
                    async with connection.transaction():
                        result = await place_english_bid(
                            sink,
                            statements,
                            auction_id,
                            bidder_id,
                            amount_fen,
                            max_amount_fen,
                            on_locked=on_locked,
                        )
                else:
                    result = await place_english_bid(
                        sink, statements, auction_id, bidder_id, amount_fen, max_amount_fen
                    )
        except NotEnglish:
            return None
        except LotChanged:
            if attempt < MAX_CHANGED_ATTEMPTS:
                continue
            raise
        except asyncpg.PostgresError as error:
            if attempt < MAX_ATTEMPTS and error.sqlstate in RETRYABLE_SQLSTATES:
                await retry_pause(attempt)
                continue
            raise
        assert not sink.events, "every audit event is written with the bid"
        if context.publish is not None and sink.live_events:
            await run_after_commit([functools.partial(context.publish, sink.live_events)])
        return result, sink.now
    raise AssertionError("unreachable: the loop returns or raises")


async def gated_english_bid(
    context: AppContext,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
) -> tuple[BidResult, datetime] | None:
    """The bid on the driver inside its lot's gate (app/lot_gates.py), as both the bid handler and
    the raw ASGI bid path (app/bid_fast_path.py) run it; None when the driver path is off
    (SQLite, IPX_DRIVER_BIDS=false) or the lot is not an English auction: then nothing was
    written and the bid takes the unit-of-work path."""
    driver = context.database.driver
    if driver is None or not context.settings.driver_bids or auction_id in context.not_english:
        return None
    async with context.lot_gates.hold(auction_id) as gate_pass:
        on_driver = await english_bid_on_driver(
            context,
            driver,
            bidder_id,
            auction_id,
            amount_fen,
            max_amount_fen,
            # A queue on this lot: take the row lock and let the next bid queue for it.
            on_locked=gate_pass.release if gate_pass.contended else None,
        )
    if on_driver is None:
        if len(context.not_english) >= NOT_ENGLISH_MAX_ENTRIES:
            context.not_english.clear()
        context.not_english.add(auction_id)
    return on_driver
