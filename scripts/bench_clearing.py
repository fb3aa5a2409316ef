"""scripts/bench clearing: the clearing desk's set-based work at scale, on PostgreSQL.

Workload (one fresh database per run, dropped at the end):
  * 1,000,000 settled trades on one Shanghai day, 4 fee lines each (4,000,000 lines; 80 % of the
    trades are IP-pledge loans inside the waiver window, 20 % pay fees), their ledger legs
    (price leg for every trade, fee legs for the fee payers) and balances that match the transfers;
  * the fee-waiver report for that day and the day's reconciliation, through the service code;
  * a repayment distributed to 100,000 income-right holders, through the service code.
Each measurement is paired with a raw-database baseline run in the same process with asyncpg:
  * report: one bare SUM over fee_lines JOIN trades for the period;
  * reconciliation: one bare anti-join of settled trades against their price legs;
  * distribution: COPY of 100,000 ledger rows plus one UPDATE … FROM unnest of 100,000 balances.
Targets (issue 4): report ≤ 5 s, reconciliation ≤ 5 s, distribution ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import migrate
from app.db import create_database
from app.settings import Settings
from transfer import ledger
from transfer.bootstrap import bootstrap
from transfer.clearing import reports
from transfer.kernel.unit_of_work import run_in_transaction
from transfer.servicing.repayments import record_repayment

DAY = date(2026, 6, 1)
# 10:00 in Shanghai on DAY: every trade is dated and settled on DAY.
SETTLED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
WAIVER_START = date(2025, 3, 1)


def log(message: str) -> None:
    print(f"[bench clearing] {message}", flush=True)


async def timed(label: str, coroutine_factory):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = await coroutine_factory()
    elapsed = time.perf_counter() - started
    log(f"{label}: {elapsed:.2f} s")
    return elapsed, result


SEED_SQL = [
    (
        "participants",
        """INSERT INTO participants (id, name, roles, credit_code, qualified_investor, active, created_at)
           SELECT i, 'Institution ' || i, 'bank,bidder', NULL, true, true, now()
           FROM generate_series(1, $1::int) AS i""",
    ),
    (
        "accounts",
        """INSERT INTO accounts (key, participant_id, code, non_negative, balance_fen)
           SELECT 'participant:' || i || ':' || c, i, c, true, 0
           FROM generate_series(1, $1::int) AS i, unnest(ARRAY['available', 'held']) AS c""",
    ),
    (
        "loans",
        """INSERT INTO loans (id, creditor_id, originator_id, servicer_id, borrower_name, borrower_credit_code,
                              principal_fen, outstanding_principal_fen, rate_bps, originated_on, matures_on, status, created_at)
           SELECT i, 1, 1, 1, 'Borrower ' || i, '914403001922038216', 100000000000, 90000000000, 385,
                  DATE '2025-01-10', DATE '2028-01-10', 'performing', now()
           FROM generate_series(1, 1000) AS i""",
    ),
    (
        "income rights",
        "INSERT INTO income_rights (loan_id, holder_id, share_ppm) SELECT i, 1, 1000000 FROM generate_series(1, 1000) AS i",
    ),
    (
        "listings",
        """INSERT INTO listings (id, loan_id, seller_id, kind, mode, share_ppm, asking_price_fen, min_unit_ppm,
                                 status, holders_consent, offer_count, created_at)
           SELECT i, i, 1, 'income_right', 'negotiated', 1000, 100000000, 1, 'matched', false, 1, now()
           FROM generate_series(1, 1000) AS i""",
    ),
    (
        "trades",
        # Fee totals as the fee lines below sum them: 1,700.00 seller and 500.00 buyer, all waived
        # on the IP-pledge trades.
        """INSERT INTO trades (id, listing_id, offer_id, loan_id, kind, seller_id, buyer_id, share_ppm, price_fen,
                               is_ip_pledge, trade_date, settlement_due_on, status, created_at, settled_at,
                               fee_line_count, seller_fees_charged_fen, buyer_fees_charged_fen, fees_waived_fen)
           SELECT i, (i % 1000) + 1, NULL, (i % 1000) + 1,
                  CASE WHEN i % 2 = 0 THEN 'income_right' ELSE 'whole_loan' END,
                  1, (i % 999) + 2, 1000, 10000000 + (i % 9973) * 100,
                  i % 5 <> 0, $2::date, $2::date + 3, 'settled', $3::timestamptz, $3::timestamptz,
                  4, CASE WHEN i % 5 <> 0 THEN 0 ELSE 170000 END, CASE WHEN i % 5 <> 0 THEN 0 ELSE 50000 END,
                  CASE WHEN i % 5 <> 0 THEN 220000 ELSE 0 END
           FROM generate_series(1, $1::int) AS i""",
    ),
    (
        "fee lines",
        # The default schedule: registration 200.00 flat, listing 1 bp (1,000.00–50,000.00) seller,
        # transaction 2 bp (500.00–100,000.00) each side; waived in full for IP-pledge trades.
        """INSERT INTO fee_lines (trade_id, item, payer, payer_id, gross_fen, waived_fen, charged_fen, rule)
           SELECT t.id, f.item, f.payer, CASE WHEN f.payer = 'seller' THEN t.seller_id ELSE t.buyer_id END,
                  f.gross, CASE WHEN t.is_ip_pledge THEN f.gross ELSE 0 END,
                  CASE WHEN t.is_ip_pledge THEN 0 ELSE f.gross END,
                  CASE WHEN t.is_ip_pledge THEN 'ip_pledge_waiver_2025' ELSE 'schedule' END
           FROM trades t,
           LATERAL (VALUES ('registration', 'seller', 20000::bigint),
                           ('listing', 'seller', 100000::bigint),
                           ('transaction', 'seller', 50000::bigint),
                           ('transaction', 'buyer', 50000::bigint)) AS f(item, payer, gross)""",
    ),
    (
        "price legs",
        """INSERT INTO ledger_transfers (id, kind, debit_account_id, credit_account_id, amount_fen, code, reference, created_at)
           SELECT 'trade:' || t.id || ':price', 'posted', b.id, s.id, t.price_fen, 'trade_price', 'trade:' || t.id, t.settled_at
           FROM trades t
           JOIN accounts b ON b.key = 'participant:' || t.buyer_id || ':available'
           JOIN accounts s ON s.key = 'participant:' || t.seller_id || ':available'""",
    ),
    (
        "fee legs",
        """INSERT INTO ledger_transfers (id, kind, debit_account_id, credit_account_id, amount_fen, code, reference, created_at)
           SELECT 'trade:' || f.trade_id || ':fees:' || f.payer, 'posted', a.id, fee.id, sum(f.charged_fen), 'trade_fees',
                  'trade:' || f.trade_id, $1::timestamptz
           FROM fee_lines f
           JOIN accounts a ON a.key = 'participant:' || f.payer_id || ':available'
           JOIN accounts fee ON fee.key = 'center:fee_income'
           WHERE f.charged_fen > 0
           GROUP BY f.trade_id, f.payer, a.id, fee.id""",
    ),
    (
        "opening funds",
        # Each buyer was funded with what it spent, so no available balance is negative.
        """INSERT INTO ledger_transfers (id, kind, debit_account_id, credit_account_id, amount_fen, code, reference, created_at)
           SELECT 'funds:' || a.participant_id || ':bench', 'posted', ext.id, a.id, spent.total, 'funds', 'bench', $1::timestamptz
           FROM (SELECT debit_account_id AS account, sum(amount_fen) AS total FROM ledger_transfers GROUP BY debit_account_id) spent
           JOIN accounts a ON a.id = spent.account AND a.participant_id IS NOT NULL
           JOIN accounts ext ON ext.key = 'center:external_settlement'""",
    ),
    (
        "balances",
        """UPDATE accounts SET balance_fen = n.net FROM (
             SELECT account, sum(amount) AS net FROM (
               SELECT credit_account_id AS account, amount_fen AS amount FROM ledger_transfers
               UNION ALL SELECT debit_account_id, -amount_fen FROM ledger_transfers) m GROUP BY account) n
           WHERE accounts.id = n.account""",
    ),
]


async def seed(url: str, trades: int, holders: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        institutions = max(1_001, holders + 1)
        for label, sql in SEED_SQL:
            started = time.perf_counter()
            if label in ("participants", "accounts"):
                await connection.execute(sql, institutions)
            elif label == "trades":
                await connection.execute(sql, trades, DAY, SETTLED_AT)
            elif label in ("fee legs", "opening funds"):
                await connection.execute(sql, SETTLED_AT)
            else:
                await connection.execute(sql)
            log(f"seeded {label} ({time.perf_counter() - started:.1f} s)")
        for table in ("participants", "loans", "listings", "trades"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def raw_report(url: str) -> float:
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await connection.fetchrow(
            """SELECT sum(f.gross_fen), sum(f.waived_fen), sum(f.charged_fen) FROM fee_lines f
               JOIN trades t ON t.id = f.trade_id WHERE t.trade_date BETWEEN $1 AND $1""",
            DAY,
        )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def raw_reconciliation(url: str) -> float:
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await connection.fetchval(
            """SELECT count(*) FROM trades t LEFT JOIN ledger_transfers l ON l.id = 'trade:' || t.id || ':price'
               WHERE t.status = 'settled' AND l.id IS NULL"""
        )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def raw_distribution(url: str, holders: int) -> float:
    connection = await asyncpg.connect(url)
    try:
        accounts = await connection.fetch(
            "SELECT id FROM accounts WHERE code = 'available' AND participant_id BETWEEN 2 AND $1 ORDER BY id",
            holders + 1,
        )
        external = await connection.fetchval(
            "SELECT id FROM accounts WHERE key = 'center:external_settlement'"
        )
        ids = [row["id"] for row in accounts]
        amounts = [1_000 + i % 7 for i in range(len(ids))]
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "ledger_transfers",
                records=[
                    (f"raw:{i}", "posted", external, account, amount, None, None, "repayment", "raw", now)
                    for i, (account, amount) in enumerate(zip(ids, amounts, strict=True))
                ],
                columns=list(ledger.TRANSFER_COLUMNS),
            )
            await connection.execute(
                """UPDATE accounts SET balance_fen = balance_fen + u.delta
                   FROM unnest($1::bigint[], $2::bigint[]) AS u(id, delta) WHERE accounts.id = u.id""",
                ids,
                amounts,
            )
            await connection.execute(
                "UPDATE accounts SET balance_fen = balance_fen - $1 WHERE id = $2", sum(amounts), external
            )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def distribution_loan(url: str, holders: int) -> int:
    connection = await asyncpg.connect(url)
    try:
        loan_id = int(await connection.fetchval("SELECT max(id) + 1 FROM loans"))
        await connection.execute(
            """INSERT INTO loans (id, creditor_id, originator_id, servicer_id, borrower_name, borrower_credit_code,
                                  principal_fen, outstanding_principal_fen, rate_bps, originated_on, matures_on, status, created_at)
               VALUES ($1, 1, 1, 1, 'Widely held borrower', '914403001922038216', 100000000000, 100000000000, 385,
                       DATE '2025-01-10', DATE '2028-01-10', 'performing', now())""",
            loan_id,
        )
        share_ppm, rest = divmod(1_000_000, holders)
        await connection.execute(
            """INSERT INTO income_rights (loan_id, holder_id, share_ppm)
               SELECT $1, i, $2 + CASE WHEN i - 1 <= $3 THEN 1 ELSE 0 END FROM generate_series(2, $4::int + 1) AS i""",
            loan_id,
            share_ppm,
            rest,
            holders,
        )
        return loan_id
    finally:
        await connection.close()


def verdict(seconds: float, target_s: float) -> str:
    return "met" if seconds <= target_s else "MISSED"


async def run(args: argparse.Namespace) -> int:
    admin = args.pg_url.rsplit("/", 1)[0] + "/postgres"
    name = f"ipx_bench_clearing_{os.getpid()}"
    url = args.pg_url.rsplit("/", 1)[0] + f"/{name}"
    admin_connection = await asyncpg.connect(admin)
    await admin_connection.execute(f"CREATE DATABASE {name}")
    await admin_connection.close()
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        database = create_database(url)
        async with database.write() as session, session.begin():
            await bootstrap(session)
        log(f"seeding {args.trades:,} trades and {args.holders:,} holders (not timed)")
        await seed(url, args.trades, args.holders)

        async def report() -> object:
            async with database.read() as session:
                return await reports.fee_waiver_report(session, DAY, DAY)

        async def reconciliation() -> object:
            async with database.read() as session:
                return await reports.reconcile(session, DAY, waiver_start=WAIVER_START, waiver_years=3)

        report_s, fee_report = await timed("fee-waiver report (service)", report)
        raw_report_s = await raw_report(url)
        recon_s, recon = await timed("reconciliation (service)", reconciliation)
        raw_recon_s = await raw_reconciliation(url)
        assert fee_report.trade_count == args.trades, fee_report.trade_count  # type: ignore[attr-defined]
        assert recon.clean, recon.breaks[:5]  # type: ignore[attr-defined]

        loan_id = await distribution_loan(url, args.holders)
        clock = lambda: datetime.now(UTC)  # noqa: E731
        principal_fen, interest_fen = 1_000_000_00, 12_345_67
        # A repayment pays out the servicer's own funds, so clearing books the borrower's cash first
        # (not timed).
        await run_in_transaction(
            database.write,
            lambda unit: ledger.record_funds(unit, 1, principal_fen + interest_fen, "BENCH-REPAYMENT"),
            actor_id=1,
            clock=clock,
        )

        async def distribute() -> object:
            return await run_in_transaction(
                database.write,
                lambda unit: record_repayment(
                    unit,
                    loan_id,
                    1,
                    principal_fen=principal_fen,
                    interest_fen=interest_fen,
                    received_on=DAY,
                    interest_tolerance_bps=Settings().repayment_interest_tolerance_bps,
                ),
                actor_id=1,
                clock=clock,
            )

        distribution_s, recorded = await timed(f"repayment to {args.holders:,} holders (service)", distribute)
        assert recorded.holder_count == args.holders  # type: ignore[attr-defined]
        raw_distribution_s = await raw_distribution(url, args.holders)
        await database.dispose()

        rows = [
            ("fee-waiver report, 1 day", args.trades, report_s, raw_report_s, 5.0),
            ("reconciliation, 1 day", args.trades, recon_s, raw_recon_s, 5.0),
            (f"repayment to {args.holders:,} holders", args.holders, distribution_s, raw_distribution_s, 2.0),
        ]
        print()
        print(
            f"{'workload':<34} {'rows':>10} {'ours s':>8} {'raw s':>8} {'ours/raw':>9} {'target':>8}  verdict"
        )
        for label, count, ours, raw, target in rows:
            print(
                f"{label:<34} {count:>10,} {ours:>8.2f} {raw:>8.2f} {ours / raw:>9.1f} {'≤ ' + str(target):>8}  {verdict(ours, target)}"
            )
        print(
            "\nraw: one bare query (report, reconciliation) or COPY + one UPDATE (distribution) with asyncpg; "
            "ours runs every check and grouping the API answers with."
        )
        return 0
    finally:
        admin_connection = await asyncpg.connect(admin)
        await admin_connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin_connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench clearing", description=__doc__.split("\n")[0])
    parser.add_argument("clearing", nargs="?")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("IPX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="100,000 trades and 10,000 holders")
    args = parser.parse_args()
    if args.quick:
        args.trades, args.holders = 100_000, 10_000
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
