"""The scheduler's daily annuity run, set-based: no patent row passes through Python.

For one batch of loans (by id range) and one day, in one transaction:
1. pay, from each loan's escrow, its fees due by today (in grace too, with today's late fee),
   oldest first, as far as the escrow goes: one UPDATE marks them paid under a run id, one
   INSERT … SELECT writes their ledger transfers (escrow -> the patent office's payee account), one
   UPDATE … FROM debits the escrows and one UPDATE credits the payee;
2. a fee past its deadline and unpaid enters grace;
3. the creditor is alerted once per grace month of each fee (the first month included);
4. a fee unpaid after its grace months lapses: the patent is marked lapsed (few rows: each is
   recorded in the audit log with the loan's recomputed IP share).
The escrow accounts and the payee are locked first, in id order (PostgreSQL; SQLite has a single
writer), so a creditor's own payment of the same fee, or another node's run, is never paid twice:
the paying UPDATE re-checks each fee's status after any wait, and a fee paid by someone else is
skipped. A run is idempotent: run it every hour, on every node.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import String, Table, and_, func, insert, literal, null, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.annuities import alerts
from transfer.annuities.lapse import LapsedFee, lapse_overdue
from transfer.annuities.schedules import IN_GRACE, PAID, SCHEDULED, UNPAID
from transfer.annuities.sql import grace_month_on, late_fee_on, patent_backs_loan
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.ledger.posting import TRANSFER_COLUMNS
from transfer.models import Account, LedgerTransfer
from transfer.models.annuities import Annuity, AnnuityEscrow
from transfer.models.loans import Loan

# Loans per transaction: a day's fees of this many loans are paid in one run of the statements.
RUN_BATCH_LOANS = 10_000
FEE_CODE = "annuity_fee"
ESCROW = "escrow"


@dataclass
class RunResult:
    paid: int = 0
    paid_fen: int = 0
    entered_grace: int = 0
    alerts: int = 0
    lapsed: list[LapsedFee] = field(default_factory=list)

    def add(self, other: RunResult) -> None:
        self.paid += other.paid
        self.paid_fen += other.paid_fen
        self.entered_grace += other.entered_grace
        self.alerts += other.alerts
        self.lapsed.extend(other.lapsed)


def due_unpaid(today: date) -> object:
    return and_(Annuity.status.in_(UNPAID), Annuity.due_on <= today)


async def next_loan_bound(
    session: AsyncSession, today: date, after_loan_id: int, batch_loans: int
) -> int | None:
    """The last loan id of the next batch of loans with a fee due and unpaid by today, or None."""
    loan_ids = (
        select(Annuity.loan_id)
        .where(due_unpaid(today), Annuity.loan_id > after_loan_id)  # type: ignore[arg-type]
        .group_by(Annuity.loan_id)
        .order_by(Annuity.loan_id)
        .limit(batch_loans)
        .subquery()
    )
    bound = (await session.execute(select(func.max(loan_ids.c.loan_id)))).scalar_one_or_none()
    return None if bound is None else int(bound)


async def run_batch(unit: UnitOfWork, today: date, after_loan_id: int, bound_loan_id: int) -> RunResult:
    """Steps 1-4 for the loans in (after_loan_id, bound_loan_id]."""
    in_batch = and_(Annuity.loan_id > after_loan_id, Annuity.loan_id <= bound_loan_id)
    result = RunResult()
    result.paid, result.paid_fen = await pay_from_escrow(unit, today, in_batch)
    entered = await unit.session.execute(
        update(Annuity)
        .where(in_batch, Annuity.status == SCHEDULED, Annuity.due_on < today, patent_backs_loan())
        .values(status=IN_GRACE)
    )
    result.entered_grace = int(entered.rowcount)  # type: ignore[attr-defined]
    result.alerts = await alert_grace_months(unit, today, in_batch)
    result.lapsed = await lapse_overdue(unit, today, in_batch)
    return result


async def lock_accounts(unit: UnitOfWork, escrow_ids: object, payee_id: int) -> None:
    """The escrows about to pay and the payee, in account-id order: the order every transaction
    keeps (transfer.ledger), so no deadlock; and a racing payer waits here, not halfway."""
    if (await unit.session.connection()).dialect.name != "postgresql":
        return
    await unit.session.execute(
        select(Account.id)
        .where(or_(Account.id.in_(escrow_ids), Account.id == payee_id))  # type: ignore[arg-type]
        .order_by(Account.id)
        .with_for_update()
    )


async def pay_from_escrow(unit: UnitOfWork, today: date, in_batch: object) -> tuple[int, int]:
    """Step 1. Returns (fees paid, fen paid)."""
    assert not any(unit.balance_deltas_fen.values()), "the run moves balances itself"
    session = unit.session
    payee_id = await ledger.account_id(session, ledger.center_account_key(ledger.PATENT_OFFICE))
    due = and_(in_batch, due_unpaid(today), Annuity.grace_ends_on >= today)  # type: ignore[arg-type]
    await lock_accounts(
        unit,
        select(AnnuityEscrow.account_id).where(AnnuityEscrow.loan_id.in_(select(Annuity.loan_id).where(due))),
        payee_id,
    )
    amount = Annuity.fee_fen + late_fee_on(today)
    payable = (
        select(
            Annuity.id.label("id"),
            Account.balance_fen.label("balance_fen"),
            func.sum(amount)
            .over(partition_by=Annuity.loan_id, order_by=(Annuity.due_on, Annuity.id))
            .label("running_fen"),
        )
        .join(AnnuityEscrow, AnnuityEscrow.loan_id == Annuity.loan_id)
        .join(Account, Account.id == AnnuityEscrow.account_id)
        .where(due, patent_backs_loan())
        .subquery("payable")
    )
    run_id = uuid.uuid4().hex
    marked = await session.execute(
        update(Annuity)
        .where(
            Annuity.id.in_(select(payable.c.id).where(payable.c.running_fen <= payable.c.balance_fen)),
            # Re-checked after any wait for the row: a fee someone else just paid is skipped.
            Annuity.status.in_(UNPAID),
        )
        .values(
            status=PAID,
            late_fee_fen=late_fee_on(today),
            paid_on=today,
            paid_at=unit.now,
            paid_from=ESCROW,
            run_id=run_id,
            receipt=literal("annuity:", String())
            + sql_cast(Annuity.id, String())
            + literal(":paid", String()),
        )
    )
    if int(marked.rowcount) == 0:  # type: ignore[attr-defined]
        return 0, 0
    await post_run_transfers(unit, run_id, payee_id)
    return await debit_escrows(unit, run_id, payee_id)


async def post_run_transfers(unit: UnitOfWork, run_id: str, payee_id: int) -> None:
    """One ledger transfer per fee paid by the run, its id the fee's receipt."""
    await unit.session.execute(
        insert(cast(Table, LedgerTransfer.__table__)).from_select(
            TRANSFER_COLUMNS,
            select(
                Annuity.receipt,
                literal(ledger.POSTED),
                AnnuityEscrow.account_id,
                literal(payee_id),
                Annuity.fee_fen + Annuity.late_fee_fen,
                null(),
                null(),
                literal(FEE_CODE),
                literal("loan:", String()) + sql_cast(Annuity.loan_id, String()),
                literal(unit.now, UTCDateTime()),
            )
            .join(AnnuityEscrow, AnnuityEscrow.loan_id == Annuity.loan_id)
            .where(Annuity.run_id == run_id),
        )
    )


