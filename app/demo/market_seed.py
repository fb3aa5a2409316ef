"""The present-day market: two loans of the demo bank, 30 % of the first one's income right on offer
by subscription (closing in a day), and one English auction of a pledged patent opening in a minute
with two demo bidders registered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo.loans import DemoBorrower, DemoItem, register_demo_loan
from app.demo.participants import BANK_KEY, BIDDER_A_KEY, BIDDER_B_KEY, DemoIds
from app.demo.timeline import Step
from auction.creation import AuctionSpec, create_auction
from auction.models import Auction
from auction.registration import register
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.listings import ListingSpec, create_listing
from transfer.models.loans import CollateralItem

FIRST_REGISTRY_NUMBER = "ZL202010000001.X"
AUCTION_TITLE = "Invention patent ZL2019 1 0123456.7 — lithium battery separator (pledged, loan in default)"


async def seeded(session: AsyncSession, ids: DemoIds) -> bool:
    loan = await session.execute(
        select(CollateralItem.id).where(CollateralItem.registry_number == FIRST_REGISTRY_NUMBER).limit(1)
    )
    auction = await session.execute(
        select(Auction.id)
        .where(Auction.seller_id == ids[BANK_KEY], Auction.lot_title == AUCTION_TITLE)
        .limit(1)
    )
    return loan.first() is not None and auction.first() is not None


def plan(context: AppContext, ids: DemoIds, now: datetime) -> list[Step]:
    bank_id = ids[BANK_KEY]

    async def loans(unit: UnitOfWork) -> None:
        loan_ids = []
        for number, item in enumerate(
            (
                DemoItem(
                    "invention_patent",
                    FIRST_REGISTRY_NUMBER,
                    "Ceramic-coated lithium battery separator",
                    3_000_000_00,
                    filed_years_ago=6,
                ),
                DemoItem("trademark", "TM-12345678", "锂安 trademark, class 9", 3_000_000_00),
            )
        ):
            view = await register_demo_loan(
                unit,
                context,
                bank_id,
                DemoBorrower(f"Demo Borrower {number + 1} Co., Ltd.", "440300", 1 + number),
                [item],
                principal_fen=5_000_000_00,
                outstanding_fen=4_000_000_00,
            )
            loan_ids.append(view.loan.id)
        await create_listing(
            unit,
            bank_id,
            ListingSpec(
                loan_id=loan_ids[0],
                kind="income_right",
                mode="subscription",
                asking_price_fen=1_200_000_00,
                share_ppm=300_000,
                min_unit_ppm=10_000,
                closes_at=unit.now + timedelta(days=1),
            ),
        )

    async def auction(unit: UnitOfWork) -> None:
        policy = context.auction_policy
        starts_at = unit.now + timedelta(seconds=max(60, policy.min_notice_s))
        spec = AuctionSpec(
            kind="english",
            lot_title=AUCTION_TITLE,
            lot_description="Disposal of the pledged patent of a defaulted IP-pledge loan; appraisal 1,850,000.00",
            start_price_fen=1_300_000_00,  # 70 % of appraisal, 规定第10条
            increment_fen=10_000_00,
            deposit_fen=130_000_00,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(seconds=max(86_400, policy.min_duration_s)),
            reserve_price_fen=1_500_000_00,
        )
        created = await create_auction(unit, bank_id, spec, policy)
        for key in (BIDDER_A_KEY, BIDDER_B_KEY):
            await register(unit, created.id, ids[key], policy)

    return [
        Step(None, "the bank's loans and a subscription book", loans, bank_id),
        Step(None, "an English auction opening in a minute", auction, bank_id),
    ]
