"""Disposal under concurrency: a default racing a settlement, closers racing the winner's payment."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import post_ok
from tests.conftest import Market
from transfer.kernel.audit_tables import AuditEvent

pytestmark = __import__("pytest").mark.db


async def _events(desk: DisposalDesk, kind: str) -> int:
    async with desk.context.database.read() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).select_from(AuditEvent).where(AuditEvent.type == kind)
                )
            ).scalar_one()
        )


async def test_a_default_racing_a_settlement_of_the_same_loan_leaves_one_consistent_truth(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    buyer_id, buyer = await market.participant(["bank"], funds="600000.00")
    loan = await desk.loan(bank)
    listing = await post_ok(
        client,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "500000.00",
        },
        bank,
    )
    offer = await post_ok(client, f"/api/v1/listings/{listing['id']}/offers", {"price": "500000.00"}, buyer)
    trade = await post_ok(client, f"/api/v1/offers/{offer['id']}/accept", {}, bank)
    clearing = await market.clearing()

    settle, default = await asyncio.gather(
        client.post(f"/api/v1/trades/{trade['id']}/settle", json={}, headers=clearing),
        desk.default(loan["id"], bank),
    )

    assert default.status_code == 201, default.text
    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    holders = {right["holder_id"]: right["share_ppm"] for right in loan_after["income_rights"]}
    if settle.status_code == 200:
        assert holders[buyer_id] == 100_000
        assert (await market.balances(buyer))["available"] == "100000.00"
    else:
        assert settle.status_code == 409 and settle.json()["code"] == "loan_defaulted", settle.text
        assert buyer_id not in holders
        assert (await market.balances(buyer))["available"] == "600000.00"
    assert loan_after["status"] == "defaulted"
    await desk.books_are_whole()


async def test_two_closers_and_the_payment_racing_on_a_round_settle_the_case_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank)
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, "700000.00")
    desk.travel_to(step["ends_at"])

    pay = f"/api/v1/auctions/{step['auction_id']}/payments"
    results = await asyncio.gather(desk.tick(), desk.tick(), client.post(pay, json={}, headers=bidder))
    payment = results[2]
    if payment.status_code not in (200, 201):
        # Before the close the bidder is not yet the winner.
        assert payment.status_code == 403 and payment.json()["code"] == "not_the_winner", payment.text
        payment = await client.post(pay, json={}, headers=bidder)
        assert payment.status_code in (200, 201), payment.text
    again = await client.post(pay, json={}, headers=bidder)
    assert again.status_code == 409, again.text

    case = await desk.case(case["id"], bank)
    assert case["state"] == "settled"
    assert await _events(desk, "auction.closed") == 1
    assert await _events(desk, "disposal.settled") == 1
    assert sum(int(line["amount"].replace(".", "")) for line in case["waterfall"]) == 70_000_000
    await desk.books_are_whole()
