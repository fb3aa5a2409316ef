"""Reading a fund: its balance, what it advanced, cleared and is owed, its exposure, its lines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.compensation.enrolment import ENROLLED
from transfer.kernel.errors import NotFound
from transfer.models import Account, Participant
from transfer.models.compensation import CompensationEnrolment, CompensationFund, CompensationLine
from transfer.models.loans import Loan
from transfer.registry.loans import DEFAULTED, REPAID
from transfer.rules.compensation import covered_base_fen

REPORT_CHUNK_ROWS = 1_000


@dataclass(frozen=True, slots=True)
class FundView:
    fund: CompensationFund
    balance_fen: int
    enrolments_by_state: dict[str, int]
    advanced_fen: int
    topped_up_fen: int
    refunded_fen: int
    owed_fen: int
    shortfall_fen: int
    exposure_fen: int  # the covered base of its enrolled performing loans
    enrolments: Sequence[CompensationEnrolment]
    enrolment_total: int


async def fund_view(session: AsyncSession, fund_id: int, *, limit: int = 50, offset: int = 0) -> FundView:
    fund = await session.get(CompensationFund, fund_id)
    if fund is None:
        raise NotFound("fund_not_found", f"compensation fund {fund_id} does not exist", field="fund_id")
    balance_fen = (
        await session.execute(select(Account.balance_fen).where(Account.id == fund.account_id))
    ).scalar_one()
    of_fund = CompensationEnrolment.fund_id == fund.id
    states = dict(
        (
            await session.execute(
                select(CompensationEnrolment.state, func.count())
                .where(of_fund)
                .group_by(CompensationEnrolment.state)
            )
        ).all()
    )
    sums = (
        await session.execute(
            select(
                func.coalesce(func.sum(CompensationEnrolment.advance_fen), 0),
                func.coalesce(func.sum(CompensationEnrolment.top_up_fen), 0),
                func.coalesce(func.sum(CompensationEnrolment.refunded_fen), 0),
                func.coalesce(func.sum(CompensationEnrolment.owed_fen), 0),
                func.coalesce(func.sum(CompensationEnrolment.fund_shortfall_fen), 0),
            ).where(of_fund)
        )
    ).one()
    performing = (
        await session.execute(
            select(Loan.outstanding_principal_fen, CompensationEnrolment.ip_share_ppm)
            .join(Loan, Loan.id == CompensationEnrolment.loan_id)
            .where(of_fund, CompensationEnrolment.state == ENROLLED, Loan.status.not_in([DEFAULTED, REPAID]))
        )
    ).all()
    enrolments = (
        (
            await session.execute(
                select(CompensationEnrolment)
                .where(of_fund)
                .order_by(CompensationEnrolment.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        .scalars()
        .all()
    )
    return FundView(
        fund=fund,
        balance_fen=int(balance_fen),
        enrolments_by_state={str(state): int(count) for state, count in states.items()},
        advanced_fen=int(sums[0]),
        topped_up_fen=int(sums[1]),
        refunded_fen=int(sums[2]),
        owed_fen=int(sums[3]),
        shortfall_fen=int(sums[4]),
        exposure_fen=sum(covered_base_fen(outstanding, share) for outstanding, share in performing),
        enrolments=enrolments,
        enrolment_total=sum(int(count) for count in states.values()),
    )


async def list_funds(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[CompensationFund], int]:
    total = int((await session.execute(select(func.count()).select_from(CompensationFund))).scalar_one())
    funds = (
        (
            await session.execute(
                select(CompensationFund).order_by(CompensationFund.id).limit(limit).offset(offset)
            )
        )
        .scalars()
        .all()
    )
    return funds, total


@dataclass(frozen=True, slots=True)
class LineRow:
    line: CompensationLine
    holder_name: str
    fund_name: str = ""


async def lines_of_loans(session: AsyncSession, loan_ids: Sequence[int]) -> dict[int, list[LineRow]]:
    """Each loan's compensation lines with the holder's and the fund's names (a case's view)."""
    if not loan_ids:
        return {}
    rows = await session.execute(
        select(CompensationLine, Participant.name, CompensationFund.name)
        .join(Participant, Participant.id == CompensationLine.holder_id)
        .join(CompensationFund, CompensationFund.id == CompensationLine.fund_id)
        .where(CompensationLine.loan_id.in_(loan_ids))
        .order_by(CompensationLine.loan_id, CompensationLine.id)
    )
    found: dict[int, list[LineRow]] = {}
    for line, holder_name, fund_name in rows.all():
        found.setdefault(line.loan_id, []).append(LineRow(line, holder_name, fund_name))
    return found


async def report_page(
    session: AsyncSession, fund_id: int, *, after_line_id: int, limit: int
) -> list[LineRow]:
    rows = await session.execute(
        select(CompensationLine, Participant.name)
        .join(Participant, Participant.id == CompensationLine.holder_id)
        .where(CompensationLine.fund_id == fund_id, CompensationLine.id > after_line_id)
        .order_by(CompensationLine.id)
        .limit(limit)
    )
    return [LineRow(line, name) for line, name in rows.all()]


async def report_lines(session: AsyncSession, fund_id: int) -> AsyncIterator[list[LineRow]]:
    """Every line of the fund, oldest first, in chunks (the CSV report)."""
    after_line_id = 0
    while True:
        rows = await report_page(session, fund_id, after_line_id=after_line_id, limit=REPORT_CHUNK_ROWS)
        if not rows:
            return
        yield rows
        after_line_id = rows[-1].line.id
