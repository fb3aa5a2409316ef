"""Crash scenario 2: a waterfall split. N defaulted loans (three holders each, seeded as
scripts/bench session seeds them) are sold in a centralized session and paid, so N cases wait,
`settling`, for their split; the service's split job is killed mid-split and restarted."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from bench_auction import log
from bench_session import create_session_lots, pay_all, register_everyone, seed_defaulted_book
from crash_checks import held_equals_pending, ledger_sums_to_zero, one_event_each
from crash_harness import ADMIN_KEY, Check, CrashError, Scenario, Work, check
from service_seeding import in_batches, seed_context
from sqlalchemy import update

from app.scheduler import close_due_auctions
from auction.bidding.place import place_bid
from auction.models import Auction
from transfer import ledger
from transfer.kernel.unit_of_work import UnitOfWork

# Round 1 starts at 70 % of the 10,000.00 appraisal (bench_session.APPRAISAL_FEN).
START_FEN = 700_000


async def seed(url: str, cases: int) -> tuple[list[int], Work]:
    ctx = seed_context(url, ADMIN_KEY)
    try:
        book = await seed_defaulted_book(ctx, cases)
        bidder_ids = [b for b, _ in book.bidders]
        now = datetime.now(UTC)
        starts_at = now + timedelta(seconds=1)
        auctions = await create_session_lots(ctx, book, starts_at, now + timedelta(hours=1))
        await register_everyone(ctx, auctions, bidder_ids)
        await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds()) + 0.1)
        policy = ctx.auction_policy

        async def bid(unit: UnitOfWork, pair: tuple[int, int]) -> None:
            i, auction_id = pair
            await place_bid(unit, auction_id, bidder_ids[i % len(bidder_ids)], START_FEN, None, policy=policy)

        await in_batches(ctx, list(enumerate(auctions)), bid)
        end = datetime.now(UTC)

        async def end_all(unit: UnitOfWork) -> None:
            await unit.session.execute(
                update(Auction)
                .where(Auction.id.in_(auctions))
                .values(ends_at=end, scheduled_ends_at=end, extension_window_s=0, extension_s=0)
            )

        await ctx.transact(end_all, actor_id=None)
        started = time.monotonic()
        await close_due_auctions(ctx)
        paid, _ = await pay_all(url, auctions)
        if paid != cases:
            raise CrashError(f"{paid} of {cases} lots were sold and paid: the seed is wrong")
        log(f"{len(auctions)} lots closed and {paid} paid in {time.monotonic() - started:.0f} s")
    finally:
        await ctx.database.dispose()
    return book.case_ids, Work("SELECT count(*) FROM disposal_cases WHERE state = 'settled'", cases)


async def checks(url: str, case_ids: list[int]) -> list[Check]:
    connection = await asyncpg.connect(url)
    try:
        cases = await connection.fetch(
            """SELECT c.id, c.state, c.ended_at, c.price_fen + c.forfeited_deposits_fen AS proceeds_fen,
                      count(l.line) AS lines, count(DISTINCT l.line) AS distinct_lines,
                      coalesce(min(l.line), 0) AS first_line, coalesce(max(l.line), 0) AS last_line,
                      CAST(coalesce(sum(l.amount_fen), 0) AS bigint) AS lines_fen
               FROM disposal_cases c LEFT JOIN disposal_waterfall_lines l ON l.case_id = c.id
               GROUP BY c.id ORDER BY c.id"""
        )
        unsettled = [c["id"] for c in cases if c["state"] != "settled" or c["ended_at"] is None]
        bad_lines = [
            c["id"]
            for c in cases
            if not (
                c["lines"] > 0
                and c["lines"] == c["distinct_lines"] == c["last_line"]
                and c["first_line"] == 1
                and c["lines_fen"] == c["proceeds_fen"]
            )
        ]
        paid_out = {
            r["reference"]: r
            for r in await connection.fetch(
                """SELECT reference, count(*) AS n, CAST(sum(amount_fen) AS bigint) AS fen FROM ledger_transfers
                   WHERE id LIKE 'disposal:%:line:%' GROUP BY reference"""
            )
        }
        lines_of = {c["id"]: c for c in cases}
        bad_payments = [
            case_id
            for case_id in case_ids
            if (paid_out.get(f"disposal:{case_id}") or {"n": 0, "fen": 0})["n"] != lines_of[case_id]["lines"]
            or paid_out[f"disposal:{case_id}"]["fen"] != lines_of[case_id]["proceeds_fen"]
        ]
        escrow = int(
            await connection.fetchval(
                "SELECT balance_fen FROM accounts WHERE key = $1", ledger.center_account_key(ledger.ESCROW)
            )
        )
        deliveries = await connection.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT collateral_id) AS items FROM collateral_transfer_tasks"
        )
        events = await connection.fetch(
            "SELECT subject, payload FROM audit_events WHERE type = 'disposal.settled' ORDER BY id"
        )
        table_lines = {
            (r["case_id"], r["line"], r["amount_fen"])
            for r in await connection.fetch("SELECT case_id, line, amount_fen FROM disposal_waterfall_lines")
        }
        event_lines = {
            (int(e["subject"].split(":")[1]), line[0], line[3])
            for e in events
            for line in json.loads(e["payload"])["lines"]
        }
        out = [
            check(
                "every case settled",
                len(cases) == len(case_ids) and not unsettled,
                f"{len(cases) - len(unsettled)} of {len(case_ids)} settled",
            ),
            check(
                "waterfall lines once each, summing to the proceeds",
                not bad_lines,
                f"{sum(c['lines'] for c in cases)} lines over {len(cases)} cases; {len(bad_lines)} cases wrong"
                + (f" (first: case {bad_lines[0]})" if bad_lines else ""),
            ),
            check(
                "each line paid from escrow once; escrow emptied",
                not bad_payments and escrow == 0,
                f"{len(bad_payments)} cases paid otherwise than their lines; escrow {escrow} fen",
            ),
            check(
                "collateral delivered once",
                deliveries["n"] == deliveries["items"] == len(case_ids),
                f"{deliveries['n']} registration tasks for {deliveries['items']} items of {len(case_ids)} cases",
            ),
            await held_equals_pending(connection),
            await ledger_sums_to_zero(connection),
            await one_event_each(
                connection,
                "disposal.settled",
                [f"disposal:{case_id}" for case_id in case_ids],
                "one settled event per case, the last in its chain",
            ),
            check(
                "the events' lines are the table's",
                event_lines == table_lines,
                f"{len(event_lines)} lines in the events, {len(table_lines)} in the table",
            ),
        ]
    finally:
        await connection.close()
    return out


def scenario(cases: int, settle_batch: int) -> Scenario:
    return Scenario(
        name="Waterfall split",
        size=f"{cases:,} paid cases over 3 holders, batches of {settle_batch}",
        env={"IPX_DISPOSAL_SETTLE_BATCH_SIZE": str(settle_batch)},
        seed=lambda url: seed(url, cases),
        checks=checks,
    )
