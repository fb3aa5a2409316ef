"""Crash scenario 3: the annuity run. Pledged patents with fees due today (paid from their loans'
escrows, but every tenth loan's escrow is empty) and fees due yesterday in empty escrows (they
enter grace), seeded as scripts/bench annuities seeds them; the service's run is killed mid-run
and restarted."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from bench_annuities import PATENTS_PER_LOAN, check_books
from bench_annuities import seed as seed_patents
from bench_auction import BenchError
from crash_checks import held_equals_pending, ledger_sums_to_zero
from crash_harness import ADMIN_KEY, Check, Scenario, Work, check
from service_seeding import seed_context

from transfer import ledger
from transfer.annuities.alerts import ANNUITY_IN_GRACE
from transfer.rules.fee_waiver import shanghai_trade_date


def _unfunded(due_today: int) -> int:
    """Fees due today in loans whose escrow is empty (bench_annuities' seed: every tenth loan)."""
    return sum(1 for p in range(1, due_today + 1) if ((p - 1) // PATENTS_PER_LOAN + 1) % 10 == 0)


async def seed(url: str, patents: int, due_today: int) -> tuple[tuple[int, int], Work]:
    assert due_today % PATENTS_PER_LOAN == 0, "fees due today fill whole loans"
    due_yesterday = due_today // 10
    ctx = seed_context(url, ADMIN_KEY)
    try:
        await seed_patents(ctx, patents, due_today, due_yesterday, shanghai_trade_date(datetime.now(UTC)))
    finally:
        await ctx.database.dispose()
    total = due_today - _unfunded(due_today) + due_yesterday
    return (due_today, due_yesterday), Work(
        "SELECT count(*) FROM annuities WHERE status IN ('paid', 'in_grace')", total
    )


async def checks(url: str, due: tuple[int, int]) -> list[Check]:
    due_today, due_yesterday = due
    ctx = seed_context(url, ADMIN_KEY)
    try:
        books = await check_books(ctx, due_today, due_yesterday)
        books_check = check("fees paid and in grace as seeded", True, f"{books}")
    except BenchError as error:
        books_check = check("fees paid and in grace as seeded", False, str(error))
    finally:
        await ctx.database.dispose()
    connection = await asyncpg.connect(url)
    try:
        paid = await connection.fetchrow(
            """SELECT count(*) AS fees, CAST(coalesce(sum(a.fee_fen + a.late_fee_fen), 0) AS bigint) AS fen,
                      count(t.id) AS transfers, CAST(coalesce(sum(t.amount_fen), 0) AS bigint) AS transfers_fen,
                      count(DISTINCT a.run_id) AS runs
               FROM annuities a LEFT JOIN ledger_transfers t ON t.id = a.receipt
               WHERE a.status = 'paid'"""
        )
        fee_transfers = int(
            await connection.fetchval("SELECT count(*) FROM ledger_transfers WHERE code = 'annuity_fee'")
        )
        payee = int(
            await connection.fetchval(
                "SELECT balance_fen FROM accounts WHERE key = $1",
                ledger.center_account_key(ledger.PATENT_OFFICE),
            )
        )
        run_events = await connection.fetchrow(
            """SELECT count(*) AS events,
                      CAST(coalesce(sum(CAST(CAST(payload AS jsonb) ->> 'fees' AS bigint)), 0) AS bigint) AS fees,
                      CAST(coalesce(sum(CAST(CAST(payload AS jsonb) ->> 'amount_fen' AS bigint)), 0) AS bigint)
                        AS fen,
                      count(DISTINCT CAST(payload AS jsonb) ->> 'run_id') AS runs
               FROM audit_events e JOIN audit_seals s ON s.event_id = e.id
               WHERE e.type = 'annuity.run_paid'"""
        )
        grace = await connection.fetchrow(
            """SELECT (SELECT count(*) FROM annuities WHERE status = 'in_grace') AS fees,
                      (SELECT count(*) FROM alerts WHERE kind = $1) AS alerts,
                      (SELECT count(DISTINCT annuity_id) FROM alerts WHERE kind = $1) AS alerted""",
            ANNUITY_IN_GRACE,
        )
        out = [
            books_check,
            check(
                "each fee paid once: one transfer each, the payee credited once",
                paid["transfers"] == paid["fees"] == fee_transfers
                and paid["transfers_fen"] == paid["fen"] == payee,
                f"{paid['fees']} fees paid ({paid['fen']} fen) by {paid['transfers']} of their transfers"
                f" ({fee_transfers} fee transfers in all); payee {payee} fen",
            ),
            check(
                "each committed run in the audit log once",
                run_events["fees"] == paid["fees"]
                and run_events["fen"] == paid["fen"]
                and run_events["events"] == run_events["runs"] == paid["runs"],
                f"{run_events['events']} run events for {paid['runs']} runs in the fees:"
                f" {run_events['fees']} fees, {run_events['fen']} fen",
            ),
            check(
                "each fee in grace alerted once",
                grace["fees"] == grace["alerts"] == grace["alerted"] == due_yesterday,
                f"{grace['fees']} fees in grace, {grace['alerts']} alerts for {grace['alerted']} fees",
            ),
            await held_equals_pending(connection),
            await ledger_sums_to_zero(connection),
        ]
    finally:
        await connection.close()
    return out


def scenario(patents: int, due_today: int, batch_loans: int) -> Scenario:
    return Scenario(
        name="Annuity run",
        size=f"{patents:,} patents, {due_today:,} fees due today, batches of {batch_loans} loans",
        # The day's run every second (it is idempotent), so the restarted service runs it at once.
        env={"IPX_ANNUITY_RUN_INTERVAL_S": "1", "IPX_ANNUITY_RUN_BATCH_LOANS": str(batch_loans)},
        seed=lambda url: seed(url, patents, due_today),
        checks=checks,
    )
