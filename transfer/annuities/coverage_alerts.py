"""Alerting creditors whose escrow will not cover the fees due within the alert horizon, set-based.

Per loan, its unpaid fees due by today + horizon in due order with a running sum (a fee in grace
with today's late fee); the first fee the escrow no longer covers raises one alert, once per fee,
naming the amount missing and the date it is due.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import String, and_, func, literal, select
from sqlalchemy import cast as sql_cast

from transfer.annuities import alerts
from transfer.annuities.schedules import UNPAID
from transfer.annuities.sql import late_fee_on, patent_backs_loan
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.annuities import Annuity, AnnuityEscrow
from transfer.models.loans import Loan
from transfer.rules.annuity_schedule import AnnuityPolicy


def due_within(today: date, policy: AnnuityPolicy) -> object:
    horizon = today + timedelta(days=policy.alert_horizon_days)
    return and_(Annuity.status.in_(UNPAID), Annuity.due_on <= horizon, Annuity.grace_ends_on >= today)


async def alert_short_escrows(unit: UnitOfWork, today: date, policy: AnnuityPolicy) -> int:
    """One statement over the whole book: it reads the fees of the horizon once (a batch by loan
    would scan them once per batch) and writes only the few alerts that are new."""
    amount = Annuity.fee_fen + late_fee_on(today)
    soon = (
        select(
            Annuity.id.label("annuity_id"),
            Annuity.loan_id.label("loan_id"),
            Annuity.due_on.label("due_on"),
            amount.label("amount_fen"),
            func.coalesce(Account.balance_fen, 0).label("balance_fen"),
            func.sum(amount)
            .over(partition_by=Annuity.loan_id, order_by=(Annuity.due_on, Annuity.id))
            .label("running_fen"),
        )
        .outerjoin(AnnuityEscrow, AnnuityEscrow.loan_id == Annuity.loan_id)
        .outerjoin(Account, Account.id == AnnuityEscrow.account_id)
        .where(
            due_within(today, policy),  # type: ignore[arg-type]
            patent_backs_loan(),
        )
        .subquery("soon")
    )
    first_short = and_(
        soon.c.running_fen > soon.c.balance_fen, soon.c.running_fen - soon.c.amount_fen <= soon.c.balance_fen
    )
    return await alerts.raise_alerts(
        unit,
        select(
            Loan.creditor_id,
            literal(alerts.ESCROW_SHORT),
            soon.c.loan_id,
            soon.c.annuity_id,
            soon.c.running_fen - soon.c.balance_fen,
            soon.c.due_on,
            literal("escrow_short:", String()) + sql_cast(soon.c.annuity_id, String()),
            literal(unit.now, UTCDateTime()),
        )
        .join(Loan, Loan.id == soon.c.loan_id)
        .where(first_short),
    )
