"""Servicing: a repayment received by the servicer is distributed to the income-right holders.

Each holder gets its share of principal and of interest by the largest-remainder method, to the fen,
so the parts add up exactly; the money moves from the external settlement account (the borrower paid
the servicer's bank) to each holder's available funds in one set-based ledger write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, and_, cast, literal, select

from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.loans import Loan
from transfer.models.servicing import Repayment, RepaymentShare
from transfer.registry.collateral import release_pledges
from transfer.registry.loans import REPAID
from transfer.registry.ownership import lock_loan
from transfer.rules.distribution import DistributionLine
from transfer.servicing.distribution_sql import first_lines, write_repayment_shares


@dataclass(frozen=True, slots=True)
class RepaymentRecorded:
    repayment: Repayment
    holder_count: int
    # The first holders' lines by holder id, at most `lines_limit` of them; repayment_shares has all.
    first_lines: list[DistributionLine]


async def record_repayment(
    unit: UnitOfWork,
    loan_id: int,
    servicer_id: int,
    *,
    principal_fen: int,
    interest_fen: int,
    received_on: date,
    lines_limit: int = 1_000,
) -> RepaymentRecorded:
    loan = await lock_loan(unit, loan_id)
    _check_repayment(loan, servicer_id, principal_fen, interest_fen)
    repayment = Repayment(
        loan_id=loan_id,
        servicer_id=servicer_id,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        received_on=received_on,
        holder_count=0,
        created_at=unit.now,
    )
    unit.session.add(repayment)
    await unit.session.flush()
    # The split happens in the database (distribution_sql): with 100,000 holders no row passes
    # through Python, and the loan row lock above keeps the register still while it is read.
    written = await write_repayment_shares(
        unit.session,
        loan_id=loan_id,
        repayment_id=repayment.id,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
    )
    repayment.holder_count = written.holder_count
    await _pay_holders(unit, loan_id, repayment.id, principal_fen + interest_fen)
    loan.outstanding_principal_fen -= principal_fen
    released = await _release_pledges_when_repaid(unit, loan) if loan.outstanding_principal_fen == 0 else []
    unit.record(
        "loan.repayment_distributed",
        f"loan:{loan_id}",
        {
            "repayment_id": repayment.id,
            "principal_fen": principal_fen,
            "interest_fen": interest_fen,
            "received_on": received_on.isoformat(),
            "holders": written.holder_count,
            "outstanding_principal_fen": loan.outstanding_principal_fen,
        },
    )
    if released:
        unit.record(
            "loan.repaid",
            f"loan:{loan_id}",
            {"pledges_released": [{"kind": kind, "registry_key": key} for kind, key in released]},
        )
    return RepaymentRecorded(
        repayment, written.holder_count, await first_lines(unit.session, repayment.id, lines_limit)
    )


def _check_repayment(loan: Loan, servicer_id: int, principal_fen: int, interest_fen: int) -> None:
    if loan.servicer_id != servicer_id:
        raise Forbidden("not_servicer", "only the loan's servicer records its repayments")
    if principal_fen < 0 or interest_fen < 0 or principal_fen + interest_fen == 0:
        raise DomainError(
            "empty_repayment", "a repayment needs principal or interest greater than zero", field="principal"
        )
    if principal_fen > loan.outstanding_principal_fen:
        raise Conflict(
            "repayment_exceeds_outstanding",
            f"principal exceeds the outstanding principal of {loan.outstanding_principal_fen} fen",
            field="principal",
        )


async def _pay_holders(unit: UnitOfWork, loan_id: int, repayment_id: int, total_fen: int) -> None:
    """Each holder's share of the repayment, from outside the books to its available account: one
    transfer per holder, fanned out in SQL from the shares just written."""
    shares = RepaymentShare.__table__.c
    await ledger.post_fan_out(
        unit,
        debit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL)),
        credits=select(
            literal("repayment:")
            + cast(shares.repayment_id, String)
            + literal(":")
            + cast(shares.holder_id, String),
            Account.id,
            shares.principal_fen + shares.interest_fen,
        )
        .join_from(
            RepaymentShare.__table__,
            Account,
            and_(Account.participant_id == shares.holder_id, Account.code == ledger.AVAILABLE),
        )
        .where(shares.repayment_id == repayment_id, shares.principal_fen + shares.interest_fen > 0),
        total_fen=total_fen,
        code="repayment",
        reference=f"loan:{loan_id}",
    )


async def _release_pledges_when_repaid(unit: UnitOfWork, loan: Loan) -> list[tuple[str, str]]:
    """The last principal is in: the loan is repaid (结清) and its collateral is free again.

    The live-pledge rows go (the collateral items stay, as the loan's history), so the same right
    can back a new loan; the register and any later interest-only repayment are unaffected.
    """
    loan.status = REPAID
    return await release_pledges(unit, loan.id)
