"""Clearing: the waiver at its boundaries through the API, reconciliation breaks, scheduler jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.scheduler import fail_overdue_trades
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import negotiated_trade, post_ok, register_loan

NON_IP = [
    {
        "kind": "equipment",
        "registry_number": "EQ-2024-77",
        "title": "Coating line",
        "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "appraisal": "900000.00",
        "appraised_on": "2024-12-01",
    }
]


async def _trade_at(house: AuctionHouse, instant: datetime, *, collateral: Any = None) -> dict[str, Any]:
    house.clock.set(instant)
    _, bank = await house.market.participant(["bank"])
    _, buyer = await house.market.participant(["bank"])
    overrides = {"collateral": collateral} if collateral else {}
    loan = await register_loan(house.http, bank, **overrides)
    return await negotiated_trade(house.http, loan["id"], bank, buyer)


@pytest.mark.parametrize(
    ("instant", "trade_date", "waived"),
    [
        # The waiver starts on 2025-03-01 in Shanghai, which begins at 2025-02-28T16:00Z.
        (datetime(2025, 2, 28, 15, 59, 59, tzinfo=UTC), "2025-02-28", False),
        (datetime(2025, 2, 28, 16, 0, 0, tzinfo=UTC), "2025-03-01", True),
        # The last day inside is 2028-02-29 (a leap day); 2028-03-01 Shanghai starts at 2028-02-29T16:00Z.
        (datetime(2028, 2, 29, 15, 59, 59, tzinfo=UTC), "2028-02-29", True),
        (datetime(2028, 2, 29, 16, 0, 0, tzinfo=UTC), "2028-03-01", False),
    ],
)
async def test_waiver_boundaries_on_the_shanghai_calendar(
    house: AuctionHouse, instant: datetime, trade_date: str, waived: bool
) -> None:
    trade = await _trade_at(house, instant)

    assert trade["trade_date"] == trade_date
    assert trade["is_ip_pledge"] is True
    rules = {f["rule"] for f in trade["fees"]}
    charged = sum(int(f["charged"].replace(".", "")) for f in trade["fees"])
    if waived:
        assert (rules, charged) == ({"ip_pledge_waiver_2025"}, 0)
    else:
        assert rules == {"schedule"}
        assert charged == 200_00 + 1_000_00 + 500_00 + 500_00


async def test_a_loan_with_only_non_ip_collateral_is_never_waived(house: AuctionHouse) -> None:
    trade = await _trade_at(house, datetime(2026, 6, 1, 2, 0, tzinfo=UTC), collateral=NON_IP)

    assert trade["is_ip_pledge"] is False
    assert {f["rule"] for f in trade["fees"]} == {"schedule"}


async def test_reconciliation_names_each_kind_of_break(house: AuctionHouse) -> None:
    trade = await _trade_at(house, datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    clearing = await house.market.clearing()
    await house.market.fund(trade["buyer_id"], "600000.00")
    await post_ok(house.http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, status=200)
    url = "/api/v1/clearing/reconciliation?date=2026-06-01"
    assert (await house.http.get(url, headers=clearing)).json()["clean"] is True

    async with house.context.database.write_engine.begin() as connection:
        await connection.execute(
            text("UPDATE fee_lines SET charged_fen = 100, waived_fen = gross_fen - 100 WHERE id = 1")
        )
        await connection.execute(
            text("DELETE FROM ledger_transfers WHERE id LIKE :legs"), {"legs": "trade:%:price"}
        )
        await connection.execute(
            text("UPDATE income_rights SET share_ppm = share_ppm - 1 WHERE share_ppm = 900000")
        )
        await connection.execute(
            text("UPDATE accounts SET balance_fen = balance_fen + 7 WHERE key = 'center:escrow'")
        )

    report = (await house.http.get(url, headers=clearing)).json()

    kinds = {b["kind"] for b in report["breaks"]}
    assert report["clean"] is False
    assert kinds >= {
        "settled_trade_without_ledger_legs",
        "fee_waiver_exception",
        "fee_lines_do_not_match_trade",
        "ownership_not_whole",
        "ledger_not_zero",
        "balance_does_not_match_transfers",
    }
    assert report["ledger_sum"] == "0.07"


async def test_subscription_book_closes_at_its_time_by_the_scheduler(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"])
    _, buyer = await house.market.participant(["bank"])
    loan = await register_loan(house.http, bank)
    closes_at = house.clock() + timedelta(minutes=30)
    book = await post_ok(
        house.http,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "subscription",
            "share_ppm": 200_000,
            "asking_price": "400000.00",
            "min_unit_ppm": 50_000,
            "closes_at": closes_at.isoformat(),
        },
        bank,
    )
    await post_ok(house.http, f"/api/v1/listings/{book['id']}/offers", {"share_ppm": 100_000}, buyer)

    house.clock.set(closes_at - timedelta(seconds=1))
    await house.tick()
    assert (await house.http.get(f"/api/v1/listings/{book['id']}", headers=bank)).json()["status"] == "open"
    house.clock.set(closes_at)
    await house.tick()

    assert (await house.http.get(f"/api/v1/listings/{book['id']}", headers=bank)).json()["status"] == "closed"
    trades = (await house.http.get(f"/api/v1/trades?listing_id={book['id']}", headers=buyer)).json()["items"]
    assert [(t["share_ppm"], t["price"]) for t in trades] == [(100_000, "200000.00")]
    late = await house.http.post(
        f"/api/v1/listings/{book['id']}/offers", json={"share_ppm": 50_000}, headers=buyer
    )
    assert late.status_code == 409


async def test_trades_unsettled_past_their_due_date_fail(house: AuctionHouse) -> None:
    # Friday 2026-06-05 (Shanghai): T+3 business days is Wednesday 2026-06-10.
    trade = await _trade_at(house, datetime(2026, 6, 5, 2, 0, tzinfo=UTC))
    assert trade["settlement_due_on"] == "2026-06-10"
    clearing = await house.market.clearing()

    house.clock.set(datetime(2026, 6, 10, 15, 0, tzinfo=UTC))  # 23:00 on the due date in Shanghai
    await fail_overdue_trades(house.context)
    assert (await house.http.get(f"/api/v1/trades/{trade['id']}", headers=clearing)).json()[
        "status"
    ] == "pending"
    house.clock.set(datetime(2026, 6, 10, 16, 0, tzinfo=UTC))  # the next day in Shanghai
    await fail_overdue_trades(house.context)

    failed = (await house.http.get(f"/api/v1/trades/{trade['id']}", headers=clearing)).json()
    assert failed["status"] == "failed"
    refused = await house.http.post(f"/api/v1/trades/{trade['id']}/settle", json={}, headers=clearing)
    assert (refused.status_code, refused.json()["code"]) == (409, "trade_not_pending")
