"""scripts/bench pools: a revenue spread over a large operation pool, on PostgreSQL.

Workload (one fresh database per run, dropped at the end):
  * one agency's pool of 10,000 bought patents (--quick: 1,000), each from its own settled
    disposal case; half of them carry an earn-out (20 % of their revenue, a cap far above it) into
    a case whose loan has 3 income-right holders (50 / 30 / 20 %) and a remaining claim;
  * one revenue booked without a licence through the service code (auction.disposal.earn_outs):
    the spread by acquisition price, 5,000 earn-outs into their cases' remaining claims by share,
    the agency's rest, the ledger movements and every line, in one transaction, timed.
  * the baseline, in the same run and on the same database, before the service: the rows the
    service writes (a revenue, its lines, the assets' paid parts, the cases' and loans' figures),
    written straight by asyncpg (COPY and UPDATE … FROM unnest) in one transaction that is rolled
    back: the floor no service code can go under. The ratio is service / baseline.
Seeding is untimed and set-based SQL. Target (issue 14): written in ≤ 2 s on PostgreSQL.
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

from sqlalchemy import func, select

from app import migrate
from app.db import create_database
from auction.disposal import earn_outs
from auction.operation.models import PoolLine
from auction.operation.revenue import RevenueSpec
from transfer import ledger
from transfer.bootstrap import bootstrap
from transfer.kernel.unit_of_work import run_in_transaction

AGENCY_FUNDS_FEN = 10**13
REVENUE_FEN = 1_000_000_000  # 10,000,000.00 yuan
TARGET_S = 2.0


def log(message: str) -> None:
    print(f"[bench pools] {message}", flush=True)


SEED_SQL = [
    """INSERT INTO participants (id, name, roles, credit_code, qualified_investor, active, created_at)
       SELECT i, CASE WHEN i = 1 THEN 'Agency' ELSE 'Bank ' || i END, CASE WHEN i = 1 THEN 'agency' ELSE 'bank' END,
              NULL, true, true, now()
       FROM generate_series(1, 4) AS i""",
    """INSERT INTO accounts (key, participant_id, code, non_negative, balance_fen)
       SELECT 'participant:' || i || ':' || c, i, c, true, 0
       FROM generate_series(1, 4) AS i, unnest(ARRAY['available', 'held']) AS c""",
    f"""UPDATE accounts SET balance_fen = balance_fen + {AGENCY_FUNDS_FEN} WHERE key = 'participant:1:available'""",
    f"""UPDATE accounts SET balance_fen = balance_fen - {AGENCY_FUNDS_FEN} WHERE key = 'center:external_settlement'""",
    """INSERT INTO loans (id, creditor_id, originator_id, servicer_id, borrower_name, borrower_credit_code,
                          principal_fen, outstanding_principal_fen, rate_bps, originated_on, matures_on, status,
                          remaining_claim_fen, created_at)
       SELECT i, 2, 2, 2, 'Borrower ' || i, '914403001922038216', 200000000, 100000000, 385,
              DATE '2024-01-10', DATE '2027-01-10', 'defaulted', 100000000, now()
       FROM generate_series(1, $1::int) AS i""",
    """INSERT INTO collateral_items (id, loan_id, position, kind, registry_number, title, right_holder,
                                     appraisal_fen, appraised_on, state)
       SELECT i, i, 0, 'invention_patent', 'ZL2021' || lpad(i::text, 8, '0') || '.X', 'Patent ' || i,
              'Pledgor ' || i, 100000000 + (i % 97) * 1000, DATE '2025-06-01', 'delivered'
       FROM generate_series(1, $1::int) AS i""",
    """INSERT INTO income_rights (loan_id, holder_id, share_ppm)
       SELECT i, 2 + h, (ARRAY[500000, 300000, 200000])[h + 1]
       FROM generate_series(1, $1::int) AS i, generate_series(0, 2) AS h""",
    """INSERT INTO disposal_cases (id, loan_id, creditor_id, state, outcome, reason, principal_fen, interest_fen,
                                   penalty_interest_fen, costs_fen, interest_repaid_fen, appraisal_fen, pledgor_name,
                                   auto_advance, round_count, price_fen, forfeited_deposits_fen, buyer_id,
                                   shortfall_fen, surplus_fen, created_at, ended_at)
       SELECT i, i, 2, 'settled', 'bought_out', 'bench', 100000000, 5000000, 0, 0, 0, 100000000, 'Pledgor ' || i,
              false, 0, 70000000, 0, 1, 100000000, 0, now(), now()
       FROM generate_series(1, $1::int) AS i""",
    """INSERT INTO operation_pools (id, agency_id, name, description, created_at) VALUES (1, 1, 'Bench pool', NULL, now())""",
    """INSERT INTO accounts (key, participant_id, code, non_negative, balance_fen)
       VALUES ('pool:1:pool_revenue', NULL, 'pool_revenue', true, 0)""",
    """INSERT INTO pool_assets (id, pool_id, collateral_id, acquisition_price_fen, acquired_at, source_case_id,
                                earn_out_share_bps, earn_out_cap_fen, earn_out_until, earn_out_paid_fen)
       SELECT i, 1, i, 70000000 + (i % 97) * 1000, now(), i,
              CASE WHEN i % 2 = 0 THEN 2000 END, CASE WHEN i % 2 = 0 THEN 1000000000 END,
              CASE WHEN i % 2 = 0 THEN TIMESTAMPTZ '2100-01-01 00:00+00' END, 0
       FROM generate_series(1, $1::int) AS i""",
]


async def seed(url: str, assets: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            for statement in SEED_SQL:
                if "$1" in statement:
                    await connection.execute(statement, assets)
                else:
                    await connection.execute(statement)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def raw_baseline(url: str, assets: int) -> float:
    """The same rows the service writes, straight from asyncpg, rolled back; returns seconds."""
    earning = list(range(2, assets + 1, 2))
    connection = await asyncpg.connect(url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        started = time.perf_counter()
        revenue_id = await connection.fetchval(
            """INSERT INTO pool_revenues (pool_id, license_id, amount_fen, received_on, reference, earn_out_fen,
                                          agency_fen, created_at)
               VALUES (1, NULL, $1, DATE '2027-06-30', 'baseline', 0, $1, now()) RETURNING id""",
            REVENUE_FEN,
        )
        lines = [(revenue_id, 1, "agency", None, None, 1, REVENUE_FEN, "rest")]
        lines.extend(
            (revenue_id, 2 + 3 * n + h, "earn_out_claim", asset, asset, 2 + h, 1, "claim by share")
            for n, asset in enumerate(earning)
            for h in range(3)
        )
        await connection.copy_records_to_table(
            "pool_lines",
            records=lines,
            columns=["revenue_id", "line", "part", "asset_id", "case_id", "payee_id", "amount_fen", "rule"],
        )
        ones = [1] * len(earning)
        await connection.execute(
            "UPDATE pool_assets SET earn_out_paid_fen = u.paid FROM unnest($1::bigint[], $2::bigint[]) AS u(id, paid)"
            " WHERE pool_assets.id = u.id",
            earning,
            ones,
        )
        await connection.execute(
            "UPDATE disposal_cases SET shortfall_fen = u.s, surplus_fen = u.p"
            " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, s, p) WHERE disposal_cases.id = u.id",
            earning,
            ones,
            [0] * len(earning),
        )
        await connection.execute(
            "UPDATE loans SET outstanding_principal_fen = u.o, remaining_claim_fen = u.r"
            " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, o, r) WHERE loans.id = u.id",
            earning,
            ones,
            ones,
        )
        elapsed_s = time.perf_counter() - started
        await transaction.rollback()
        return elapsed_s
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> int:
    admin = args.pg_url.rsplit("/", 1)[0] + "/postgres"
    name = f"ipx_bench_pools_{os.getpid()}"
    url = args.pg_url.rsplit("/", 1)[0] + f"/{name}"
    admin_connection = await asyncpg.connect(admin)
    await admin_connection.execute(f"CREATE DATABASE {name}")
    await admin_connection.close()
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        database = create_database(url)
        async with database.write() as session, session.begin():
            await bootstrap(session)
        log(f"seeding a pool of {args.assets:,} assets, {args.assets // 2:,} with earn-outs (not timed)")
        await seed(url, args.assets)
        spec = RevenueSpec(amount_fen=REVENUE_FEN, received_on=date(2027, 6, 30), reference="bench-royalties")
        baseline_s = await raw_baseline(url, args.assets)

        started = time.perf_counter()
        booked = await run_in_transaction(
            database.write,
            lambda unit: earn_outs.book_revenue(unit, 1, 1, spec),
            actor_id=1,
            clock=lambda: datetime.now(UTC),
        )
        elapsed_s = time.perf_counter() - started

        async with database.read() as session:
            lines, line_sum_fen = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(PoolLine.amount_fen), 0)).where(
                        PoolLine.revenue_id == booked.id
                    )
                )
            ).one()
            ledger_sum_fen = await ledger.ledger_sum_fen(session)
        await database.dispose()
        earning = args.assets // 2
        assert line_sum_fen == REVENUE_FEN, line_sum_fen
        assert lines == 1 + 3 * earning, lines
        assert ledger_sum_fen == 0, ledger_sum_fen
        verdict = "met" if elapsed_s <= TARGET_S else "missed"
        print()
        print(
            f"scripts/bench pools: one revenue over a pool of {args.assets:,} assets, {earning:,} with earn-outs"
            " into cases of 3 holders (PostgreSQL)"
        )
        print(f"{'workload':<48} {'assets':>8} {'lines':>8} {'s':>7} {'target':>8}  verdict")
        print(
            f"{'revenue spread with earn-outs (service)':<48} {args.assets:>8,} {lines:>8,} {elapsed_s:>7.2f}"
            f" {'≤ ' + str(TARGET_S):>8}  {verdict if not args.quick else verdict + ' (quick size)'}"
        )
        print(
            f"{'baseline: the same rows by asyncpg, rolled back':<48} {args.assets:>8,} {lines:>8,}"
            f" {baseline_s:>7.2f} {'':>8}  ratio {elapsed_s / max(baseline_s, 1e-9):.1f}"
        )
        print(
            f"earn-outs {booked.earn_out_fen / 100:,.2f} yuan to {earning:,} cases; agency {booked.agency_fen / 100:,.2f}"
        )
        return 0
    finally:
        admin_connection = await asyncpg.connect(admin)
        await admin_connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin_connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench pools", description=__doc__.split("\n")[0])
    parser.add_argument("pools", nargs="?")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("IPX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="a pool of 1,000 assets")
    args = parser.parse_args()
    if args.quick:
        args.assets = 1_000
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
