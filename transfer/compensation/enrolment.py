"""Enrolling a loan in a fund: the creditor asks, the fund's criteria decide."""

from __future__ import annotations

from sqlalchemy import select

from transfer.compensation.funds import get_fund
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.compensation import CompensationEnrolment
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.loans import appraisal_in_force_fen
from transfer.registry.ownership import lock_loan
from transfer.rules.collateral import ip_share_ppm

ENROLLED = "enrolled"
ADVANCED = "advanced"
CLEARED = "cleared"
# The loan defaulted before its enrolment had seasoned (IPX_COMPENSATION_SEASONING_DAYS): the fund
# advances nothing and bears no share of the loss (transfer.compensation.clearing).
UNSEASONED = "unseasoned"
# Only a loan that performs is taken on: an overdue or non-performing one is already a loss in the
# making, which a fund enrolled now would be made to pay.
ENROLLABLE_STATUSES = ("performing",)


async def loan_ip_share_ppm(unit: UnitOfWork, loan_id: int) -> int:
    """The loan's IP share as its collateral stands now: a lapsed patent backs nothing."""
    items = (
        (await unit.session.execute(select(CollateralItem).where(CollateralItem.loan_id == loan_id)))
        .scalars()
        .all()
    )
    return ip_share_ppm((item.kind, appraisal_in_force_fen(item)) for item in items)


async def enrol(unit: UnitOfWork, loan_id: int, creditor_id: int, fund_id: int) -> CompensationEnrolment:
    loan: Loan = await lock_loan(unit, loan_id)
    if loan.creditor_id != creditor_id:
        raise Forbidden("not_creditor", "only the loan's creditor enrols it in a fund", field="loan_id")
    if loan.status not in ENROLLABLE_STATUSES:
        raise Conflict(
            "loan_not_performing",
            f"loan {loan.id} is {loan.status}: only a performing loan is enrolled",
            field="loan_id",
        )
    fund = await get_fund(unit, fund_id)
    share_ppm = await loan_ip_share_ppm(unit, loan.id)
    if fund.ip_share_min_bps is not None and share_ppm < fund.ip_share_min_bps * 100:
        raise Conflict(
            "ip_share_below_minimum",
            f"the loan's IP share is {share_ppm / 10_000:.2f} %; fund {fund.id} needs at least"
            f" {fund.ip_share_min_bps / 100:.2f} %",
            field="fund_id",
        )
    existing = await unit.session.execute(
        select(CompensationEnrolment.id).where(
            CompensationEnrolment.loan_id == loan.id, CompensationEnrolment.fund_id == fund.id
        )
    )
    if existing.scalar_one_or_none() is not None:
        raise Conflict(
            "already_enrolled", f"loan {loan.id} is already enrolled in fund {fund.id}", field="fund_id"
        )
    enrolment = CompensationEnrolment(
        fund_id=fund.id,
        loan_id=loan.id,
        state=ENROLLED,
        ip_share_ppm=share_ppm,
        enrolled_by=creditor_id,
        enrolled_at=unit.now,
        advance_fen=0,
        fund_shortfall_fen=0,
        top_up_fen=0,
        refunded_fen=0,
        owed_fen=0,
    )
    unit.session.add(enrolment)
    await unit.session.flush()
    unit.record(
        "compensation.enrolled",
        f"loan:{loan.id}",
        {"fund_id": fund.id, "enrolment_id": enrolment.id, "ip_share_ppm": share_ppm},
    )
    return enrolment
