"""A centralized session (集中拍卖) whose lots end one after another over the next 15 minutes.

Its history, each step through the service an admin or a bank would call: the loans registered,
their defaults declared, the session announced the full notice (IPX_DISPOSAL_NOTICE_S) before it
opened, and its lots open for at least the judicial 24 h (IPX_AUCTION_MIN_DURATION_S) when the
first one ends. Then, in the present, the demo bidders register for every lot (one paddle each).
The simulated bidders (app/demo/bidders.py) open a fresh one the same way when all have closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo.loans import DemoBorrower, DemoItem, register_demo_loan
from app.demo.participants import (
    ADMIN_KEY,
    BANK_B_KEY,
    BANK_KEY,
    BIDDER_A_KEY,
    SIMULATED_BIDDER_KEYS,
    DemoIds,
)
from app.demo.timeline import Step
from auction.disposal import sessions
from auction.disposal.cases import DefaultSpec
from auction.disposal.commitment_offers import declare_default
from auction.disposal.models import DisposalSession
from auction.disposal.rules.rounds import default_start_fen, round_minimum_fen
from transfer.kernel.unit_of_work import UnitOfWork

SESSION_LOT_COUNT = 8
# The first lot ends this long after the seed, the others one stagger after another: the last at
# 120 + 7 × 100 = 820 s, inside the 15 minutes a newcomer watches.
FIRST_LOT_ENDS_IN_S = 120
STAGGER_S = 100
# Past steps keep this much room between them (an announcement is made after the defaults, …).
STEP_GAP_S = 3_600
MARGIN_S = 60


@dataclass(frozen=True, slots=True)
class CaseDesign:
    creditor_key: str
    borrower: DemoBorrower
    items: tuple[DemoItem, ...]


@dataclass(frozen=True, slots=True)
class LotDesign:
    cases: tuple[CaseDesign, ...]  # two cases: a bundle, a patent family pledged to two banks


def _lots(number: int) -> tuple[LotDesign, ...]:
    """Session `number`'s lots: registry numbers carry the number, as a pledged right's may be
    pledged again only once its pledge is released."""
    n = f"{number:03d}"

    def case(key: str, name: str, division: str, serial: int, *items: DemoItem) -> CaseDesign:
        return CaseDesign(key, DemoBorrower(name, division, number * 100 + serial), items)

    return (
        LotDesign((case(BANK_KEY, "Hangzhou Solid Cell Co., Ltd.", "330100", 1, DemoItem(
            "invention_patent", f"ZL20211{n}0001.3", "Solid-state electrolyte membrane", 1_800_000_00, 5)),)),
        LotDesign((case(BANK_B_KEY, "Suzhou Rack Works Co., Ltd.", "320500", 2, DemoItem(
            "utility_patent", f"ZL20212{n}0002.5", "Quick-release battery bracket", 900_000_00, 3)),)),
        LotDesign((case(BANK_KEY, "Fuzhou Green Hill Tea Co., Ltd.", "350100", 3, DemoItem(
            "trademark", f"TM-{n}-30-0003", "青山 tea trademark, class 30", 1_200_000_00)),)),
        LotDesign((
            case(BANK_KEY, "Shenzhen Graphene Thermal Co., Ltd.", "440300", 4, DemoItem(
                "invention_patent", f"ZL20201{n}0004.1", "Graphene heat spreader", 1_500_000_00, 6)),
            case(BANK_B_KEY, "Shenzhen Graphene Devices Co., Ltd.", "440300", 5, DemoItem(
                "invention_patent", f"ZL20201{n}0005.8", "Graphene heat spreader, divisional", 1_000_000_00, 6)),
        )),
        LotDesign((case(BANK_B_KEY, "Wuhan Robot Logistics Co., Ltd.", "420100", 6, DemoItem(
            "software_copyright", f"2021SR{n}0006", "Warehouse robot scheduler V3.0", 800_000_00)),)),
        LotDesign((case(BANK_KEY, "Ningbo Fold Bikes Co., Ltd.", "330200", 7, DemoItem(
            "design_patent", f"ZL20223{n}0007.2", "Folding e-bike frame", 600_000_00, 3)),)),
        LotDesign((case(BANK_B_KEY, "Beijing Seed Gene Co., Ltd.", "110000", 8, DemoItem(
            "invention_patent", f"ZL20191{n}0008.6", "Gene-editing method for drought-tolerant maize", 3_200_000_00, 7)),)),
        LotDesign((case(BANK_KEY, "Shanghai Water Guard Co., Ltd.", "310000", 9,
            DemoItem("utility_patent", f"ZL20222{n}0009.4", "Smart water meter housing", 700_000_00, 2),
            DemoItem("trademark", f"TM-{n}-09-0009", "水卫士 trademark, class 9", 500_000_00),
        ),)),
    )  # fmt: skip


@dataclass
class _Made:
    """What the earlier steps made, for the later ones."""

    case_ids: list[list[int]] = field(default_factory=list)  # per lot
    loan_ids: list[tuple[str, int]] = field(default_factory=list)  # (creditor key, loan id) per case
    session_id: int | None = None


async def seeded(session: AsyncSession, ids: DemoIds) -> bool:
    return await demo_session_count(session, ids) > 0


async def demo_session_count(session: AsyncSession, ids: DemoIds) -> int:
    count = await session.execute(
        select(func.count()).select_from(DisposalSession).where(DisposalSession.created_by == ids[ADMIN_KEY])
    )
    return int(count.scalar_one())


def _increment_fen(start_floor_fen: int) -> int:
    return 10_000_00 if start_floor_fen >= 1_000_000_00 else 5_000_00


def plan(context: AppContext, ids: DemoIds, now: datetime, number: int) -> list[Step]:
    """The steps of demo session `number` (1 for the seed's); its first lot ends FIRST_LOT_ENDS_IN_S
    after `now`."""
    policy = context.disposal_policy
    limits = policy.limits
    designs = _lots(number)
    assert len(designs) == SESSION_LOT_COUNT
    first_lot_ends_at = now + timedelta(seconds=FIRST_LOT_ENDS_IN_S)
    starts_at = first_lot_ends_at - timedelta(seconds=max(86_400, policy.auction.min_duration_s))
    announced_at = starts_at - timedelta(seconds=limits.notice_s + MARGIN_S)
    defaulted_at = announced_at - timedelta(seconds=STEP_GAP_S)
    registered_at = defaulted_at - timedelta(seconds=STEP_GAP_S)
    made = _Made()

    async def loans(unit: UnitOfWork) -> None:
        for lot in designs:
            for case in lot.cases:
                total_fen = sum(item.appraisal_fen for item in case.items)
                view = await register_demo_loan(
                    unit,
                    context,
                    ids[case.creditor_key],
                    case.borrower,
                    case.items,
                    principal_fen=total_fen * 5 // 4,
                    outstanding_fen=total_fen * 11 // 10,
                )
                made.loan_ids.append((case.creditor_key, view.loan.id))

    async def defaults(unit: UnitOfWork) -> None:
        loans_left = iter(made.loan_ids)
        for lot in designs:
            lot_cases = []
            for _ in lot.cases:
                creditor_key, loan_id = next(loans_left)
                case = await declare_default(
                    unit,
                    loan_id,
                    ids[creditor_key],
                    DefaultSpec(
                        reason="Principal overdue for 90 days (demo)", accrued_interest_fen=38_500_00
                    ),
                    context.settings.disposal_auto_advance,
                    policy,
                )
                lot_cases.append(case.id)
            made.case_ids.append(lot_cases)

    async def announce(unit: UnitOfWork) -> None:
        lots = []
        for lot, case_ids in zip(designs, made.case_ids, strict=True):
            minimum_fen = sum(
                round_minimum_fen(1, sum(item.appraisal_fen for item in case.items), None, limits)
                for case in lot.cases
            )
            increment_fen = _increment_fen(minimum_fen)
            start_fen = default_start_fen(minimum_fen, increment_fen)
            # A tenth of the start in whole thousands of yuan: inside the 5–20 % of 规定第17条.
            deposit_fen = start_fen // 10 // 1_000_00 * 1_000_00
            lots.append(sessions.LotSpec(tuple(case_ids), increment_fen, deposit_fen, start_fen))
        created = await sessions.create_session(
            unit,
            ids[ADMIN_KEY],
            sessions.SessionSpec(
                title=f"Demo session {number}: IP collateral of defaulted loans (集中拍卖)",
                starts_at=starts_at,
                first_lot_ends_at=first_lot_ends_at,
                lots=tuple(lots),
                stagger_s=STAGGER_S,
            ),
            policy,
            context.settings.session_stagger_s,
        )
        made.session_id = created.id

    def registration(bidder_key: str) -> Step:
        async def work(unit: UnitOfWork) -> None:
            assert made.session_id is not None
            lot_ids = [lot.id for lot, _ in await sessions.lots_of(unit.session, made.session_id)]
            await sessions.register_for_session(unit, made.session_id, ids[bidder_key], lot_ids, policy)

        return Step(None, f"session {number}: a bidder registers for every lot", work, ids[bidder_key])

    return [
        Step(registered_at, f"session {number}: the loans behind its lots", loans, None),
        Step(defaulted_at, f"session {number}: the defaults", defaults, None),
        Step(announced_at, f"session {number}: announced", announce, ids[ADMIN_KEY]),
        *(registration(key) for key in (*SIMULATED_BIDDER_KEYS, BIDDER_A_KEY)),
    ]
