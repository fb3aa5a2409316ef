"""The English executor's optimistic mode: bids on PostgreSQL run on the asyncpg driver in per-lot
batches (app/bidding/lot_batches.py), each batch two statements with no transaction around them,
a plain read and the conditional write, read and judged again when another process's bid or a
close got in between (LotChanged); after a few misses in a row, the batch takes the locked mode
on the driver instead. The story is ARCHITECTURE.md's "The path of an English bid"."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from app.context import AppContext
from app.db import DriverConnections
from app.live.relay import NOTIFY_CHANNEL, PostgresRelay
from auction.bidding.english import place_english_bids
from auction.bidding.lot import BidResult, EnglishBidOutcome, EnglishBidRequest, LotChanged, NotEnglish
from auction.bidding.statements import postgres_driver_sql
from transfer.kernel.unit_of_work import MAX_ATTEMPTS, RETRYABLE_SQLSTATES, retry_pause, run_after_commit

# A hot lot contended by several processes may change under a batch a few times in a row; each
# retry is two cheap statements, and after this many the batch takes the row lock instead.
OPTIMISTIC_ATTEMPTS = 3
MAX_CHANGED_ATTEMPTS = 50


class DriverStatements:
    """The executor's statements on a driver connection. locking: read the lot FOR UPDATE (inside
    the caller's transaction), so the write always applies; otherwise read it plainly and let the
    conditional write find out. relay: several processes, so the write sends the batch's live
    events itself (app/live/relay.py)."""

    def __init__(self, connection: asyncpg.Connection, *, locking: bool, relay: PostgresRelay | None) -> None:
        self._connection = connection
        self._locking = locking
        self._relay = relay

    async def read_lots(self, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        sql = postgres_driver_sql()
        read = sql.read_locked if self._locking else sql.read_snapshot
        rows: list[Mapping[str, Any]] = await self._connection.fetch(read.sql, *read.arguments(params))
        return rows

    async def write(self, params: dict[str, Any], live_events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if self._relay is not None and live_events:
            params = {
                **params,
                "notify_channel": NOTIFY_CHANNEL,
                "notify_payloads": self._relay.payloads(list(live_events)),
            }
        write = postgres_driver_sql().write(params, notifying="notify_payloads" in params)
        if await self._connection.fetchval(write.sql, *write.arguments(params)) != 1:
            raise LotChanged


async def english_bids_on_driver(
    context: AppContext,
    driver: DriverConnections,
    auction_id: int,
    requests: Sequence[EnglishBidRequest],
    *,
    locking: bool = False,
) -> list[EnglishBidOutcome] | None:
    """Each request's outcome, in order, or None when the lot is not an English auction.

    Correct under any concurrency. Without `locking` the read and the conditional write run as two
    statements with no transaction around them (the write alone, for a lot this process already
    knows), and a lot that changed in between is read and judged again. With it, or after
    OPTIMISTIC_ATTEMPTS misses: BEGIN, read under the row lock, write, COMMIT. Every attempt keeps
    each bid's receipt time. NotFound (no such lot) reaches the caller as it is; deadlocks and
    serialization failures run the batch again, as run_in_transaction does.
    """
    known_lots = context.known_lots
    for attempt in range(1, MAX_CHANGED_ATTEMPTS + 1):
        locked = locking or attempt > OPTIMISTIC_ATTEMPTS
        # Taken out while in use: whatever goes wrong below, a lot it no longer matches is not kept.
        known = known_lots.pop(auction_id)
        try:
            async with driver.connection() as connection:
                statements = DriverStatements(connection, locking=locked, relay=context.relay)
                if locked:
                    async with connection.transaction():
                        outcomes, known = await place_english_bids(statements, auction_id, requests)
                else:
                    outcomes, known = await place_english_bids(statements, auction_id, requests, known)
        except NotEnglish:
            return None
        except LotChanged:
            continue
        except asyncpg.PostgresError as error:
            if attempt < MAX_ATTEMPTS and error.sqlstate in RETRYABLE_SQLSTATES:
                await retry_pause(attempt)
                continue
            raise
        known_lots.put(auction_id, known)
        live_events = [event for outcome in outcomes for event in outcome.sink.live_events]
        if context.publish is not None and live_events:
            await run_after_commit([functools.partial(context.publish, live_events)])
        return outcomes
    raise LotChanged(f"auction {auction_id} changed under {MAX_CHANGED_ATTEMPTS} batches in a row")


async def english_bid_on_driver(
    context: AppContext,
    driver: DriverConnections,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
    *,
    locking: bool = False,
) -> tuple[BidResult, datetime] | None:
    """One bid as a batch of its own (no queue): its result and server time, its refusal raised,
    or None when the lot is not an English auction."""
    request = EnglishBidRequest(bidder_id, amount_fen, max_amount_fen, context.clock())
    outcomes = await english_bids_on_driver(context, driver, auction_id, [request], locking=locking)
    return None if outcomes is None else (outcomes[0].answer(), outcomes[0].sink.now)


def driver_bids_on(context: AppContext) -> bool:
    """Whether English bids without an Idempotency-Key take the optimistic mode (PostgreSQL, with
    IPX_DRIVER_BIDS): otherwise they take the locked mode in a unit of work."""
    return context.database.driver is not None and context.settings.driver_bids


async def batched_english_bid(
    context: AppContext,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
) -> EnglishBidOutcome | None:
    """The bid on the driver, batched with its lot's other bids, or None when the lot is not an
    English auction (nothing was written; the lot is remembered, so its later bids skip the
    driver's read). Only when driver_bids_on."""
    driver = context.database.driver
    assert driver is not None
    # The server's receipt time is the bid time (DESIGN.md): read here, kept through every attempt.
    request = EnglishBidRequest(bidder_id, amount_fen, max_amount_fen, context.clock())
    outcome = await context.bid_batches.submit(
        auction_id, request, functools.partial(english_bids_on_driver, context, driver, auction_id)
    )
    if outcome is None:
        context.not_english.put(auction_id, None)
    return outcome
