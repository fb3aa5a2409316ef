"""Servicing: a repayment received by the servicer is distributed to the income-right holders.

Each holder gets its share of principal and of interest by the largest-remainder method, to the fen,
so the parts add up exactly; the money moves from the external settlement account (the borrower paid
the servicer's bank) to each holder's available funds in one bulk ledger write.
"""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import Table, and_, select

from transfer import ledger
from transfer.bulk import insert_records
from transfer.errors import Conflict, DomainError, Forbidden
from transfer.models import Account
from transfer.models.loans import IncomeRight
from transfer.models.servicing import Repayment, RepaymentShare
from transfer.ownership import lock_loan
from transfer.rules.distribution import DistributionLine, HolderShare, distribute_repayment
from transfer.unit_of_work import UnitOfWork

SHARE_COLUMNS = ("repayment_id", "holder_id", "share_ppm", "principal_fen", "interest_fen")


async def record_repayment(
    unit: UnitOfWork,
    loan_id: int,
    servicer_id: int,
    *,
    principal_fen: int,
    interest_fen: int,
    received_on: date,
) -> tuple[Repayment, list[DistributionLine]]:
    loan = await lock_loan(unit, loan_id)
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
    # Holders with their available accounts in one join: no id list is sent to the database, so
    # a loan with 100,000 holders stays one statement (drivers cap bind parameters at ~32,767).
    # A Core statement on the transaction's connection: plain tuples, no ORM row processing.
    holders = (
        await (await unit.session.connection()).execute(
            select(IncomeRight.holder_id, IncomeRight.share_ppm, Account.id)
            .join(
                Account,
                and_(Account.participant_id == IncomeRight.holder_id, Account.code == ledger.AVAILABLE),
            )
            .where(IncomeRight.loan_id == loan_id, IncomeRight.share_ppm > 0)
            .order_by(IncomeRight.holder_id)
        )
    ).all()
    lines = distribute_repayment(principal_fen, interest_fen, [HolderShare(h, ppm) for h, ppm, _ in holders])
    repayment = Repayment(
        loan_id=loan_id,
        servicer_id=servicer_id,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        received_on=received_on,
        holder_count=len(lines),
        created_at=unit.now,
    )
    unit.session.add(repayment)
    await unit.session.flush()
    external = await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL))
    # distribute_repayment keeps the holders' order, so line i is holder i's.
    await ledger.post_fan_out(
        unit,
        debit_account_id=external,
        credits=[
            (f"repayment:{repayment.id}:{line.holder_id}", account_id, line.amount_fen)
            for line, (_, _, account_id) in zip(lines, holders, strict=True)
            if line.amount_fen > 0
        ],
        code="repayment",
        reference=f"loan:{loan_id}",
    )
    await insert_records(
        unit.session,
        cast(Table, RepaymentShare.__table__),
        SHARE_COLUMNS,
        [
            (repayment.id, line.holder_id, line.share_ppm, line.principal_fen, line.interest_fen)
            for line in lines
        ],
    )
    loan.outstanding_principal_fen -= principal_fen
    assert sum(line.principal_fen for line in lines) == principal_fen
    assert sum(line.interest_fen for line in lines) == interest_fen
    unit.record(
        "loan.repayment_distributed",
        f"loan:{loan_id}",
        {
            "repayment_id": repayment.id,
            "principal_fen": principal_fen,
            "interest_fen": interest_fen,
            "received_on": received_on.isoformat(),
            "holders": len(lines),
            "outstanding_principal_fen": loan.outstanding_principal_fen,
        },
    )
    return repayment, lines
