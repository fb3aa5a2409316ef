"""Crash scenario 1: a close storm. N English auctions end in the same instant, each with two
registered bidders (deposit holds): a third without bids (unsold), a third with one bid, a third
with a bid and a higher one; the service's closer is killed mid-storm and restarted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from bench_auction import log
from crash_checks import held_equals_pending, ledger_sums_to_zero, one_event_each
from crash_harness import ADMIN_KEY, Check, Scenario, Work, check
from service_seeding import in_batches, seed_context
from sqlalchemy import update

from auction.bidding.place import place_bid
from auction.creation import AuctionSpec, create_auction
from auction.models import Auction
from auction.registration import register
from transfer import ledger
from transfer.bootstrap import bootstrap
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry.participants import create_participant

START_FEN = 100_000  # 1,000.00
INCREMENT_FEN = 100
DEPOSIT_FEN = 10_000
BIDDERS = 8
FUNDS_FEN = 10**12


@dataclass(frozen=True, slots=True)
class Lot:
    auction_id: int
    bidders: tuple[int, int]
    # The outcome the bids make: (winner, price) or None (no bid: unsold).
    expected: tuple[int, int] | None


async def seed(url: str, auctions: int) -> tuple[list[Lot], Work]:
    ctx = seed_context(url, ADMIN_KEY)
    policy = ctx.auction_policy
    try:
        await ctx.transact(lambda unit: bootstrap(unit.session), actor_id=None)

        async def people(unit: UnitOfWork) -> tuple[int, list[int]]:
            bank = await create_participant(unit, name="Storm Bank", roles=["bank"])
            ids = []
            for i in range(BIDDERS):
                made = await create_participant(unit, name=f"Storm Bidder {i}", roles=["bidder"])
                await ledger.record_funds(unit, made.participant.id, FUNDS_FEN, f"crash-funds-{i}")
                ids.append(made.participant.id)
            return bank.participant.id, ids

        bank_id, bidder_ids = await ctx.transact(people, actor_id=None)
        started = time.monotonic()

        async def lot(unit: UnitOfWork, i: int) -> tuple[int, int, int]:
            spec = AuctionSpec(
                "english",
                f"Storm lot {i}",
                START_FEN,
                INCREMENT_FEN,
                DEPOSIT_FEN,
                unit.now,
                unit.now + timedelta(hours=1),
                extension_window_s=0,
            )
            auction = await create_auction(unit, bank_id, spec, policy)
            a, b = bidder_ids[(2 * i) % BIDDERS], bidder_ids[(2 * i + 1) % BIDDERS]
            for bidder in (a, b):
                await register(unit, auction.id, bidder, policy)
            return auction.id, a, b

        made = await in_batches(ctx, list(range(auctions)), lot)

        # The bids in transactions of their own: an English bid writes its unit's events with it.
        async def bids(unit: UnitOfWork, item: tuple[int, tuple[int, int, int]]) -> Lot:
            i, (auction_id, a, b) = item
            expected: tuple[int, int] | None = None
            if i % 3 >= 1:
                await place_bid(unit, auction_id, a, START_FEN, None, policy=policy)
                expected = (a, START_FEN)
            if i % 3 == 2:
                await place_bid(unit, auction_id, b, START_FEN + INCREMENT_FEN, None, policy=policy)
                expected = (b, START_FEN + INCREMENT_FEN)
            return Lot(auction_id, (a, b), expected)

        lots: list[Lot] = await in_batches(ctx, list(enumerate(made)), bids)
        # Every lot ends at the same instant, just past: the first tick after the start finds
        # them all due at once.
        end = datetime.now(UTC)

        async def end_all(unit: UnitOfWork) -> None:
            await unit.session.execute(update(Auction).values(ends_at=end, scheduled_ends_at=end))

        await ctx.transact(end_all, actor_id=None)
        log(
            f"{auctions} lots, {2 * auctions} deposit holds, bids on two thirds, in {time.monotonic() - started:.0f} s"
        )
    finally:
        await ctx.database.dispose()
    return lots, Work("SELECT count(*) FROM auctions WHERE closed_at IS NOT NULL", auctions)


async def checks(url: str, lots: list[Lot]) -> list[Check]:
    connection = await asyncpg.connect(url)
    try:
        rows = {
            r["id"]: r
            for r in await connection.fetch(
                "SELECT id, state, closed_at, winner_id, final_price_fen, unsold_reason FROM auctions"
            )
        }
        wrong = [
            lot.auction_id
            for lot in lots
            if (
                (rows[lot.auction_id]["winner_id"], rows[lot.auction_id]["final_price_fen"])
                != (lot.expected or (None, None))
                or rows[lot.auction_id]["state"] != ("awaiting_payment" if lot.expected else "unsold")
            )
        ]
        sold = sum(1 for lot in lots if lot.expected)
        deposits = await connection.fetch(
            """SELECT r.deposit_state, t.pending_status, count(*) AS n
               FROM auction_registrations r JOIN ledger_transfers t ON t.id = r.deposit_hold_id
               GROUP BY r.deposit_state, t.pending_status"""
        )
        by_state = {(d["deposit_state"], d["pending_status"]): d["n"] for d in deposits}
        resolutions = dict(
            await connection.fetch(
                "SELECT code, count(*) FROM ledger_transfers WHERE code IN ('deposit_apply', 'deposit_refund')"
                " GROUP BY code"
            )
        )
        escrow = int(
            await connection.fetchval("SELECT balance_fen FROM accounts WHERE key = 'center:escrow'")
        )
        out = [
            check(
                "every auction closed, with the outcome its bids make",
                len(rows) == len(lots)
                and all(r["closed_at"] is not None for r in rows.values())
                and not wrong,
                f"{sum(1 for r in rows.values() if r['closed_at'] is not None)} of {len(lots)} closed;"
                f" {sold} sold, {len(lots) - sold} unsold expected; {len(wrong)} wrong"
                + (f" (first: auction {wrong[0]})" if wrong else ""),
            ),
            check(
                "every deposit hold resolved once",
                by_state == {("applied", "posted"): sold, ("refunded", "voided"): 2 * len(lots) - sold}
                and resolutions.get("deposit_apply", 0) == sold
                and resolutions.get("deposit_refund", 0) == 2 * len(lots) - sold,
                f"registrations by (deposit, hold): {_show(by_state)}; resolutions {_show(resolutions)}",
            ),
            check(
                "escrow holds each winner's deposit once",
                escrow == sold * DEPOSIT_FEN,
                f"escrow {escrow} fen for {sold} winners of {DEPOSIT_FEN} fen",
            ),
            await held_equals_pending(connection),
            await ledger_sums_to_zero(connection),
            await one_event_each(
                connection,
                "auction.closed",
                [f"auction:{lot.auction_id}" for lot in lots],
                "one close event per auction, the last in its chain",
            ),
        ]
    finally:
        await connection.close()
    return out


def _show(counts: dict[Any, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)) or "none"


def scenario(auctions: int, close_batch: int) -> Scenario:
    return Scenario(
        name="Close storm",
        size=f"{auctions:,} auctions ending in one instant, batches of {close_batch}",
        env={"IPX_AUCTION_CLOSE_BATCH_SIZE": str(close_batch)},
        seed=lambda url: seed(url, auctions),
        checks=checks,
    )
