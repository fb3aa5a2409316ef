"""A repayment to many holders: one ledger transfer per holder, balances exact to the fen.

The split runs in the database (transfer.servicing.distribution_sql); these tests hold it equal to the pure
reference rule (transfer.rules.distribution) on both databases, for a register of hundreds of holders
and for random registers with amounts up to the 10^15 fen maximum.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select

from app.db import Database
from app.settings import Settings
from tests.service.support import ledger_sum, run
from transfer import ledger
from transfer.clearing import reports
from transfer.kernel.money import MAX_AMOUNT_FEN
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account, LedgerTransfer, Participant
from transfer.models.loans import IncomeRight, Loan
from transfer.models.servicing import Repayment, RepaymentShare
from transfer.rules.distribution import HolderShare, distribute_repayment
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.servicing.repayments import RepaymentRecorded, record_repayment

# Hundreds of holders: the split's leftover fen spread over many tied remainders.
HOLDERS = 250
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
    await _participants(database, [SERVICER_ID, *holder_ids])
    await _loan(database, LOAN_ID, dict(zip(holder_ids, SHARES_PPM, strict=True)))
    return holder_ids


async def _participants(database: Database, participant_ids: list[int]) -> None:
    async with database.write_engine.begin() as connection:
        await connection.execute(
            insert(Participant),
            [
                {
                    "id": pid,
                    "name": f"Institution {pid}",
                    "roles": "bank",
                    "qualified_investor": True,
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


async def _loan(database: Database, loan_id: int, shares_ppm: dict[int, int], *, rate_bps: int = 385) -> None:
    """A loan serviced by SERVICER_ID whose income right is split as `shares_ppm` (holder → ppm)."""
    async with database.write_engine.begin() as connection:
        await connection.execute(
            insert(Loan).values(
                id=loan_id,
                creditor_id=SERVICER_ID,
                originator_id=SERVICER_ID,
                servicer_id=SERVICER_ID,
                borrower_name="Widely held borrower",
                borrower_credit_code="914403001922038216",
                principal_fen=MAX_AMOUNT_FEN,
                outstanding_principal_fen=MAX_AMOUNT_FEN,
                rate_bps=rate_bps,
                originated_on=date(2025, 1, 10),
                matures_on=date(2028, 1, 10),
                status="performing",
                created_at=AT,
            )
        )
        await connection.execute(
            insert(IncomeRight),
            [
                {"loan_id": loan_id, "holder_id": holder, "share_ppm": share}
                for holder, share in shares_ppm.items()
            ],
        )


async def _repay(
    database: Database, loan_id: int, principal_fen: int, interest_fen: int, *, lines_limit: int = 1_000
) -> RepaymentRecorded:
    """The servicer records one repayment of the loan, received on 2026-06-01, paid out of the funds
    clearing booked for it just before (a repayment never creates money)."""
    await run(
        database,
        lambda unit: ledger.record_funds(
            unit, SERVICER_ID, principal_fen + interest_fen, f"repayment-{loan_id}-{uuid.uuid4().hex}"
        ),
    )

    async def work(unit: UnitOfWork) -> RepaymentRecorded:
        return await record_repayment(
            unit,
            loan_id,
            SERVICER_ID,
            principal_fen=principal_fen,
            interest_fen=interest_fen,
            received_on=date(2026, 6, 1),
            interest_tolerance_bps=Settings().repayment_interest_tolerance_bps,
            lines_limit=lines_limit,
        )

    return await run(database, work)


async def test_each_holder_is_credited_its_share_to_the_fen(database: Database) -> None:
    holder_ids = await _loan_with_holders(database)

    await _repay(database, LOAN_ID, PRINCIPAL_FEN, INTEREST_FEN)

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


def _random_register(randomness: random.Random, holder_pool: list[int]) -> dict[int, int]:
    """Random holders with positive shares summing to the whole; sometimes all equal, so that many
    remainders tie and the tie-break (lower holder id first) decides the odd fen."""
    holders = sorted(randomness.sample(holder_pool, randomness.randint(1, len(holder_pool))))
    if randomness.random() < 0.3:
        share, rest = divmod(WHOLE_SHARE_PPM, len(holders))
        return {h: share + (1 if i < rest else 0) for i, h in enumerate(holders)}
    cuts = sorted(randomness.sample(range(1, WHOLE_SHARE_PPM), len(holders) - 1))
    bounds = [0, *cuts, WHOLE_SHARE_PPM]
    return {h: bounds[i + 1] - bounds[i] for i, h in enumerate(holders)}


def _random_amount_fen(randomness: random.Random) -> int:
    return randomness.choice(
        [
            0,
            randomness.randint(1, 99),
            randomness.randint(100, 10**9),
            # Near the maximum: amount × share_ppm does not fit in 64 bits, the split must still be exact.
            randomness.randint(MAX_AMOUNT_FEN // 3, MAX_AMOUNT_FEN // 3 + 10**6),
        ]
    )


CASES = 30


async def test_the_database_split_equals_the_reference_rule_for_random_registers(database: Database) -> None:
    randomness = random.Random(20261129)
    holder_pool = list(range(SERVICER_ID + 1, SERVICER_ID + 41))
    await _participants(database, [SERVICER_ID, *holder_pool])
    expected_balance_fen = dict.fromkeys(holder_pool, 0)
    for case in range(CASES):
        loan_id = 100 + case
        register = _random_register(randomness, holder_pool)
        # 100 % a year: interest near the 10^15 maximum is within what such a loan accrues.
        await _loan(database, loan_id, register, rate_bps=10_000)
        principal_fen = _random_amount_fen(randomness)
        interest_fen = _random_amount_fen(randomness) or 1

        repayment_id = (await _repay(database, loan_id, principal_fen, interest_fen)).repayment.id
        expected = distribute_repayment(
            principal_fen, interest_fen, [HolderShare(h, ppm) for h, ppm in sorted(register.items())]
        )
        async with database.read() as session:
            stored = (
                await session.execute(
                    select(
                        RepaymentShare.holder_id,
                        RepaymentShare.share_ppm,
                        RepaymentShare.principal_fen,
                        RepaymentShare.interest_fen,
                    )
                    .where(RepaymentShare.repayment_id == repayment_id)
                    .order_by(RepaymentShare.holder_id)
                )
            ).all()
            holder_count = (await session.get(Repayment, repayment_id)).holder_count  # type: ignore[union-attr]
        assert [tuple(row) for row in stored] == [
            (line.holder_id, line.share_ppm, line.principal_fen, line.interest_fen) for line in expected
        ], f"case {case}: {len(register)} holders, principal {principal_fen}, interest {interest_fen}"
        assert holder_count == len(register)
        for line in expected:
            expected_balance_fen[line.holder_id] += line.amount_fen

    async with database.read() as session:
        balances = {
            pid: balance
            for pid, balance in await session.execute(
                select(Account.participant_id, Account.balance_fen).where(
                    Account.code == ledger.AVAILABLE, Account.participant_id.in_(holder_pool)
                )
            )
        }
    assert balances == expected_balance_fen
    assert await ledger_sum(database) == 0


async def test_a_repayment_lists_the_first_holders_and_counts_them_all(database: Database) -> None:
    holder_ids = await _loan_with_holders(database)

    recorded = await _repay(database, LOAN_ID, PRINCIPAL_FEN, INTEREST_FEN, lines_limit=3)
    assert recorded.holder_count == HOLDERS
    assert [line.holder_id for line in recorded.first_lines] == holder_ids[:3]
    # Holder 2 has 5,000 ppm. Principal 100,000,001 fen: floor 500,000; the one leftover fen goes to
    # the largest remainder, a tie among all 125 holders of 5,000 ppm that the lowest id wins.
    # Interest 1,234,567 fen: floor 6,172 (remainder .835); the floors leave 192 fen, so all 125
    # holders of 5,000 ppm (.835) get one before any holder of 3,000 ppm (.701).
    assert (recorded.first_lines[0].principal_fen, recorded.first_lines[0].interest_fen) == (500_001, 6_173)
