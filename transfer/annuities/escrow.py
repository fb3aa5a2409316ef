"""A loan's annuity escrow: its own ledger account, which clearing funds with the enterprise's
prepayment received (a bank reference booked once) or the creditor funds from its own money."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.errors import Conflict, NotFound
from transfer.kernel.unit_of_work import RetryTransaction, UnitOfWork
from transfer.models import Account, LedgerTransfer
from transfer.models.annuities import AnnuityEscrow
from transfer.models.loans import CollateralPledge, Loan
from transfer.registry.loans import REPAID

ESCROW_CODE = "annuity_escrow"
RECEIVED = "received"  # clearing records the enterprise's prepayment from outside
CREDITOR_FUNDS = "creditor_funds"  # the creditor moves its own available funds in


@dataclass(frozen=True, slots=True)
class EscrowDeposit:
    loan_id: int
    transfer_id: str
    source: str
    amount_fen: int
    balance_fen: int


async def has_live_pledge(session: AsyncSession, loan_id: int) -> bool:
    """Whether any right still backs the loan: while one does, its escrow pays fees, not back."""
    found = await session.execute(
        select(CollateralPledge.loan_id).where(CollateralPledge.loan_id == loan_id).limit(1)
    )
    return found.first() is not None


def escrow_account_key(loan_id: int) -> str:
    return f"loan:{loan_id}:{ESCROW_CODE}"


async def escrow_account(unit: UnitOfWork, loan_id: int) -> int:
    """The loan's escrow account, opened on first use (never negative: fees are paid only from
    what it holds)."""
    found = await unit.session.get(AnnuityEscrow, loan_id)
    if found is not None:
        return found.account_id
    account = Account(
        key=escrow_account_key(loan_id),
        participant_id=None,
        code=ESCROW_CODE,
        non_negative=True,
        balance_fen=0,
    )
    unit.session.add(account)
    try:
        await unit.session.flush()
    except IntegrityError as error:
        # A twin opened it first and committed (PostgreSQL): run again and find it.
        if not ledger.is_unique_violation(error):
            raise
        raise RetryTransaction(f"escrow of loan {loan_id} opened concurrently") from error
    unit.session.add(AnnuityEscrow(loan_id=loan_id, account_id=account.id, created_at=unit.now))
    await unit.session.flush()
    return account.id


async def escrow_balance_fen(unit: UnitOfWork, loan_id: int) -> int:
    await ledger.apply_balance_deltas(unit)
    balance = (
        await unit.session.execute(
            select(Account.balance_fen)
            .join(AnnuityEscrow, AnnuityEscrow.account_id == Account.id)
            .where(AnnuityEscrow.loan_id == loan_id)
        )
    ).scalar_one_or_none()
    return int(balance or 0)


async def deposit(
    unit: UnitOfWork, loan_id: int, actor_id: int, *, is_clearing: bool, amount_fen: int, reference: str
) -> EscrowDeposit:
    """Clearing records money received for the loan's escrow; the loan's creditor pays in from its
    funds. Anyone else gets the 404 of a loan that does not exist. A reference is booked once."""
    loan = await unit.session.get(Loan, loan_id)
    if loan is None or not (is_clearing or loan.creditor_id == actor_id):
        raise NotFound("loan_not_found", f"loan {loan_id} does not exist", field="loan_id")
    if loan.status == REPAID:
        raise Conflict(
            "loan_repaid", f"loan {loan_id} is repaid: its patents are no longer pledged", field="loan_id"
        )
    if not await has_live_pledge(unit.session, loan_id):
        raise Conflict(
            "escrow_closed",
            f"loan {loan_id} has no pledged right left: its escrow only pays back what it holds",
            field="loan_id",
        )
    source = RECEIVED if is_clearing else CREDITOR_FUNDS
    transfer_id = f"annuity_escrow:{loan_id}:{source}:{reference}"
    booked = Conflict(
        "reference_already_booked",
        f"reference {reference!r} is already booked to this escrow",
        field="reference",
    )
    if await unit.session.get(LedgerTransfer, transfer_id) is not None:
        raise booked
    if is_clearing:
        debit = await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL))
    else:
        debit = await ledger.participant_account_id(unit.session, actor_id, ledger.AVAILABLE)
    credit = await escrow_account(unit, loan_id)
    await ledger.post_transfer(
        unit,
        transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount_fen=amount_fen,
        code="annuity_escrow",
        reference=reference,
        # A twin that passed the check above while the first was uncommitted is refused here.
        booked_once=booked,
    )
    balance_fen = await escrow_balance_fen(unit, loan_id)
    unit.record(
        "annuity.escrow_funded",
        f"loan:{loan_id}",
        {"transfer_id": transfer_id, "source": source, "amount_fen": amount_fen, "balance_fen": balance_fen},
    )
    return EscrowDeposit(loan_id, transfer_id, source, amount_fen, balance_fen)
