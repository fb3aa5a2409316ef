"""scripts/bench annuities: the scheduler's daily annuity run over a large pledged book.

Workload (PostgreSQL, in-process, as the scheduler runs it):
* P pledged patents (default 1,000,000; --quick 100,000), ten per loan, each with its next fee
  scheduled; F of them (default 2,700; --quick 270) are due today, the rest over the next year;
* G more (default 270; --quick 27) fell due yesterday in loans whose escrow is empty: the timed
  run finds them unpaid past their deadline, so they enter grace today and their creditors get
  the first grace month's alert (a fee enters grace the day after its due date);
* every loan's annuity escrow holds its fees due in the next 90 days, except every tenth loan with
  a fee due today, whose escrow is empty too: those fees stay unpaid (they enter grace tomorrow);
* timed: one `run_annuities` for today (pay from escrow, grace, grace alerts, lapses, then the
  escrow-short alerts), target ≤ 5 s; then a second run, which must find nothing left to pay.
Setup is set-based SQL (generate_series), untimed. The grace months of the seeded fees are 30-day
steps, not the calendar's: the run reads them as data, so their dates do not change its cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_auction import BenchDatabase, BenchError, Config, log, migrate, service_env  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app.context import AppContext  # noqa: E402
from app.db import create_database  # noqa: E402
from app.scheduler import run_annuities  # noqa: E402
from app.settings import load_settings  # noqa: E402
from transfer import ledger  # noqa: E402
from transfer.bootstrap import bootstrap  # noqa: E402
from transfer.kernel.unit_of_work import UnitOfWork  # noqa: E402
from transfer.models import Account  # noqa: E402
from transfer.models.annuities import Alert, Annuity  # noqa: E402
from transfer.registry.participants import create_participant  # noqa: E402
from transfer.rules.fee_waiver import shanghai_trade_date  # noqa: E402

ADMIN_KEY = "ipx_bench_annuities_admin_key_00000"
PATENTS_PER_LOAN = 10
FEE_FEN = 120_000  # a utility model's 1,200.00
TARGET_S = 5.0

# :bank, :today, :loans, :patents, :due_today, :due_yesterday and :now are bound; loan n holds
# patents (n-1)*10+1 .. n*10; patent p <= :due_today is due today, the next :due_yesterday were
# due yesterday, the others fall due over the next 365 days.
SEED_SQL = [
    """INSERT INTO loans (id, creditor_id, originator_id, servicer_id, borrower_name, borrower_credit_code,
         principal_fen, outstanding_principal_fen, rate_bps, originated_on, matures_on, status, created_at)
       SELECT n, CAST(:bank AS bigint), CAST(:bank AS bigint), CAST(:bank AS bigint), 'Borrower ' || n, '914403001922038216', 100000000, 100000000, 385,
              CAST(:today AS date) - 365, CAST(:today AS date) + 730, 'performing', CAST(:now AS timestamptz)
       FROM generate_series(1, :loans) AS n""",
    """INSERT INTO collateral_items (id, loan_id, position, kind, registry_number, title, right_holder,
         appraisal_fen, appraised_on, filed_on, state)
       SELECT p, (p - 1) / 10 + 1, (p - 1) % 10, 'utility_patent', 'ZL2020' || lpad(p::text, 8, '0') || '.1',
              'Patent ' || p, 'Borrower', 1000000, CAST(:today AS date) - 30, CAST(:today AS date) - 1461, 'pledged'
       FROM generate_series(1, :patents) AS p""",
    """INSERT INTO collateral_pledges (kind, registry_key, collateral_id, loan_id, pledged_at)
       SELECT 'utility_patent', 'ZL2020' || lpad(p::text, 8, '0') || '.1', p, (p - 1) / 10 + 1, CAST(:now AS timestamptz)
       FROM generate_series(1, :patents) AS p""",
    """INSERT INTO income_rights (loan_id, holder_id, share_ppm)
       SELECT n, CAST(:bank AS bigint), 1000000 FROM generate_series(1, :loans) AS n""",
    """INSERT INTO annuities (id, loan_id, collateral_id, patent_year, anniversary_on, due_on, full_fee_fen,
         fee_fen, grace_ends_on, restore_by, status, alerted_grace_month, created_at)
       SELECT p, (p - 1) / 10 + 1, p, 5, d, d, 120000, 120000, d + 180, d + 240, 'scheduled', 0, CAST(:now AS timestamptz)
       FROM (SELECT p, CASE WHEN p <= :due_today THEN CAST(:today AS date)
                            WHEN p <= :due_today + :due_yesterday THEN CAST(:today AS date) - 1
                            ELSE CAST(:today AS date) + 1 + (p % 365) END AS d
             FROM generate_series(1, :patents) AS p) AS fees""",
    """INSERT INTO annuity_grace_months (annuity_id, month, ends_on, late_fee_fen)
       SELECT a.id, m, a.due_on + 30 * m, 120000 * LEAST(GREATEST(m - 1, 0) * 500, 2500) / 10000
       FROM annuities a CROSS JOIN generate_series(1, 6) AS m""",
    "SELECT setval(pg_get_serial_sequence('loans', 'id'), :loans)",
    "SELECT setval(pg_get_serial_sequence('collateral_items', 'id'), :patents)",
    "SELECT setval(pg_get_serial_sequence('annuities', 'id'), :patents)",
    # Each loan's escrow holds its fees of the next 90 days; every tenth loan with a fee due today,
    # and every loan with a fee due yesterday, holds nothing. The outside world's account pays for
    # it all, so the books still sum to zero.
    """INSERT INTO accounts (key, participant_id, code, non_negative, balance_fen)
       SELECT 'loan:' || l.id || '\\:annuity_escrow', NULL, 'annuity_escrow', true,
              CASE WHEN l.id % 10 = 0 AND l.id <= (:due_today - 1) / 10 + 1 THEN 0
                   WHEN l.id > (:due_today - 1) / 10 + 1 AND l.id <= (:due_today + :due_yesterday - 1) / 10 + 1 THEN 0
                   ELSE (SELECT coalesce(sum(a.fee_fen), 0) FROM annuities a
                         WHERE a.loan_id = l.id AND a.due_on <= CAST(:today AS date) + 90) END
       FROM loans l""",
    """INSERT INTO annuity_escrows (loan_id, account_id, created_at)
       SELECT l.id, acc.id, CAST(:now AS timestamptz) FROM loans l JOIN accounts acc ON acc.key = 'loan:' || l.id || '\\:annuity_escrow'""",
    """UPDATE accounts SET balance_fen = balance_fen
         - (SELECT sum(balance_fen) FROM accounts WHERE code = 'annuity_escrow')
       WHERE key = 'center:external_settlement'""",
    "ANALYZE",
]


def _context(url: str) -> AppContext:
    settings = load_settings({}, database_url=url, admin_api_key=ADMIN_KEY, scheduler_enabled=False)
    return AppContext(settings=settings, database=create_database(url))


async def seed(ctx: AppContext, patents: int, due_today: int, due_yesterday: int, today: date) -> None:
    async def bank(unit: UnitOfWork) -> int:
        await bootstrap(unit.session)
        made = await create_participant(unit, name="Creditor Bank", roles=["bank"])
        return made.participant.id

    bank_id = await ctx.transact(bank, actor_id=None)
    binds = {
        "bank": bank_id,
        "today": today,
        "loans": patents // PATENTS_PER_LOAN,
        "patents": patents,
        "due_today": due_today,
        "due_yesterday": due_yesterday,
        "now": datetime.now(UTC),
    }
    async with ctx.database.write_engine.begin() as connection:
        for statement in SEED_SQL:
            started = time.perf_counter()
            await connection.execute(text(statement), binds)
            log(f"seed: {' '.join(statement.split()[:3])} … in {time.perf_counter() - started:.1f} s")


async def check_books(ctx: AppContext, due_today: int, due_yesterday: int) -> dict[str, int]:
    async with ctx.database.read() as session:
        paid = int((await session.execute(select(func.count()).where(Annuity.status == "paid"))).scalar_one())
        in_grace = int(
            (await session.execute(select(func.count()).where(Annuity.status == "in_grace"))).scalar_one()
        )
        alerts = int((await session.execute(select(func.count()).select_from(Alert))).scalar_one())
        total = int((await session.execute(select(func.sum(Account.balance_fen)))).scalar_one())
        payee = int(
            (
                await session.execute(
                    select(Account.balance_fen).where(
                        Account.key == ledger.center_account_key(ledger.PATENT_OFFICE)
                    )
                )
            ).scalar_one()
        )
    unfunded = sum(1 for p in range(1, due_today + 1) if ((p - 1) // PATENTS_PER_LOAN + 1) % 10 == 0)
    if paid != due_today - unfunded or payee != paid * FEE_FEN or total != 0 or in_grace != due_yesterday:
        raise BenchError(
            f"books wrong: paid {paid}, payee {payee} fen, ledger sum {total}, {in_grace} in grace"
        )
    return {"paid": paid, "in_grace": in_grace, "alerts": alerts}


async def bench_annuities(args: argparse.Namespace) -> int:
    patents = args.patents or (100_000 if args.quick else 1_000_000)
    due_today = args.due or (270 if args.quick else 2_700)
    due_yesterday = args.grace or due_today // 10
    # Fees due today and yesterday must not share a loan (ten patents a loan).
    assert due_today % PATENTS_PER_LOAN == 0, "--due must be a multiple of ten"
    config = Config(backend="postgresql", quick=args.quick, pg_admin_url=args.pg_url)
    database = BenchDatabase(config)
    url = await database.create()
    ctx: AppContext | None = None
    try:
        migrate(url, service_env(url, 8000, ADMIN_KEY))
        ctx = _context(url)
        today = shanghai_trade_date(datetime.now(UTC))
        await seed(ctx, patents, due_today, due_yesterday, today)
        log(f"seeded {patents} pledged patents, {due_today} fees due {today}, {due_yesterday} the day before")
        started = time.perf_counter()
        first = await run_annuities(ctx)
        run_s = time.perf_counter() - started
        started = time.perf_counter()
        second = await run_annuities(ctx)
        rerun_s = time.perf_counter() - started
        if second.paid:
            raise BenchError(f"the second run paid {second.paid} fees again")
        if first.entered_grace != due_yesterday:
            raise BenchError(
                f"{first.entered_grace} fees entered grace, not the {due_yesterday} due yesterday"
            )
        books = await check_books(ctx, due_today, due_yesterday)
    finally:
        if ctx is not None:
            await ctx.database.dispose()
        await database.drop()
    print()
    print(
        f"scripts/bench annuities: {patents} pledged patents, {due_today} fees due today,"
        f" {due_yesterday} due yesterday and unfunded (PostgreSQL)"
    )
    print(
        f"  daily run: {run_s:.2f} s — paid {first.paid} from escrow, {first.entered_grace} into grace,"
        f" {first.alerts} alerts; target ≤ {TARGET_S:.0f} s: {'met' if run_s <= TARGET_S else 'MISSED'}"
    )
    print(f"  the same day's run again: {rerun_s:.2f} s, paid {second.paid}")
    print(
        json.dumps(
            {
                "patents": patents,
                "due_today": due_today,
                "due_yesterday": due_yesterday,
                "run_s": run_s,
                "rerun_s": rerun_s,
                **books,
            }
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench annuities")
    parser.add_argument("command", choices=["annuities"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--patents", type=int, default=0)
    parser.add_argument("--due", type=int, default=0)
    parser.add_argument("--grace", type=int, default=0, help="fees due yesterday, unfunded: they enter grace")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(bench_annuities(args))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
