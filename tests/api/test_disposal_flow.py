"""A defaulted loan's collateral disposed of end to end, through the HTTP API, with time travel."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import select

from tests.api.disposal_support import DAY_S, DisposalDesk, line_amounts
from tests.conftest import Market
from transfer.models.loans import CollateralTransferTask

pytestmark = __import__("pytest").mark.db


async def test_rounds_default_decline_and_fixed_price_sale_split_to_the_fen(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Creditor Bank")
    h1_id, h1 = await market.participant(["bank"], funds="600000.00", name="Holder One")
    h2_id, h2 = await market.participant(["bank"], funds="600000.00", name="Holder Two")
    _, x = await market.participant(["bidder"], funds="1000000.00", name="Bidder X")
    y_id, y = await market.participant(["bidder"], funds="1000000.00", name="Bidder Y")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, h1)
    await desk.sell_share(loan["id"], bank, h2)

    case = await desk.opened(loan["id"], bank, penalty_interest="10000.00", realization_costs="5000.00")
    case_id = case["id"]
    assert case["state"] == "awaiting_round"
    assert case["claim"] == {
        "principal": "2000000.00",
        "interest": "50000.00",
        "penalty_interest": "10000.00",
        "costs": "5000.00",
        "interest_repaid": "0.00",
        "total": "2065000.00",
    }
    assert [c["state"] for c in case["collateral"]] == ["in_disposal"]
    # The holders read their case.
    assert (await desk.case(case_id, h1))["id"] == case_id

    # Round 1: at least 70 % of the appraisal, announced at least 30 days ahead.
    low = await desk.round(case_id, bank, 30 * DAY_S + 60, start_price="690000.00")
    assert low.status_code == 422 and low.json()["code"] == "start_price_below_minimum", low.text
    assert low.json()["errors"][0]["field"] == "start_price"
    short = await desk.round(case_id, bank, 29 * DAY_S)
    assert short.status_code == 422 and short.json()["code"] == "notice_too_short", short.text
    case = await desk.round_ok(case_id, bank, 30 * DAY_S + 60)
    round_1 = case["steps"][0]
    assert (round_1["kind"], round_1["round"], round_1["start_price"]) == ("round", 1, "700000.00")
    assert case["state"] == "in_round"

    desk.travel_to(round_1["ends_at"])
    await desk.tick()
    case = await desk.case(case_id, bank)
    assert case["state"] == "awaiting_round" and case["steps"][0]["result"] == "unsold"

    # Round 2: cut by at most 20 % of round 1's start, announced at least 15 days ahead.
    deep = await desk.round(case_id, bank, 15 * DAY_S + 60, start_price="550000.00", deposit="55000.00")
    assert deep.status_code == 422 and deep.json()["code"] == "start_price_below_minimum", deep.text
    case = await desk.round_ok(case_id, bank, 15 * DAY_S + 60, deposit="56000.00")
    round_2 = case["steps"][1]
    assert round_2["start_price"] == "560000.00"

    # X wins round 2 and never pays: its deposit joins the proceeds and it is barred from the case.
    assert (await desk.register(round_2["auction_id"], x)).status_code == 201
    desk.travel_to(round_2["starts_at"])
    await desk.bid(round_2["auction_id"], x, "560000.00")
    desk.travel_to(round_2["ends_at"])
    await desk.tick()
    sold = (await client.get(f"/api/v1/auctions/{round_2['auction_id']}", headers=x)).json()
    assert sold["state"] == "awaiting_payment"
    desk.travel_to(sold["payment_due_at"])
    await desk.tick()
    case = await desk.case(case_id, bank)
    assert case["state"] == "take_in_payment_offered"
    assert case["steps"][1]["result"] == "winner_defaulted"
    assert case["proceeds"]["forfeited_deposits"] == "56000.00"
    third = await desk.round(case_id, bank, 15 * DAY_S + 60)
    assert third.status_code == 422 and third.json()["code"] == "no_more_rounds", third.text

    # The creditor declines the collateral: the fixed-price sale opens at once at round 2's start.
    stranger_id, stranger = await market.participant(["bank"])
    refused = await client.post(
        f"/api/v1/disposals/{case_id}/take-in-payment", json={"decision": "decline"}, headers=stranger
    )
    assert refused.status_code == 403, refused.text
    response = await client.post(
        f"/api/v1/disposals/{case_id}/take-in-payment", json={"decision": "decline"}, headers=bank
    )
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["state"] == "fixed_price_sale"
    sale = case["steps"][-1]
    assert (sale["kind"], sale["start_price"], sale["deposit"]) == (
        "fixed_price_sale",
        "560000.00",
        "56000.00",
    )
    barred = await desk.register(sale["auction_id"], x)
    assert barred.status_code == 403 and barred.json()["code"] == "barred_from_case", barred.text

    assert (await desk.register(sale["auction_id"], y)).status_code == 201
    await desk.bid(sale["auction_id"], y, "560000.00")
    paid = await client.post(f"/api/v1/auctions/{sale['auction_id']}/payments", json={}, headers=y)
    assert paid.status_code in (200, 201), paid.text

    case = await desk.case(case_id, h2)
    assert case["state"] == "settled" and case["outcome"] == "sold"
    assert case["proceeds"] == {"price": "560000.00", "forfeited_deposits": "56000.00", "total": "616000.00"}
    assert sorted(line_amounts(case), key=str) == sorted(
        [
            ("costs", bank_id, "5000.00"),
            ("interest", bank_id, "48000.00"),
            ("interest", h1_id, "6000.00"),
            ("interest", h2_id, "6000.00"),
            ("principal", bank_id, "440800.00"),
            ("principal", h1_id, "55100.00"),
            ("principal", h2_id, "55100.00"),
        ],
        key=str,
    )
    assert [line["line"] for line in case["waterfall"]] == list(range(1, 8))
    assert case["shortfall"] == "1449000.00" and case["surplus"] == "0.00"

    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert loan_after["status"] == "defaulted"
    assert loan_after["remaining_claim"] == "1449000.00"
    assert loan_after["outstanding_principal"] == "1449000.00"
    assert [c["state"] for c in loan_after["collateral"]] == ["delivered"]
    assert (await market.balances(h1))["available"] == "161100.00"
    assert (await market.balances(bank))["available"] == "1493800.00"
    assert (await market.balances(y)) == {"available": "440000.00", "held": "0.00"}
    assert (await market.balances(x)) == {"available": "944000.00", "held": "0.00"}
    async with desk.context.database.read() as session:
        tasks = (await session.execute(select(CollateralTransferTask))).scalars().all()
    assert [(t.new_holder_id, t.status, t.reference) for t in tasks] == [
        (y_id, "to_register", f"disposal:{case_id}")
    ]
    # A stranger learns nothing, not even that the case exists.
    assert (await client.get(f"/api/v1/disposals/{case_id}", headers=stranger)).status_code == 404
    assert stranger_id != bank_id
    await desk.books_are_whole()


async def test_a_surplus_goes_to_the_pledgor_and_clearing_pays_it_out_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"], name="Creditor Bank")
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    loan = await desk.loan(bank, outstanding_principal="100000.00")
    case = await desk.opened(loan["id"], bank, accrued_interest="1000.00")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, "700000.00")
    desk.travel_to(step["ends_at"])
    await desk.tick()
    paid = await client.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text

    case = await desk.case(case["id"], bank)
    assert case["shortfall"] == "0.00" and case["surplus"] == "599000.00"
    assert case["waterfall"][-1] == {
        "line": 3,
        "part": "surplus",
        "payee_id": None,
        "payee_name": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "amount": "599000.00",
        "rule": case["waterfall"][-1]["rule"],
    }
    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert loan_after["remaining_claim"] == "0.00" and loan_after["outstanding_principal"] == "0.00"

    path = f"/api/v1/disposals/{case['id']}/surplus-payout"
    assert (await client.post(path, json={"reference": "PAY-1"}, headers=bank)).status_code == 403
    clearing = await market.clearing()
    blank = await client.post(path, json={"reference": "   "}, headers=clearing)
    assert blank.status_code == 422, blank.text
    response = await client.post(path, json={"reference": "PAY-1"}, headers=clearing)
    assert response.status_code == 200, response.text
    assert response.json()["surplus_reference"] == "PAY-1"
    again = await client.post(path, json={"reference": "PAY-2"}, headers=clearing)
    assert again.status_code == 409 and again.json()["code"] == "surplus_already_paid", again.text
    assert datetime.fromisoformat(response.json()["surplus_paid_at"]) is not None
    await desk.books_are_whole()
