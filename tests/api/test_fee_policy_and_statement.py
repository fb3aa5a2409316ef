from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.api.auction_support import AuctionHouse
from tests.conftest import FakeClock, Market


async def test_fee_policy_shows_the_waiver_window_and_the_schedule(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])

    policy = (await client.get("/api/v1/fee-policy", headers=bank)).json()

    assert policy["waiver"]["start"] == "2025-03-01"
    assert policy["waiver"]["end_exclusive"] == "2028-03-01"
    assert policy["waiver"]["last_day"] == "2028-02-29"
    assert policy["waiver"]["years"] == 3
    assert "金发〔2025〕10号" in policy["waiver"]["source"]
    assert [
        (i["item"], i["payers"], i["rate_bps"], i["flat"], i["minimum"], i["maximum"])
        for i in policy["schedule"]
    ] == [
        ("registration", ["seller"], 0, "200.00", "0.00", None),
        ("listing", ["seller"], 1, "0.00", "1000.00", "50000.00"),
        ("transaction", ["seller", "buyer"], 2, "0.00", "500.00", "100000.00"),
    ]


async def test_statement_lists_the_days_movements_between_opening_and_closing_balances(
    house: AuctionHouse, clock: FakeClock, market: Market
) -> None:
    # 2026-03-10 23:30 in Shanghai is 15:30 UTC; the next movement falls on the 11th in Shanghai.
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    bidder_id, bidder = await market.participant(["bidder"], funds="1000.00")
    clock.set(datetime(2026, 3, 10, 15, 29, tzinfo=UTC))
    await market.fund(bidder_id, "250.00")
    _, seller = await house.bank()
    auction = await house.create(seller)
    clock.advance(1)  # movements in one instant are listed by transfer id; a second apart, by time
    await house.register(auction["id"], bidder)
    clock.set(datetime(2026, 3, 10, 16, 1, tzinfo=UTC))
    await market.fund(bidder_id, "5.00")

    day = (await house.http.get("/api/v1/participants/me/statement?date=2026-03-10", headers=bidder)).json()
    next_day = (
        await house.http.get("/api/v1/participants/me/statement?date=2026-03-11", headers=bidder)
    ).json()
    bad = await house.http.get("/api/v1/participants/me/statement?date=2026-02-30", headers=bidder)

    assert day["opening"] == {"available": "1000.00", "held": "0.00"}
    assert [(line["code"], line["account"], line["amount"]) for line in day["lines"]] == [
        ("funds", "available", "250.00"),
        ("deposit_hold", "available", "-100.00"),
        ("deposit_hold", "held", "100.00"),
    ]
    assert day["closing"] == {"available": "1150.00", "held": "100.00"}
    assert next_day["opening"] == day["closing"]
    assert next_day["closing"] == {"available": "1155.00", "held": "100.00"}
    assert bad.status_code == 422
