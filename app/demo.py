"""A demo market for a local try-out: known demo keys, funded bidders. Never for production."""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from sqlalchemy import select

from app.context import AppContext
from auction.creation import AuctionSpec, create_auction
from auction.models import Auction
from auction.registration import register
from transfer import ledger
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.listings import ListingSpec, create_listing
from transfer.models.loans import Loan
from transfer.registry import participants
from transfer.registry.loans import CollateralSpec, LoanSpec, register_loan

log = structlog.get_logger("ipx.demo")

# (name, roles, API key, opening funds in fen). Fixed keys so the README's curl lines just work.
DEMO_PARTICIPANTS = (
    ("Demo Admin", ["admin"], "ipx_demo_admin_key_0000000000", 0),
    ("Demo Clearing Desk", ["clearing"], "ipx_demo_clearing_key_00000000", 0),
    ("Demo Bank of Hangzhou", ["bank"], "ipx_demo_bank_key_000000000000", 50_000_000_00),
    ("Demo Bidder Alpha AMC", ["bidder", "bank"], "ipx_demo_bidder_a_key_00000000", 20_000_000_00),
    ("Demo Bidder Beta Trust", ["bidder"], "ipx_demo_bidder_b_key_00000000", 20_000_000_00),
    ("Demo IP Operating Agency", ["agency", "bidder"], "ipx_demo_agency_key_0000000000", 30_000_000_00),
)


async def seed_demo_market(context: AppContext) -> list[tuple[str, str]]:
    """Create the demo participants once; later starts find them and change nothing."""

    async def work(unit: UnitOfWork) -> list[tuple[str, str]]:
        seeded = []
        for name, roles, api_key, funds_fen in DEMO_PARTICIPANTS:
            existing = await participants.find_by_api_key(unit.session, api_key)
            if existing is None:
                created = await participants.create_participant(
                    unit, name=name, roles=roles, api_key=api_key, qualified_investor="bidder" in roles
                )
                if funds_fen:
                    await ledger.record_funds(unit, created.participant.id, funds_fen, "demo-opening-balance")
            seeded.append((name, api_key))
        return seeded

    seeded = await context.transact(work, actor_id=None)
    for name, api_key in seeded:
        log.info("demo participant", name=name, api_key=api_key)
    await _seed_demo_auction(context)
    await _seed_demo_loans(context)
    return seeded


async def _seed_demo_loans(context: AppContext) -> None:
    """Two IP-pledge loans of the demo bank, and 30 % of the first one's income right on offer by
    subscription (closing in a day), so the transfer center has something to trade."""

    async def work(unit: UnitOfWork) -> int | None:
        bank = await participants.find_by_api_key(unit.session, DEMO_PARTICIPANTS[2][2])
        assert bank is not None
        if (await unit.session.execute(select(Loan.id).where(Loan.originator_id == bank.id))).first():
            return None
        loan_ids = []
        for number, (kind, registry_number, title) in enumerate(
            (
                ("invention_patent", "ZL202010000001.X", "Ceramic-coated lithium battery separator"),
                ("trademark", "TM-12345678", "锂安 trademark, class 9"),
            )
        ):
            view = await register_loan(
                unit,
                bank.id,
                LoanSpec(
                    borrower_name=f"Demo Borrower {number + 1} Co., Ltd.",
                    borrower_credit_code="914403001922038216",
                    principal_fen=5_000_000_00,
                    outstanding_principal_fen=4_000_000_00,
                    rate_bps=385,
                    originated_on=date(2025, 1, 10),
                    matures_on=date(2028, 1, 10),
                    status="performing",
                    collateral=[
                        CollateralSpec(
                            kind, registry_number, title, "Demo Borrower", 3_000_000_00, date(2024, 12, 1)
                        )
                    ],
                ),
            )
            loan_ids.append(view.loan.id)
        await create_listing(
            unit,
            bank.id,
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
        return loan_ids[0]

    first_loan = await context.transact(work, actor_id=None)
    if first_loan is not None:
        log.info(
            "demo loans", first_loan_id=first_loan, subscription="30 % of its income right, closes in a day"
        )


async def _seed_demo_auction(context: AppContext) -> None:
    """One live English auction of a pledged patent, with both demo bidders registered."""

    async def work(unit: UnitOfWork) -> int | None:
        bank = await participants.find_by_api_key(unit.session, DEMO_PARTICIPANTS[2][2])
        assert bank is not None
        if (await unit.session.execute(select(Auction.id).where(Auction.seller_id == bank.id))).first():
            return None
        policy = context.auction_policy
        starts_at = unit.now + timedelta(seconds=max(60, policy.min_notice_s))
        spec = AuctionSpec(
            kind="english",
            lot_title="Invention patent ZL2019 1 0123456.7 — lithium battery separator (pledged, loan in default)",
            lot_description="Disposal of the pledged patent of a defaulted IP-pledge loan; appraisal 1,850,000.00",
            start_price_fen=1_300_000_00,  # 70 % of appraisal, 规定第10条
            increment_fen=10_000_00,
            deposit_fen=130_000_00,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(seconds=max(86_400, policy.min_duration_s)),
            reserve_price_fen=1_500_000_00,
        )
        auction = await create_auction(unit, bank.id, spec, policy)
        for _, _, api_key, _ in (DEMO_PARTICIPANTS[3], DEMO_PARTICIPANTS[4]):
            bidder = await participants.find_by_api_key(unit.session, api_key)
            assert bidder is not None
            await register(unit, auction.id, bidder.id, policy)
        return auction.id

    auction_id = await context.transact(work, actor_id=None)
    if auction_id is not None:
        log.info("demo auction", auction_id=auction_id, opens_in_s=60)
