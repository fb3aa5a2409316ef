"""A repayment to many holders: one ledger transfer per holder, balances exact to the fen.

Enough holders that PostgreSQL takes the bulk paths (COPY of the ledger rows and shares, one locked
UPDATE of all balances); SQLite takes the executemany paths. Both must leave the same books.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select

from app.db import Database
from tests.service.support import ledger_sum, run
from transfer import ledger, reports
from transfer.bulk import COPY_THRESHOLD_ROWS
from transfer.models import Account, LedgerTransfer, Participant
from transfer.models.loans import IncomeRight, Loan
from transfer.models.servicing import RepaymentShare
from transfer.rules.distribution import HolderShare, distribute_repayment
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.servicing import record_repayment
from transfer.unit_of_work import UnitOfWork

HOLDERS = COPY_THRESHOLD_ROWS + 50
SERVICER_ID = 1
LOAN_ID = 1
PRINCIPAL_FEN = 1_000_000_01
INTEREST_FEN = 12_345_67
AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
# Unequal shares (3,000 and 5,000 ppm in turn), so the odd fen of each split has to be placed.
SHARES_PPM = [3_000 if i % 2 else 5_000 for i in range(HOLDERS)]
assert sum(SHARES_PPM) == WHOLE_SHARE_PPM


async def _loan_with_holders(database: Database) -> list[int]:
    """A loan whose income right is split among HOLDERS participants in unequal shares."""
    holder_ids = list(range(SERVICER_ID + 1, SERVICER_ID + 1 + HOLDERS))
    participant_ids = [SERVICER_ID, *holder_ids]
    async with database.write_engine.begin() as connection:
        await connection.execute(
            insert(Participant),
            [
                {
                    "id": pid,
                    "name": f"Institution {pid}",
                    "roles": "bank",
                    "qualified_investor": True,
                    "api_key_sha256": f"{pid:064d}",
                    "api_key_prefix": "test",
                    "active": True,
                    "created_at": AT,
                }
                for pid in participant_ids
            ],
        )
        await connection.execute(
            insert(Account),
            [
                {
                    "key": ledger.participant_account_key(pid, code),
                    "participant_id": pid,
                    "code": code,
                    "non_negative": True,
                    "balance_fen": 0,
                }
                for pid in participant_ids
                for code in ledger.PARTICIPANT_ACCOUNT_CODES
            ],
        )
        await connection.execute(
            insert(Loan).values(
                id=LOAN_ID,
                creditor_id=SERVICER_ID,
                originator_id=SERVICER_ID,
                servicer_id=SERVICER_ID,
                borrower_name="Widely held borrower",
                borrower_credit_code="914403001922038216",
                principal_fen=10_000_000_00,
                outstanding_principal_fen=10_000_000_00,
                rate_bps=385,
                originated_on=date(2025, 1, 10),
                matures_on=date(2028, 1, 10),
                status="performing",
                created_at=AT,
            )
        )
        await connection.execute(
            insert(IncomeRight),
            [
                {"loan_id": LOAN_ID, "holder_id": holder, "share_ppm": share}
                for holder, share in zip(holder_ids, SHARES_PPM, strict=True)
            ],
        )
    return holder_ids


async def test_each_holder_is_credited_its_share_to_the_fen(database: Database) -> None:
    holder_ids = await _loan_with_holders(database)

    async def repay(unit: UnitOfWork) -> None:
        await record_repayment(
            unit,
            LOAN_ID,
            SERVICER_ID,
            principal_fen=PRINCIPAL_FEN,
            interest_fen=INTEREST_FEN,
            received_on=date(2026, 6, 1),
        )

    await run(database, repay)

    async with database.read() as session:
        shares = {
            holder: (principal, interest)
            for holder, principal, interest in await session.execute(
                select(RepaymentShare.holder_id, RepaymentShare.principal_fen, RepaymentShare.interest_fen)
            )
        }
        balances = {
            pid: balance
            for pid, balance in await session.execute(
                select(Account.participant_id, Account.balance_fen).where(Account.code == ledger.AVAILABLE)
            )
        }
        credits = {
            account: amount
            for account, amount in await session.execute(
                select(LedgerTransfer.credit_account_id, LedgerTransfer.amount_fen).where(
                    LedgerTransfer.code == "repayment"
                )
            )
        }
        transfer_count = (
            await session.execute(
                select(func.count()).select_from(LedgerTransfer).where(LedgerTransfer.code == "repayment")
            )
        ).scalar_one()
        report = await reports.reconcile(
            session, date(2026, 6, 1), waiver_start=date(2025, 3, 1), waiver_years=3
        )

    expected = distribute_repayment(
        PRINCIPAL_FEN,
        INTEREST_FEN,
        [HolderShare(h, ppm) for h, ppm in zip(holder_ids, SHARES_PPM, strict=True)],
    )
    assert shares == {line.holder_id: (line.principal_fen, line.interest_fen) for line in expected}
    assert {h: balances[h] for h in holder_ids} == {line.holder_id: line.amount_fen for line in expected}
    assert transfer_count == HOLDERS
    assert sorted(credits.values()) == sorted(line.amount_fen for line in expected)
    assert await ledger_sum(database) == 0
    assert report.breaks == []
