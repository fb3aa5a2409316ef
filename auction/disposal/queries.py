"""Reading disposal cases: one case with everything a holder needs to see, or a page of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.disposal.cases import ROLES_SEEING_ALL_CASES, CaseState, may_read, not_found
from auction.disposal.models import DisposalCase, DisposalCost, DisposalStep, WaterfallLine
from auction.models import Auction
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

    @property
    def current_step(self) -> DisposalStep | None:
        return next((step for step, _ in self.steps if step.id == self.case.current_step_id), None)


async def _view(session: AsyncSession, case: DisposalCase) -> CaseView:
    collateral = (
        (
            await session.execute(
                select(CollateralItem)
                .where(CollateralItem.loan_id == case.loan_id)
                .order_by(CollateralItem.position)
            )
        )
        .scalars()
        .all()
    )
    steps = (
        await session.execute(
            select(DisposalStep, Auction)
            .outerjoin(Auction, Auction.id == DisposalStep.auction_id)
            .where(DisposalStep.case_id == case.id)
            .order_by(DisposalStep.number)
        )
    ).all()
    costs = (
        (
            await session.execute(
                select(DisposalCost).where(DisposalCost.case_id == case.id).order_by(DisposalCost.id)
            )
        )
        .scalars()
        .all()
    )
    lines = (
        (
            await session.execute(
                select(WaterfallLine).where(WaterfallLine.case_id == case.id).order_by(WaterfallLine.line)
            )
        )
        .scalars()
        .all()
    )
    rows = await session.execute(
        select(IncomeRight.holder_id, IncomeRight.share_ppm).where(IncomeRight.loan_id == case.loan_id)
    )
    holders = {holder_id: share_ppm for holder_id, share_ppm in rows.all()}
    return CaseView(
        case,
        list(collateral),
        [(step, auction) for step, auction in steps],
        list(costs),
        list(lines),
        holders,
    )


async def get_case(
    session: AsyncSession, case_id: int, *, viewer_id: int, viewer_roles: Iterable[str]
) -> CaseView:
    case = await session.get(DisposalCase, case_id)
    if case is None:
        raise not_found(case_id)
    view = await _view(session, case)
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
    return [await _view(session, case) for case in cases], total
