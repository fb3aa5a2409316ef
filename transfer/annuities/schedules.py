"""Writing a patent's annuity schedule: one row per patent year due while the loan runs, with its
grace months priced in advance, so the daily run never computes a date or a late fee in Python."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast

from sqlalchemy import Table, delete, insert, select

from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.annuities import Annuity, AnnuityGraceMonth
from transfer.models.loans import CollateralItem, Loan
from transfer.rules.annuity_schedule import (
    AnnuityPolicy,
    GraceMonth,
    grace_months,
    restoration_deadline,
    schedule,
)
from transfer.rules.working_calendar import WorkingCalendar

SCHEDULED = "scheduled"
IN_GRACE = "in_grace"
PAID = "paid"
LAPSED = "lapsed"
RESTORED = "restored"
UNPAID = (SCHEDULED, IN_GRACE)


async def write_schedules(
    unit: UnitOfWork,
    loan: Loan,
    items: Sequence[CollateralItem],
    calendar: WorkingCalendar,
    policy: AnnuityPolicy,
    due_from: date,
) -> int:
    """The fees due from `due_from` to the loan's maturity of every patent among `items`; a patent
    year that already has a row (a fee paid) is kept as it is. Returns how many rows were written."""
    patents = [item for item in items if item.filed_on is not None]
    if not patents:
        return 0
    existing = {
        (collateral_id, year)
        for collateral_id, year in (
            await unit.session.execute(
                select(Annuity.collateral_id, Annuity.patent_year).where(
                    Annuity.collateral_id.in_([item.id for item in patents])
                )
            )
        ).all()
    }
    rows: list[tuple[Annuity, list[GraceMonth]]] = []
    for item in patents:
        assert item.filed_on is not None
        for year in schedule(
            item.kind,
            item.filed_on,
            item.granted_on,
            item.fee_reduction_bps or 0,
            calendar,
            due_from=due_from,
            due_until=loan.matures_on,
        ):
            if (item.id, year.patent_year) in existing:
                continue
            months = grace_months(year.anniversary_on, year.full_fee_fen, policy, calendar)
            rows.append(
                (
                    Annuity(
                        loan_id=loan.id,
                        collateral_id=item.id,
                        patent_year=year.patent_year,
                        anniversary_on=year.anniversary_on,
                        due_on=year.due_on,
                        full_fee_fen=year.full_fee_fen,
                        fee_fen=year.fee_fen,
                        grace_ends_on=months[-1].ends_on,
                        restore_by=restoration_deadline(months[-1].ends_on, policy, calendar),
                        status=SCHEDULED,
                        alerted_grace_month=0,
                        created_at=unit.now,
                    ),
                    months,
                )
            )
    if not rows:
        return 0
    unit.session.add_all(row for row, _ in rows)
    await unit.session.flush()
    await unit.session.execute(
        insert(cast(Table, AnnuityGraceMonth.__table__)),
        [
            {
                "annuity_id": row.id,
                "month": month.month,
                "ends_on": month.ends_on,
                "late_fee_fen": month.late_fee_fen,
            }
            for row, months in rows
            for month in months
        ],
    )
    return len(rows)


async def drop_scheduled(unit: UnitOfWork, collateral_id: int) -> int:
    """Forget an item's fees not yet due or paid (its facts are being corrected)."""
    ids = select(Annuity.id).where(Annuity.collateral_id == collateral_id, Annuity.status == SCHEDULED)
    await unit.session.execute(delete(AnnuityGraceMonth).where(AnnuityGraceMonth.annuity_id.in_(ids)))
    dropped = await unit.session.execute(
        delete(Annuity).where(Annuity.collateral_id == collateral_id, Annuity.status == SCHEDULED)
    )
    return int(dropped.rowcount)  # type: ignore[attr-defined]