async def debit_escrows(unit: UnitOfWork, run_id: str, payee_id: int) -> tuple[int, int]:
    """Each escrow pays its fees' sum, the payee receives the total: balances move once each."""
    session = unit.session
    accounts = cast(Table, Account.__table__)
    per_escrow = (
        select(
            AnnuityEscrow.account_id.label("account_id"),
            func.sum(Annuity.fee_fen + Annuity.late_fee_fen).label("total_fen"),
            func.count().label("fees"),
        )
        .join(AnnuityEscrow, AnnuityEscrow.loan_id == Annuity.loan_id)
        .where(Annuity.run_id == run_id)
        .group_by(AnnuityEscrow.account_id)
        .subquery("per_escrow")
    )
    escrows, fees, total_fen = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(per_escrow.c.fees), 0),
                func.coalesce(func.sum(per_escrow.c.total_fen), 0),
            )
        )
    ).one()
    debited = await session.execute(
        update(accounts)
        .where(accounts.c.id == per_escrow.c.account_id, accounts.c.balance_fen >= per_escrow.c.total_fen)
        .values(balance_fen=accounts.c.balance_fen - per_escrow.c.total_fen)
    )
    # The fees were chosen within each escrow's balance read under its lock.
    assert debited.rowcount == escrows, "an escrow paid more than it held"  # type: ignore[attr-defined]
    await session.execute(
        update(accounts)
        .where(accounts.c.id == payee_id)
        .values(balance_fen=accounts.c.balance_fen + total_fen)
    )
    unit.record(
        "annuity.run_paid", "annuities", {"run_id": run_id, "fees": int(fees), "amount_fen": int(total_fen)}
    )
    return int(fees), int(total_fen)


async def alert_grace_months(unit: UnitOfWork, today: date, in_batch: object) -> int:
    """Step 3: an alert to the creditor for each fee in grace whose grace month has moved on since
    its last alert (its first month included), with the late fee it would now carry."""
    month = grace_month_on(today)
    in_grace = and_(
        in_batch,  # type: ignore[arg-type]
        Annuity.status == IN_GRACE,
        month > Annuity.alerted_grace_month,
    )
    raised = await alerts.raise_alerts(
        unit,
        select(
            Loan.creditor_id,
            literal(alerts.ANNUITY_IN_GRACE),
            Annuity.loan_id,
            Annuity.id,
            late_fee_on(today),
            Annuity.due_on,
            literal("grace:", String())
            + sql_cast(Annuity.id, String())
            + literal(":", String())
            + sql_cast(month, String()),
            literal(unit.now, UTCDateTime()),
        )
        .join(Loan, Loan.id == Annuity.loan_id)
        .where(in_grace),
    )
    await unit.session.execute(update(Annuity).where(in_grace).values(alerted_grace_month=month))
    return raised
