"""Migration 0006 backfills each existing trade's fee totals from its fee lines, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from alembic import command
from sqlalchemy import MetaData, Table, insert, select

from app.db import create_database
from app.migrate import alembic_config
from transfer.models.loans import Loan
from transfer.models.market import FeeLine, Listing, Trade

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _line(trade_id: int, item: str, payer: str, gross_fen: int, waived_fen: int) -> dict[str, Any]:
    return {
        "trade_id": trade_id,
        "item": item,
        "payer": payer,
        "payer_id": 1 if payer == "seller" else 2,
        "gross_fen": gross_fen,
        "waived_fen": waived_fen,
        "charged_fen": gross_fen - waived_fen,
        "rule": "ip_pledge_waiver_2025" if waived_fen else "schedule",
    }


async def _seed_trades_as_0005_stored_them(url: str) -> None:
    """Three trades: one charged, one waived, one without fee lines (totals must come out zero)."""
    database = create_database(url, null_pool=True)
    common = {"created_at": AT}
    try:
        async with database.write_engine.begin() as connection:
            # The table as 0005 stored it (its key columns moved to api_keys in 0019).
            participants = await connection.run_sync(
                lambda sync: Table("participants", MetaData(), autoload_with=sync)
            )
            await connection.execute(
                insert(participants),
                [
                    {
                        "id": i,
                        "name": f"P{i}",
                        "roles": "bank",
                        "qualified_investor": True,
                        "api_key_sha256": f"{i:064d}",
                        "api_key_prefix": "test",
                        "active": True,
                        **common,
                    }
                    for i in (1, 2)
                ],
            )
            await connection.execute(
                insert(Loan).values(
                    id=1,
                    creditor_id=1,
                    originator_id=1,
                    servicer_id=1,
                    borrower_name="B",
                    borrower_credit_code="914403001922038216",
                    principal_fen=100,
                    outstanding_principal_fen=100,
                    rate_bps=385,
                    originated_on=date(2025, 1, 10),
                    matures_on=date(2028, 1, 10),
                    status="performing",
                    **common,
                )
            )
            await connection.execute(
                insert(Listing).values(
                    id=1,
                    loan_id=1,
                    seller_id=1,
                    kind="income_right",
                    mode="negotiated",
                    share_ppm=1000,
                    asking_price_fen=100,
                    min_unit_ppm=1,
                    status="matched",
                    holders_consent=False,
                    offer_count=1,
                    **common,
                )
            )
            trades = Trade.__table__
            assert isinstance(trades, Table)
            await connection.execute(
                insert(trades),
                [
                    {
                        "id": trade_id,
                        "listing_id": 1,
                        "loan_id": 1,
                        "kind": "income_right",
                        "seller_id": 1,
                        "buyer_id": 2,
                        "share_ppm": 1000,
                        "price_fen": 100,
                        "is_ip_pledge": trade_id == 2,
                        "trade_date": date(2026, 6, 1),
                        "settlement_due_on": date(2026, 6, 4),
                        "status": "pending",
                        **common,
                    }
                    for trade_id in (1, 2, 3)
                ],
            )
            await connection.execute(
                insert(FeeLine),
                [
                    _line(1, "registration", "seller", 20_000, 0),
                    _line(1, "transaction", "seller", 50_000, 0),
                    _line(1, "transaction", "buyer", 50_000, 0),
                    _line(2, "registration", "seller", 20_000, 20_000),
                    _line(2, "transaction", "buyer", 50_000, 50_000),
                ],
            )
    finally:
        await database.dispose()


async def _stored_totals(url: str) -> dict[int, tuple[int, int, int, int]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.read() as session:
            rows = await session.execute(
                select(
                    Trade.id,
                    Trade.fee_line_count,
                    Trade.seller_fees_charged_fen,
                    Trade.buyer_fees_charged_fen,
                    Trade.fees_waived_fen,
                ).order_by(Trade.id)
            )
            return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}
    finally:
        await database.dispose()


def test_existing_trades_get_the_totals_of_their_fee_lines(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0005")
    asyncio.run(_seed_trades_as_0005_stored_them(fresh_url))

    command.upgrade(config, "head")

    assert asyncio.run(_stored_totals(fresh_url)) == {
        1: (3, 70_000, 50_000, 0),
        2: (2, 0, 0, 70_000),
        3: (0, 0, 0, 0),
    }
    # And back and forth: the downgrade drops the columns, the upgrade computes them again.
    command.downgrade(config, "0005")
    command.upgrade(config, "head")
    assert asyncio.run(_stored_totals(fresh_url))[1] == (3, 70_000, 50_000, 0)
