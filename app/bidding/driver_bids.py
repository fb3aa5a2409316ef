"""English bids on PostgreSQL, run on the asyncpg driver in per-lot batches.

A bid is the hottest write in the system, and on a burst the serving process's CPU and a hot
lot's one row are what limit it. Here bids on a lot go as batches of two statements on a pooled
asyncpg connection, each its own transaction:

1. read the lot and the registrations of the batch's bidders (no lock);
2. one conditional write: the lot update applies only if the lot's sequence and state are still
   what step 1 read, and the bids and their audit events are inserted from that update's result,
   so all of it happens together or not at all (`auction.bidding.statements._conditional_bid_write`).

Batches (app/lot_batches.py): a bid that arrives while its lot's batch is being written waits, and the
bids that waited go together as the next batch, judged one after the other in arrival order
(`auction.bidding.english.place_english_bids`), exactly as they would be one at a time. A lot bid on alone
gets batches of one; a hot lot gets one read and one write for every few bids instead of per bid,
so neither the row nor the process's CPU queues up behind it.

If another process's bid or a close got in between, the write applies nothing and the batch is
read and judged again (LotChanged), as the issue allows: "a row lock or one conditional update
per bid". After a few such misses in a row, the batch takes the row lock (BEGIN, read FOR UPDATE,
write, COMMIT), which always applies.

What takes the general path instead (`auction.bidding.place.place_bid` in a unit of work, under the row
lock): SQLite, every other auction kind (found by the read, before any write), and requests with
an Idempotency-Key, whose claim and stored answer live in the unit of work.
"""

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
NOT_ENGLISH_MAX_ENTRIES = 10_000
# Lots remembered as this process last saw them (auction.bidding.lot.KnownLot): a bid on one of them
# is judged on it and written without reading it first. Forgetting one costs a read, never an answer.
KNOWN_LOTS_MAX_ENTRIES = 10_000


class DriverStatements:
    """locking: read the lot FOR UPDATE (inside the caller's transaction), so the write always
    applies; otherwise read it plainly and let the conditional write find out. relay: several
    processes, so the write sends the batch's live events itself (app/live/relay.py)."""

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
        known = known_lots.pop(auction_id, None)
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
        if len(known_lots) >= KNOWN_LOTS_MAX_ENTRIES:
            known_lots.clear()
        known_lots[auction_id] = known
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
    return None if outcomes is None else _answer(outcomes[0])


def _answer(outcome: EnglishBidOutcome) -> tuple[BidResult, datetime]:
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return outcome.result, outcome.sink.now


async def gated_english_bid(
    context: AppContext,
    bidder_id: int,
    auction_id: int,
    amount_fen: int,
    max_amount_fen: int | None,
) -> tuple[BidResult, datetime] | None:
    """The bid on the driver, batched with its lot's other bids, as both the bid handler and the
    raw ASGI bid path (app/bid_fast_path.py) run it; None when the driver path is off (SQLite,
    IPX_DRIVER_BIDS=false) or the lot is not an English auction: then nothing was written and the
    bid takes the unit-of-work path."""
    driver = context.database.driver
    if driver is None or not context.settings.driver_bids or auction_id in context.not_english:
        return None
    # The server's receipt time is the bid time (DESIGN.md): read here, kept through every attempt.
    request = EnglishBidRequest(bidder_id, amount_fen, max_amount_fen, context.clock())
    outcome = await context.bid_batches.submit(
        auction_id, request, functools.partial(english_bids_on_driver, context, driver, auction_id)
    )
    if outcome is None:
        if len(context.not_english) >= NOT_ENGLISH_MAX_ENTRIES:
            context.not_english.clear()
        context.not_english.add(auction_id)
        return None
    return _answer(outcome)
