"""English bids on PostgreSQL, run on the asyncpg driver instead of through a SQLAlchemy session.

A bid is the hottest write in the system, and on a burst the server's CPU is what limits it. About
a third of a bid's CPU went to the machinery around its two statements: the session, its
transaction bookkeeping, a greenlet switch per statement, compiled-statement lookup and parameter
processing. Here the same two statements (compiled once from the same Core statements,
`auction.bidding.postgres_driver_sql`) run straight on a pooled asyncpg connection, inside one
driver transaction. The rules, the checks, the audit event and the live events are the same code as
the general path (`auction.bidding.place_english_bid`).

What takes the general path instead (`auction.bidding.place_bid` in a unit of work): SQLite, every
other auction kind (found by the lot read, before any write), and requests with an Idempotency-Key,
whose claim and stored answer live in the unit of work.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from app.context import AppContext
from app.db import DriverConnections
from auction.bidding import BidResult, NotEnglish, place_english_bid, postgres_driver_sql
from transfer.unit_of_work import MAX_ATTEMPTS, RETRYABLE_SQLSTATES, EventSink

log = logging.getLogger(__name__)


class DriverStatements:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def read_lot(self, params: dict[str, Any]) -> Mapping[str, Any] | None:
        read, _ = postgres_driver_sql()
        row: Mapping[str, Any] | None = await self._connection.fetchrow(read.sql, *read.arguments(params))
        return row

    async def write(self, params: dict[str, Any]) -> None:
        _, write = postgres_driver_sql()
        await self._connection.execute(write.sql, *write.arguments(params))


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

    Deadlocks and serialization failures run the bid again, as run_in_transaction does; refusals
    (BidRefused, Forbidden, NotFound) roll the transaction back and reach the caller as they are.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        sink = EventSink(bidder_id, context.clock())
        try:
            async with driver.connection() as connection, connection.transaction():
                result = await place_english_bid(
                    sink,
                    DriverStatements(connection),
                    auction_id,
                    bidder_id,
                    amount_fen,
                    max_amount_fen,
                    on_locked=on_locked,
                )
        except NotEnglish:
            return None
        except asyncpg.PostgresError as error:
            if attempt < MAX_ATTEMPTS and error.sqlstate in RETRYABLE_SQLSTATES:
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            raise
        assert not sink.events, "every audit event is written with the bid"
        if context.publish is not None and sink.live_events:
            try:
                await context.publish(sink.live_events)
            except Exception:  # a live-event failure must never undo or fail a committed bid
                log.exception("publishing a bid's live events failed")
        return result, sink.now
    raise AssertionError("unreachable: the loop returns or raises")
