"""A disposal case in its second round: round 1 announced the full notice ahead, ran its 24 h and
closed unsold (流拍) weeks ago; round 2, at the deepest cut the rules allow (规定第26条), was
announced within the re-run window and is live now, ending in two days. Every step through the
disposal services at its own instant; the closer closes round 1 as the scheduler would have."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo.loans import DemoBorrower, DemoItem, register_demo_loan
from app.demo.participants import BANK_B_KEY, BIDDER_A_KEY, SIMULATED_BIDDER_KEYS, DemoIds
from app.demo.timeline import Step
from auction import closing
from auction.disposal import steps
from auction.disposal.cases import DefaultSpec
from auction.disposal.commitment_offers import declare_default
from auction.disposal.models import DisposalStep
from auction.registration import register
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem

PATENT_NUMBER = "ZL201810000021.7"
ROUND_2_ENDS_IN_S = 2 * 86_400
ROUND_2_OPENED_AGO_S = 3 * 86_400
INCREMENT_FEN = 10_000_00
GAP_S = 3_600


@dataclass
class _Made:
    loan_id: int | None = None
    case_id: int | None = None


async def seeded(session: AsyncSession, ids: DemoIds) -> bool:
    found = await session.execute(
        select(CollateralItem.id).where(CollateralItem.registry_number == PATENT_NUMBER).limit(1)
    )
    return found.first() is not None


def _deposit_fen(start_fen: int) -> int:
    return start_fen // 10 // 1_000_00 * 1_000_00


def plan(context: AppContext, ids: DemoIds, now: datetime) -> list[Step]:
    policy = context.disposal_policy
    limits = policy.limits
    duration_s = max(86_400, policy.auction.min_duration_s)
    bank_id = ids[BANK_B_KEY]
    # Backwards from round 2, live now: each instant as early as the next one's rule needs.
    round_2_starts = now - timedelta(seconds=ROUND_2_OPENED_AGO_S)
    round_2_ends = max(
        now + timedelta(seconds=ROUND_2_ENDS_IN_S), round_2_starts + timedelta(seconds=duration_s)
    )
    round_2_made = round_2_starts - timedelta(seconds=limits.rerun_notice_s + GAP_S)
    round_1_closed = round_2_made - timedelta(seconds=min(86_400, limits.rerun_within_s // 2))
    round_1_ends = round_1_closed - timedelta(seconds=10)
    round_1_starts = round_1_ends - timedelta(seconds=duration_s)
    round_1_made = round_1_starts - timedelta(seconds=limits.notice_s + GAP_S)
    defaulted = round_1_made - timedelta(seconds=GAP_S)
    registered = defaulted - timedelta(seconds=GAP_S)
    made = _Made()

    async def loan(unit: UnitOfWork) -> None:
        view = await register_demo_loan(
            unit,
            context,
            bank_id,
            DemoBorrower("Kunshan Precision Optics Co., Ltd.", "320583", 21),
            (
                DemoItem(
                    "invention_patent", PATENT_NUMBER, "Aspheric lens moulding process", 2_000_000_00, 8
                ),
                DemoItem("trademark", "TM-2018-09-0021", "明眸 trademark, class 9", 400_000_00),
            ),
            principal_fen=3_000_000_00,
            outstanding_fen=2_600_000_00,
        )
        made.loan_id = view.loan.id

    async def default(unit: UnitOfWork) -> None:
        assert made.loan_id is not None
        case = await declare_default(
            unit,
            made.loan_id,
            bank_id,
            DefaultSpec(
                reason="Borrower insolvent; principal overdue (demo)", accrued_interest_fen=92_000_00
            ),
            False,
            policy,
        )
        made.case_id = case.id

    def round_spec(starts_at: datetime, ends_at: datetime, start_fen: int) -> steps.RoundSpec:
        return steps.RoundSpec(starts_at, ends_at, INCREMENT_FEN, _deposit_fen(start_fen), start_fen)

    async def round_1(unit: UnitOfWork) -> None:
        assert made.case_id is not None
        start_fen = 1_680_000_00  # 70 % of the 2,400,000.00 appraisal, on the grid
        await steps.create_round(
            unit, made.case_id, bank_id, round_spec(round_1_starts, round_1_ends, start_fen), policy
        )

    async def close_round_1(unit: UnitOfWork) -> None:
        # Nobody registered: the closer finds it due and closes it unsold, the case awaits round 2.
        await closing.close_due(unit, policy.auction)

    async def round_2(unit: UnitOfWork) -> None:
        assert made.case_id is not None
        previous = await unit.session.execute(
            select(DisposalStep.start_price_fen).where(
                DisposalStep.case_id == made.case_id, DisposalStep.round_no == 1
            )
        )
        start_1_fen = previous.scalar_one()
        assert start_1_fen is not None
        start_fen = start_1_fen * (10_000 - limits.round_cut_max_bps) // 10_000
        start_fen = -(-start_fen // INCREMENT_FEN) * INCREMENT_FEN
        await steps.create_round(
            unit, made.case_id, bank_id, round_spec(round_2_starts, round_2_ends, start_fen), policy
        )

    def registration(bidder_key: str) -> Step:
        async def work(unit: UnitOfWork) -> None:
            assert made.case_id is not None
            auction_id = (
                await unit.session.execute(
                    select(DisposalStep.auction_id).where(
                        DisposalStep.case_id == made.case_id, DisposalStep.round_no == 2
                    )
                )
            ).scalar_one()
            assert auction_id is not None
            await register(unit, auction_id, ids[bidder_key], policy.auction)

        return Step(None, "round 2: a bidder registers", work, ids[bidder_key])

    return [
        Step(registered, "the loan of the case in round 2", loan, bank_id),
        Step(defaulted, "its default", default, bank_id),
        Step(round_1_made, "round 1 announced", round_1, bank_id),
        Step(round_1_closed, "round 1 closes unsold", close_round_1, None),
        Step(round_2_made, "round 2 announced at the deepest cut", round_2, bank_id),
        *(registration(key) for key in (*SIMULATED_BIDDER_KEYS[:2], BIDDER_A_KEY)),
    ]
