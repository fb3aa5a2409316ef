"""Reading disposal cases: one case with everything a holder needs to see, or a page of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.disposal.cases import ROLES_SEEING_ALL_CASES, CaseState, may_read, not_found
from auction.disposal.models import DisposalCase, DisposalCost, DisposalStep, WaterfallLine
from auction.disposal.surplus import paid_by_case
from auction.models import Auction
from transfer.compensation.queries import LineRow, lines_of_loans
from transfer.kernel.errors import DomainError
from transfer.models.loans import CollateralItem, IncomeRight


@dataclass(frozen=True, slots=True)
class CaseView:
    case: DisposalCase
    collateral: list[CollateralItem]
    steps: list[tuple[DisposalStep, Auction | None]]
    costs: list[DisposalCost]
    waterfall: list[WaterfallLine]
    holders: dict[int, int]  # holder id -> share_ppm
    compensation: list[LineRow]  # what the loan's compensation funds advanced, topped up, took back
    surplus_paid_fen: int = 0  # the pledgor's surplus paid out so far (auction.disposal.surplus)

    @property
    def surplus_held_fen(self) -> int | None:
        """The surplus the pledgor account still holds for the case, not paid out yet."""
        if self.case.surplus_fen is None:
            return None
        return self.case.surplus_fen - self.surplus_paid_fen

    @property
    def current_step(self) -> DisposalStep | None:
        return next((step for step, _ in self.steps if step.id == self.case.current_step_id), None)


async def _views(session: AsyncSession, cases: Sequence[DisposalCase]) -> list[CaseView]:
    """The views of a page of cases in seven reads, whatever the page's length."""
    if not cases:
        return []
    case_ids = [case.id for case in cases]
    loan_ids = sorted({case.loan_id for case in cases})
    collateral: dict[int, list[CollateralItem]] = {}
    for item in (
        await session.execute(
            select(CollateralItem)
            .where(CollateralItem.loan_id.in_(loan_ids))
            .order_by(CollateralItem.loan_id, CollateralItem.position)
        )
    ).scalars():
        collateral.setdefault(item.loan_id, []).append(item)
    steps: dict[int, list[tuple[DisposalStep, Auction | None]]] = {}
    for step, auction in (
        await session.execute(
            select(DisposalStep, Auction)
            .outerjoin(Auction, Auction.id == DisposalStep.auction_id)
            .where(DisposalStep.case_id.in_(case_ids))
            .order_by(DisposalStep.case_id, DisposalStep.number)
        )
    ).all():
        steps.setdefault(step.case_id, []).append((step, auction))
    costs: dict[int, list[DisposalCost]] = {}
    for cost in (
        await session.execute(
            select(DisposalCost).where(DisposalCost.case_id.in_(case_ids)).order_by(DisposalCost.id)
        )
    ).scalars():
        costs.setdefault(cost.case_id, []).append(cost)
    lines: dict[int, list[WaterfallLine]] = {}
    for line in (
        await session.execute(
            select(WaterfallLine)
            .where(WaterfallLine.case_id.in_(case_ids))
            .order_by(WaterfallLine.case_id, WaterfallLine.line)
        )
    ).scalars():
        lines.setdefault(line.case_id, []).append(line)
    holders: dict[int, dict[int, int]] = {}
    for loan_id, holder_id, share_ppm in (
        await session.execute(
            select(IncomeRight.loan_id, IncomeRight.holder_id, IncomeRight.share_ppm).where(
                IncomeRight.loan_id.in_(loan_ids)
            )
        )
    ).all():
        holders.setdefault(loan_id, {})[holder_id] = share_ppm
    compensation = await lines_of_loans(session, loan_ids)
    paid = await paid_by_case(session, [case.id for case in cases if case.surplus_fen])
    return [
        CaseView(
            case,
            collateral.get(case.loan_id, []),
            steps.get(case.id, []),
            costs.get(case.id, []),
            lines.get(case.id, []),
            holders.get(case.loan_id, {}),
            compensation.get(case.loan_id, []),
            paid.get(case.id, 0),
        )
        for case in cases
    ]


async def get_case(
    session: AsyncSession, case_id: int, *, viewer_id: int, viewer_roles: Iterable[str]
) -> CaseView:
    case = await session.get(DisposalCase, case_id)
    if case is None:
        raise not_found(case_id)
    (view,) = await _views(session, [case])
    # A stranger hears what a missing id gets: nobody learns which cases exist.
    if not may_read(case, view.holders, viewer_id, viewer_roles):
        raise not_found(case_id)
    return view


def parse_state(state: str | None) -> str | None:
    if state is None:
        return None
    if state not in {s.value for s in CaseState}:
        raise DomainError(
            "unknown_state", f"state must be one of {', '.join(s.value for s in CaseState)}", field="state"
        )
    return state


async def list_cases(
    session: AsyncSession,
    *,
    viewer_id: int,
    viewer_roles: Iterable[str],
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[CaseView], int]:
    query = select(DisposalCase)
    if not ROLES_SEEING_ALL_CASES.intersection(viewer_roles):
        held = select(IncomeRight.loan_id).where(IncomeRight.holder_id == viewer_id)
        query = query.where(or_(DisposalCase.creditor_id == viewer_id, DisposalCase.loan_id.in_(held)))
    if state is not None:
        query = query.where(DisposalCase.state == state)
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    cases = (
        (await session.execute(query.order_by(DisposalCase.id.desc()).limit(limit).offset(offset)))
        .scalars()
        .all()
    )
    return await _views(session, cases), total
