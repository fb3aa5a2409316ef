"""Trades: created when a listing matches, with their fee lines; settled delivery versus payment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.unit_of_work import UnitOfWork
from transfer.market.policy import MarketPolicy
from transfer.models.market import FeeLine, Listing, Trade
from transfer.rules.fee_schedule import DEFAULT_FEE_SCHEDULE
from transfer.rules.fee_waiver import compute_fee_lines, shanghai_trade_date


async def create_trade(
    unit: UnitOfWork,
    listing: Listing,
    *,
    buyer_id: int,
    share_ppm: int,
    price_fen: int,
    is_ip_pledge: bool,
    policy: MarketPolicy,
    offer_id: int | None = None,
) -> Trade:
    trade_date = shanghai_trade_date(unit.now)
    lines = compute_fee_lines(
        price_fen,
        trade_date,
        DEFAULT_FEE_SCHEDULE,
        is_ip_pledge=is_ip_pledge,
        waiver_start=policy.fee_waiver_start,
        waiver_years=policy.fee_waiver_years,
    )
    trade = Trade(
        listing_id=listing.id,
        offer_id=offer_id,
        loan_id=listing.loan_id,
        kind=listing.kind,
        seller_id=listing.seller_id,
        buyer_id=buyer_id,
        share_ppm=share_ppm,
        price_fen=price_fen,
        is_ip_pledge=is_ip_pledge,
        trade_date=trade_date,
        settlement_due_on=policy.calendar.add_working_days(trade_date, policy.settlement_days),
        status="pending",
        created_at=unit.now,
        fee_line_count=len(lines),
        seller_fees_charged_fen=sum(line.charged_fen for line in lines if line.payer == "seller"),
        buyer_fees_charged_fen=sum(line.charged_fen for line in lines if line.payer == "buyer"),
        fees_waived_fen=sum(line.waived_fen for line in lines),
    )
    unit.session.add(trade)
    await unit.session.flush()
    unit.session.add_all(
        FeeLine(
            trade_id=trade.id,
            item=line.item,
            payer=line.payer,
            payer_id=listing.seller_id if line.payer == "seller" else buyer_id,
            gross_fen=line.gross_fen,
            waived_fen=line.waived_fen,
            charged_fen=line.charged_fen,
            rule=line.rule,
        )
        for line in lines
    )
    await unit.session.flush()
    unit.record(
        "trade.created",
        f"trade:{trade.id}",
        {
            "listing_id": listing.id,
            "loan_id": listing.loan_id,
            "kind": listing.kind,
            "seller_id": listing.seller_id,
            "buyer_id": buyer_id,
            "share_ppm": share_ppm,
            "price_fen": price_fen,
            "trade_date": trade_date.isoformat(),
            "is_ip_pledge": is_ip_pledge,
            "fees_charged_fen": trade.seller_fees_charged_fen + trade.buyer_fees_charged_fen,
            "fees_waived_fen": trade.fees_waived_fen,
        },
    )
    return trade


async def fee_lines_of(session: AsyncSession, trade_id: int) -> list[FeeLine]:
    rows = await session.execute(select(FeeLine).where(FeeLine.trade_id == trade_id).order_by(FeeLine.id))
    return list(rows.scalars())
