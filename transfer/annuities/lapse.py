"""A fee unpaid after its grace months: the patent lapses from its original due date (专利法第42-44条; DESIGN.md section 3).

The collateral item is marked lapsed, so the loan's IP share and appraisal in force no longer
count it (transfer.registry.loans.LoanView); the creditor is alerted; each lapse is an audit event
with the loan's figures after it. Lapses are rare, so they are read back to be recorded one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, and_, literal, select, update
from sqlalchemy import cast as sql_cast

from transfer.annuities import alerts
from transfer.annuities.schedules import LAPSED, UNPAID
from transfer.annuities.sql import patent_backs_loan
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.annuities import Annuity
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.loans import LAPSED as ITEM_LAPSED
from transfer.rules.collateral import ip_share_ppm


@dataclass(frozen=True, slots=True)
class LapsedFee:
    annuity_id: int
    loan_id: int
    collateral_id: int
    patent_year: int
    due_on: date


async def lapse_overdue(unit: UnitOfWork, today: date, where: object) -> list[LapsedFee]:
    """Lapse every fee matching `where` that is unpaid past its grace months."""
    rows = await unit.session.execute(
        update(Annuity)
        .where(
            where,  # type: ignore[arg-type]
            Annuity.status.in_(UNPAID),
            Annuity.grace_ends_on < today,
            patent_backs_loan(),
        )
        .values(status=LAPSED, lapsed_on=today)
        .returning(Annuity.id, Annuity.loan_id, Annuity.collateral_id, Annuity.patent_year, Annuity.due_on)
    )
    lapsed = [LapsedFee(*row) for row in rows.all()]
    if lapsed:
        await _record(unit, lapsed, today)
    return lapsed


async def _record(unit: UnitOfWork, lapsed: Sequence[LapsedFee], today: date) -> None:
    ids = [fee.annuity_id for fee in lapsed]
    await unit.session.execute(
        update(CollateralItem)
        .where(CollateralItem.id.in_({fee.collateral_id for fee in lapsed}))
        .values(state=ITEM_LAPSED)
        .execution_options(synchronize_session=False)
    )
    await alerts.raise_alerts(
        unit,
        select(
            Loan.creditor_id,
            literal(alerts.ANNUITY_LAPSED),
            Annuity.loan_id,
            Annuity.id,
            Annuity.fee_fen,
            Annuity.due_on,
            literal("lapsed:", String()) + sql_cast(Annuity.id, String()),
            literal(unit.now, UTCDateTime()),
        )
        .join(Loan, Loan.id == Annuity.loan_id)
        .where(and_(Annuity.id.in_(ids), Annuity.status == LAPSED)),
    )
    figures = await loan_figures(unit, {fee.loan_id for fee in lapsed})
    for fee in lapsed:
        ip_share, in_force_fen = figures[fee.loan_id]
        unit.record(
            "annuity.lapsed",
            f"collateral:{fee.collateral_id}",
            {
                "annuity_id": fee.annuity_id,
                "loan_id": fee.loan_id,
                "patent_year": fee.patent_year,
                "lapsed_from": fee.due_on.isoformat(),
                "noticed_on": today.isoformat(),
                "ip_share_ppm": ip_share,
                "appraisal_in_force_fen": in_force_fen,
            },
        )


async def loan_figures(unit: UnitOfWork, loan_ids: set[int]) -> dict[int, tuple[int, int]]:
    """(IP share in ppm, appraisal in force in fen) of each loan, from its items' current states
    (read as columns: the states were just changed by a statement, not through the ORM)."""
    rows = await unit.session.execute(
        select(
            CollateralItem.loan_id, CollateralItem.kind, CollateralItem.appraisal_fen, CollateralItem.state
        ).where(CollateralItem.loan_id.in_(sorted(loan_ids)))
    )
    items: dict[int, list[tuple[str, int]]] = {loan_id: [] for loan_id in loan_ids}
    for loan_id, kind, appraisal_fen, state in rows.all():
        items[loan_id].append((kind, 0 if state == ITEM_LAPSED else appraisal_fen))
    return {loan_id: (ip_share_ppm(pairs), sum(fen for _, fen in pairs)) for loan_id, pairs in items.items()}
