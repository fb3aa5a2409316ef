"""Delivery versus payment: all or nothing, once only; eligibility refusals name the rule."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text, update

from tests.api.auction_support import AuctionHouse
from tests.api.market_support import post_ok, register_loan
from transfer.models.loans import IncomeRight

TABLES = ("trades", "fee_lines", "income_rights", "loans", "ledger_transfers", "accounts", "borrower_notices")


async def _snapshot(house: AuctionHouse) -> dict[str, Any]:
    snapshot = {}
    async with house.context.database.read() as session:
        for table in TABLES:
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            snapshot[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return snapshot


async def _negotiated_trade(
    house: AuctionHouse, *, buyer_funds: str, price: str = "800000.00"
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    http, market = house.http, house.market
    _, bank = await market.participant(["bank"], name="Seller bank")
    _, buyer = await market.participant(["bank"], funds=buyer_funds, name="Buyer bank")
    loan = await register_loan(http, bank)
    listing = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 250_000,
            "asking_price": price,
        },
        bank,
    )
    offer = await post_ok(http, f"/api/v1/listings/{listing['id']}/offers", {"price": price}, buyer)
    trade = await post_ok(http, f"/api/v1/offers/{offer['id']}/accept", {}, bank)
    return trade, bank, buyer


async def test_insufficient_funds_leave_every_table_unchanged_and_say_by_how_much(
    house: AuctionHouse,
) -> None:
    trade, _, _ = await _negotiated_trade(house, buyer_funds="500000.00")
    clearing = await house.market.clearing()
    before = await _snapshot(house)

    refused = await house.http.post(f"/api/v1/trades/{trade['id']}/settle", json={}, headers=clearing)

    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["shortfall"]) == ("insufficient_funds", "300000.00")
    assert await _snapshot(house) == before


async def test_concurrent_settlement_of_one_trade_settles_it_once(house: AuctionHouse) -> None:
    trade, bank, buyer = await _negotiated_trade(house, buyer_funds="5000000.00")
    clearing = await house.market.clearing()

    answers = await asyncio.gather(
        *(
            house.http.post(f"/api/v1/trades/{trade['id']}/settle", json={}, headers=clearing)
            for _ in range(8)
        )
    )

    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"trade_not_pending"}
    assert await house.market.balances(buyer) == {"available": "4200000.00", "held": "0.00"}
    assert await house.market.balances(bank) == {"available": "800000.00", "held": "0.00"}
    assert await house.ledger_sum() == 0


async def test_eligibility_refusals_name_the_rule(house: AuctionHouse) -> None:
    http, market = house.http, house.market
    _, bank = await market.participant(["bank"])
    _, plain = await market.participant(["bank"], name="Not qualified")
    _, qualified = await market.participant(["bank"], qualified_investor=True, name="Qualified")
    npl = await register_loan(http, bank, status="non_performing")
    listing = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": npl["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "1.00",
        },
        bank,
    )

    own = await http.post(f"/api/v1/listings/{listing['id']}/offers", json={"price": "1.00"}, headers=bank)
    unqualified = await http.post(
        f"/api/v1/listings/{listing['id']}/offers", json={"price": "1.00"}, headers=plain
    )
    allowed = await http.post(
        f"/api/v1/listings/{listing['id']}/offers", json={"price": "1.00"}, headers=qualified
    )
    whole_by_stranger = await http.post(
        "/api/v1/listings",
        json={"loan_id": npl["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "1.00"},
        headers=plain,
    )
    too_much = await http.post(
        "/api/v1/listings",
        json={
            "loan_id": npl["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 1_000_001,
            "asking_price": "1.00",
        },
        headers=bank,
    )

    assert (own.status_code, own.json()["code"]) == (403, "seller_cannot_buy")
    assert (unqualified.status_code, unqualified.json()["code"]) == (403, "qualified_investor_required")
    assert allowed.status_code == 201
    assert (whole_by_stranger.status_code, whole_by_stranger.json()["code"]) == (403, "not_creditor")
    assert too_much.status_code == 422


async def test_whole_loan_with_other_holders_needs_their_consent(house: AuctionHouse) -> None:
    trade, bank, buyer = await _negotiated_trade(house, buyer_funds="5000000.00")
    await post_ok(
        house.http, f"/api/v1/trades/{trade['id']}/settle", {}, await house.market.clearing(), status=200
    )

    refused = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": trade["loan_id"],
            "kind": "whole_loan",
            "mode": "negotiated",
            "asking_price": "1000.00",
        },
        headers=bank,
    )
    consented = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": trade["loan_id"],
            "kind": "whole_loan",
            "mode": "negotiated",
            "asking_price": "1000.00",
            "holders_consent": True,
        },
        headers=bank,
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "income_rights_held_by_others")
    assert consented.status_code == 201
    assert consented.json()["share_ppm"] == 750_000
    assert buyer


async def test_whole_loan_trade_does_not_settle_once_the_sellers_share_changed(house: AuctionHouse) -> None:
    """A whole loan listed with the creditor's whole register share, then part of that share
    moved: the whole-loan trade would hand over less than it was priced for, so it is refused and
    nothing moves (the stateful market test's replay of settled trades holds the same line). The
    market no longer lets the seller list that part while the whole-loan trade is pending
    (share_already_listed), so the register is changed underneath, as a path outside the market
    or a listing older than that rule could have changed it."""
    http, market = house.http, house.market
    seller_id, bank = await market.participant(["bank"], name="Seller bank")
    whole_buyer_id, whole_buyer = await market.participant(
        ["bank"], funds="5000000.00", name="Buyer of the loan"
    )
    share_buyer_id, _ = await market.participant(["bank"], funds="5000000.00", name="Buyer of a share")
    clearing = await market.clearing()
    loan = await register_loan(http, bank)
    whole = await post_ok(
        http,
        "/api/v1/listings",
        {"loan_id": loan["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "3000000.00"},
        bank,
    )
    assert whole["share_ppm"] == 1_000_000
    offer = await post_ok(
        http, f"/api/v1/listings/{whole['id']}/offers", {"price": "3000000.00"}, whole_buyer
    )
    whole_trade = await post_ok(http, f"/api/v1/offers/{offer['id']}/accept", {}, bank)
    share = {
        "loan_id": loan["id"],
        "kind": "income_right",
        "mode": "negotiated",
        "share_ppm": 300_000,
        "asking_price": "900000.00",
    }
    listed = await http.post("/api/v1/listings", json=share, headers=bank)
    assert (listed.status_code, listed.json()["code"]) == (409, "share_already_listed"), listed.text
    async with house.context.database.write() as session, session.begin():
        await session.execute(
            update(IncomeRight)
            .where(IncomeRight.loan_id == loan["id"], IncomeRight.holder_id == seller_id)
            .values(share_ppm=700_000)
        )
        session.add(IncomeRight(loan_id=loan["id"], holder_id=share_buyer_id, share_ppm=300_000))

    before = await _snapshot(house)
    refused = await http.post(f"/api/v1/trades/{whole_trade['id']}/settle", json={}, headers=clearing)
    assert (refused.status_code, refused.json()["code"]) == (409, "seller_share_changed"), refused.text
    assert await _snapshot(house) == before
    assert await market.balances(whole_buyer) == {"available": "5000000.00", "held": "0.00"}
    view = (await http.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert view["creditor_id"] != whole_buyer_id
    assert sorted(r["share_ppm"] for r in view["income_rights"]) == [300_000, 700_000]
