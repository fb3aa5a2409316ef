"""A fee-waiver history of a few hundred trades over the past six months: three institutions trade
shares of six loans' income rights on China's working days, each trade listed, offered, accepted
and settled delivery versus payment through the market services on its day, so every trade has
its fee lines and the clearing desk's charts have a bar for each month and each institution."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo.loans import DemoBorrower, DemoItem, register_demo_loan
from app.demo.participants import BANK_B_KEY, BANK_KEY, BIDDER_A_KEY, DemoIds
from app.demo.timeline import Step, Work, today_of
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.listings import ListingSpec, accept_offer, create_listing, make_offer
from transfer.market.settlement import settle_trade
from transfer.models.loans import CollateralItem
from transfer.rules.fee_waiver import SHANGHAI
from transfer.rules.shares import WHOLE_SHARE_PPM

HISTORY_DAYS = 182
REGISTERED_AGO_S = 205 * 86_400
TRADES_PER_DAY = (1, 2, 2, 3, 3)  # drawn from, per working day: about 2.2 a day, ~270 in all
SHARES_PPM = (10_000, 20_000, 30_000, 50_000)
SEED = 16  # the same history for the same day
FIRST_REGISTRY_NUMBER = "TM-FH-2020-0001"

LOANS = (
    (BANK_KEY, DemoBorrower("Hangzhou Silk Road Apparel Co., Ltd.", "330100", 61),
     DemoItem("trademark", FIRST_REGISTRY_NUMBER, "丝路 apparel trademark, class 25", 3_500_000_00), 4_000_000_00),
    (BANK_KEY, DemoBorrower("Hefei Quantum Sensing Co., Ltd.", "340100", 62),
     DemoItem("invention_patent", "ZL201910000062.4", "Cold-atom gravimeter", 5_200_000_00, 7), 6_000_000_00),
    (BANK_KEY, DemoBorrower("Chengdu Pixel Games Co., Ltd.", "510100", 63),
     DemoItem("software_copyright", "2020SR0000063", "Pixel Kingdom game engine V2", 2_600_000_00), 3_000_000_00),
    (BANK_B_KEY, DemoBorrower("Wuxi Micro Motors Co., Ltd.", "320200", 64),
     DemoItem("utility_patent", "ZL202120000064.0", "Brushless micro-motor rotor", 1_900_000_00, 3), 2_500_000_00),
    (BANK_B_KEY, DemoBorrower("Nanjing Ink Culture Co., Ltd.", "320100", 65),
     DemoItem("copyright", "GZ-2021-A-0000065", "水墨 animation series", 2_300_000_00), 2_800_000_00),
    (BANK_B_KEY, DemoBorrower("Qingdao Ocean Foods Co., Ltd.", "370200", 66),
     DemoItem("trademark", "TM-FH-2019-0066", "海韵 seafood trademark, class 29", 4_100_000_00), 5_000_000_00),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlannedTrade:
    loan_index: int
    seller_key: str
    buyer_key: str
    share_ppm: int
    price_fen: int


@dataclass
class _Made:
    loan_ids: list[int] = field(default_factory=list)


async def seeded(session: AsyncSession, ids: DemoIds) -> bool:
    found = await session.execute(
        select(CollateralItem.id).where(CollateralItem.registry_number == FIRST_REGISTRY_NUMBER).limit(1)
    )
    return found.first() is not None


def planned_trades(context: AppContext, today: date) -> list[tuple[date, list[PlannedTrade]]]:
    """Who sells what to whom on each working day: shares each seller holds at that point."""
    rng = random.Random(SEED)
    traders = (BANK_KEY, BANK_B_KEY, BIDDER_A_KEY)
    holdings = [{creditor: WHOLE_SHARE_PPM} for creditor, _, _, _ in LOANS]
    days = []
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=back)
        if not context.calendar.is_working_day(day):
            continue
        trades = []
        for _ in range(rng.choice(TRADES_PER_DAY)):
            loan_index = rng.randrange(len(LOANS))
            held = holdings[loan_index]
            share_ppm = rng.choice(SHARES_PPM)
            sellers = sorted(key for key, ppm in held.items() if ppm >= share_ppm)
            seller = rng.choice(sellers)
            buyer = rng.choice([key for key in traders if key != seller])
            outstanding_fen = LOANS[loan_index][3]
            # Near par: 96.00 % to 100.99 % of the share's outstanding principal.
            price_fen = (
                outstanding_fen * share_ppm // WHOLE_SHARE_PPM * (9_600 + rng.randrange(500)) // 10_000
            )
            held[seller] -= share_ppm
            held[buyer] = held.get(buyer, 0) + share_ppm
            trades.append(PlannedTrade(loan_index, seller, buyer, share_ppm, price_fen))
        days.append((day, trades))
    return days


def plan(context: AppContext, ids: DemoIds, now: datetime) -> list[Step]:
    made = _Made()
    market_policy = context.market_policy
    rng = random.Random(SEED + 1)

    async def loans(unit: UnitOfWork) -> None:
        for creditor_key, borrower, item, outstanding_fen in LOANS:
            view = await register_demo_loan(
                unit,
                context,
                ids[creditor_key],
                borrower,
                [item],
                principal_fen=outstanding_fen * 6 // 5,
                outstanding_fen=outstanding_fen,
            )
            made.loan_ids.append(view.loan.id)

    def trading_day(trades: list[PlannedTrade]) -> Work:
        async def work(unit: UnitOfWork) -> None:
            for trade in trades:
                listing = await create_listing(
                    unit,
                    ids[trade.seller_key],
                    ListingSpec(
                        loan_id=made.loan_ids[trade.loan_index],
                        kind="income_right",
                        mode="negotiated",
                        asking_price_fen=trade.price_fen,
                        share_ppm=trade.share_ppm,
                    ),
                )
                offer = await make_offer(
                    unit, listing.id, ids[trade.buyer_key], price_fen=trade.price_fen, share_ppm=None
                )
                matched = await accept_offer(unit, offer.id, ids[trade.seller_key], market_policy)
                await settle_trade(unit, matched.id)

        return work

    steps = [Step(now - timedelta(seconds=REGISTERED_AGO_S), "the traded loans", loans, None)]
    for day, trades in planned_trades(context, today_of(now)):
        # Between 09:30 and 15:30 in Shanghai, so every trade falls on its Shanghai date.
        at = datetime.combine(day, time(9, 30), SHANGHAI) + timedelta(minutes=rng.randrange(360))
        steps.append(Step(at.astimezone(UTC), f"{len(trades)} trade(s) on {day}", trading_day(trades), None))
    return steps
