"""SQL expressions the daily run, the payments and the reads share: today's late fee of a fee, its
grace month, whether its patent still backs a loan, and an insert that skips a row already there."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, Table, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.annuities.facts import LIVE_STATES
from transfer.kernel.bulk import conflict_insert
from transfer.models.annuities import Annuity, AnnuityGraceMonth
from transfer.models.loans import CollateralItem

ANNUITIES = cast(Table, Annuity.__table__)
GRACE_MONTHS = cast(Table, AnnuityGraceMonth.__table__)


def late_fee_on(today: date) -> ColumnElement[int]:
    """The late fee due with a fee paid `today`: 0 by its deadline, then its grace month's fee
    (months are written with the fee; late fees only grow, so the least of those not yet over)."""
    month_fee = (
        select(func.min(AnnuityGraceMonth.late_fee_fen))
        .where(AnnuityGraceMonth.annuity_id == Annuity.id, AnnuityGraceMonth.ends_on >= today)
        .scalar_subquery()
    )
    return case((Annuity.due_on >= today, 0), else_=func.coalesce(month_fee, 0))


def grace_month_on(today: date) -> ColumnElement[int]:
    """Which grace month `today` lies in for a fee past its deadline (NULL once grace is over)."""
    return (
        select(func.min(AnnuityGraceMonth.month))
        .where(AnnuityGraceMonth.annuity_id == Annuity.id, AnnuityGraceMonth.ends_on >= today)
        .scalar_subquery()
    )


def patent_backs_loan() -> ColumnElement[bool]:
    """The fee's patent is still pledged (or in disposal): a released, delivered or lapsed one is
    no longer paid from escrow. EXISTS per row: a primary-key probe for each of the few due fees."""
    return exists().where(CollateralItem.id == Annuity.collateral_id, CollateralItem.state.in_(LIVE_STATES))


async def insert_skipping_existing(
    session: AsyncSession, table: Table, columns: list[str], rows: Any
) -> Insert:
    """INSERT … SELECT … ON CONFLICT DO NOTHING on either database (the unique key decides)."""
    return (await conflict_insert(session, table)).from_select(columns, rows).on_conflict_do_nothing()
