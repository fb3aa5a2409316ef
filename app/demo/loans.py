"""A demo loan: registered through the loan service with its collateral, and its patents' annuity
schedules written from the day it is registered (as the loan route does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.context import AppContext
from app.demo.timeline import credit_code, filed_on, today_of
from transfer.annuities.schedules import write_schedules
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry.loans import NO_PATENT_FACTS, CollateralSpec, LoanSpec, LoanView, register_loan
from transfer.registry.patent_facts import PatentFacts

PATENT_KINDS = ("invention_patent", "utility_patent", "design_patent")


@dataclass(frozen=True, slots=True)
class DemoItem:
    kind: str
    registry_number: str
    title: str
    appraisal_fen: int
    filed_years_ago: int = 4  # patents only


@dataclass(frozen=True, slots=True)
class DemoBorrower:
    name: str
    division: str  # GB/T 2260 six-digit code of where it is registered
    serial: int


async def register_demo_loan(
    unit: UnitOfWork,
    context: AppContext,
    creditor_id: int,
    borrower: DemoBorrower,
    items: Sequence[DemoItem],
    *,
    principal_fen: int,
    outstanding_fen: int,
) -> LoanView:
    today = today_of(unit.now)
    view = await register_loan(
        unit,
        creditor_id,
        LoanSpec(
            borrower_name=borrower.name,
            borrower_credit_code=credit_code(borrower.division, borrower.serial),
            principal_fen=principal_fen,
            outstanding_principal_fen=outstanding_fen,
            rate_bps=385,
            originated_on=date(2024, 9, 20),
            matures_on=date(2028, 9, 20),
            status="performing",
            collateral=[
                CollateralSpec(
                    item.kind,
                    item.registry_number,
                    item.title,
                    borrower.name,
                    item.appraisal_fen,
                    date(2024, 9, 1),
                    patent=PatentFacts(filed_on=filed_on(today, item.filed_years_ago))
                    if item.kind in PATENT_KINDS
                    else NO_PATENT_FACTS,
                )
                for item in items
            ],
        ),
    )
    await write_schedules(unit, view.loan, view.collateral, context.calendar, context.annuity_policy, today)
    return view
