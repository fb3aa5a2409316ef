"""An operation pool with licences and revenue: seven months ago a loan on an invention patent and a
utility model defaulted, the demo agency bought the collateral out (第三方收储) into its pool with an
earn-out to the case (the proceeds split at once), the agency licensed the rights (a non-exclusive, an
open and an exclusive licence), and royalties have come in every month since, each paying the
earn-out back to the bank. Every step through the operation and disposal services at its instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo.loans import DemoBorrower, DemoItem, register_demo_loan
from app.demo.participants import AGENCY_KEY, BANK_KEY, DemoIds
from app.demo.timeline import Step, credit_code, today_of
from auction.disposal import buyout
from auction.disposal.cases import DefaultSpec
from auction.disposal.commitment_offers import declare_default
from auction.disposal.earn_outs import book_revenue
from auction.operation import licences, pools
from auction.operation.models import OperationPool, PoolAsset
from auction.operation.offers import OfferSpec
from auction.operation.revenue import RevenueSpec
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.rules.fee_waiver import SHANGHAI

POOL_NAME = "Demo battery-tech operation pool"
BOUGHT_AGO_S = 215 * 86_400
LICENSED_AGO_S = 200 * 86_400
GAP_S = 3_600
ROYALTY_MONTHS = 6
# Monthly royalties (fen), oldest first: a licence ramping up.
ROYALTIES_FEN = (42_000_00, 55_500_00, 61_200_00, 78_000_00, 83_400_00, 96_750_00)


@dataclass
class _Made:
    loan_id: int | None = None
    case_id: int | None = None
    pool_id: int | None = None
    offer_id: int | None = None
    licence_ids: list[int] = field(default_factory=list)


async def seeded(session: AsyncSession, ids: DemoIds) -> bool:
    found = await session.execute(
        select(OperationPool.id)
        .where(OperationPool.agency_id == ids[AGENCY_KEY], OperationPool.name == POOL_NAME)
        .limit(1)
    )
    return found.first() is not None


def _royalty_days(today: date) -> list[date]:
    """The 10th of each of the last ROYALTY_MONTHS months before this one, oldest first."""
    days = []
    year, month = today.year, today.month
    for _ in range(ROYALTY_MONTHS):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        days.append(date(year, month, 10))
    return days[::-1]


def _shanghai_morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), SHANGHAI).astimezone(UTC)


def plan(context: AppContext, ids: DemoIds, now: datetime) -> list[Step]:
    policy = context.disposal_policy
    bank_id, agency_id = ids[BANK_KEY], ids[AGENCY_KEY]
    registered = now - timedelta(seconds=BOUGHT_AGO_S)
    licensed = now - timedelta(seconds=LICENSED_AGO_S)
    licence_day = today_of(licensed)
    made = _Made()

    async def loan(unit: UnitOfWork) -> None:
        view = await register_demo_loan(
            unit,
            context,
            bank_id,
            DemoBorrower("Changzhou Cell Power Co., Ltd.", "320400", 41),
            (
                DemoItem(
                    "invention_patent", "ZL201910000041.2", "Lithium-rich cathode coating", 1_600_000_00, 7
                ),
                DemoItem("utility_patent", "ZL202020000042.9", "Battery pack cooling plate", 600_000_00, 4),
            ),
            principal_fen=3_000_000_00,
            outstanding_fen=2_500_000_00,
        )
        made.loan_id = view.loan.id

    async def default(unit: UnitOfWork) -> None:
        assert made.loan_id is not None
        case = await declare_default(
            unit,
            made.loan_id,
            bank_id,
            DefaultSpec(reason="Principal overdue for 120 days (demo)", accrued_interest_fen=64_000_00),
            False,
            policy,
        )
        made.case_id = case.id

    async def pool(unit: UnitOfWork) -> None:
        created = await pools.create_pool(
            unit, agency_id, POOL_NAME, "Battery patents taken in by buyout, licensed to manufacturers"
        )
        made.pool_id = created.id

    async def offer(unit: UnitOfWork) -> None:
        assert made.case_id is not None and made.pool_id is not None
        placed = await buyout.make_offer(
            unit,
            made.case_id,
            agency_id,
            OfferSpec(
                price_fen=1_650_000_00,  # 75 % of the 2,200,000.00 appraisal
                pool_id=made.pool_id,
                valid_until=unit.now + timedelta(days=30),
                earn_out=pools.EarnOutTerms(2_000, 300_000_00, unit.now + timedelta(days=3 * 365)),
            ),
            policy,
        )
        made.offer_id = placed.id

    async def accept(unit: UnitOfWork) -> None:
        assert made.offer_id is not None
        await buyout.accept_offer(unit, made.offer_id, bank_id, policy)

    async def licence_all(unit: UnitOfWork) -> None:
        assert made.pool_id is not None
        assets = list(
            (
                await unit.session.execute(
                    select(PoolAsset).where(PoolAsset.pool_id == made.pool_id).order_by(PoolAsset.id)
                )
            ).scalars()
        )
        invention, utility = assets
        ends_on = date(licence_day.year + 3, licence_day.month, min(licence_day.day, 28))
        for asset, kind, licensee, use, upfront_fen, royalty_bps in (
            (invention, "non_exclusive", ("Ningde Demo Cells Co., Ltd.", "350900", 51), "EV traction batteries",
             80_000_00, 300),
            (invention, "open", None, "Consumer electronics batteries", 0, 200),
            (utility, "exclusive", ("Foshan Demo Storage Co., Ltd.", "440600", 52), "Home energy storage",
             50_000_00, 500),
        ):  # fmt: skip
            granted = await licences.grant_licence(
                unit,
                made.pool_id,
                agency_id,
                licences.LicenceSpec(
                    asset_id=asset.id,
                    kind=kind,
                    licensee=None
                    if licensee is None
                    else licences.Licensee(licensee[0], credit_code(licensee[1], licensee[2])),
                    territory="中国大陆 Mainland China",
                    field_of_use=use,
                    upfront_fen=upfront_fen,
                    running_royalty_bps=royalty_bps,
                    starts_on=licence_day,
                    ends_on=ends_on,
                ),
            )
            made.licence_ids.append(granted.id)

    def royalty(day: date, amount_fen: int, index: int) -> Step:
        async def work(unit: UnitOfWork) -> None:
            assert made.pool_id is not None
            # The non-exclusive licensee and the exclusive one pay in turns.
            licence_id = made.licence_ids[0] if index % 2 == 0 else made.licence_ids[2]
            await book_revenue(
                unit,
                made.pool_id,
                agency_id,
                RevenueSpec(amount_fen, day, f"DEMO-ROYALTY-{day:%Y-%m}", licence_id),
                policy.recovery_order,
            )

        return Step(_shanghai_morning(day), f"royalties of {day:%Y-%m}", work, agency_id)

    at = registered
    timeline = [
        Step(at, "the pool's source loan", loan, bank_id),
        Step(at + timedelta(seconds=GAP_S), "its default", default, bank_id),
        Step(at + timedelta(seconds=2 * GAP_S), "the agency's pool", pool, agency_id),
        Step(at + timedelta(seconds=3 * GAP_S), "a buyout offer with an earn-out", offer, agency_id),
        # The accept is the sale by DvP: the price is split by the waterfall in the same transaction.
        Step(at + timedelta(seconds=4 * GAP_S), "the bank accepts it; the proceeds split", accept, bank_id),
        Step(licensed, "three licences", licence_all, agency_id),
    ]
    days = [day for day in _royalty_days(today_of(now)) if _shanghai_morning(day) > licensed]
    return timeline + [
        royalty(day, amount_fen, index)
        for index, (day, amount_fen) in enumerate(zip(days, ROYALTIES_FEN, strict=False))
    ]
