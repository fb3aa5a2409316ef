"""A case's later steps: take-in-payment accepted or expired, the fixed-price sale unsold, the
buyout window, auto-advance."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from tests.api.disposal_support import DAY_S, DisposalDesk, line_amounts
from tests.conftest import Market
from transfer.models.loans import CollateralTransferTask

pytestmark = __import__("pytest").mark.db


async def _two_failed_rounds(desk: DisposalDesk, case_id: int, bank: dict[str, str]) -> dict[str, Any]:
    case = await desk.round_ok(case_id, bank, 30 * DAY_S + 60)
    desk.travel_to(case["steps"][0]["ends_at"])
    await desk.tick()
    case = await desk.round_ok(case_id, bank, 15 * DAY_S + 60, deposit="56000.00")
    desk.travel_to(case["steps"][1]["ends_at"])
    await desk.tick()
    case = await desk.case(case_id, bank)
    assert case["state"] == "take_in_payment_offered", case
    return case


async def test_the_creditor_takes_the_collateral_in_payment_and_pays_the_other_holders(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Creditor Bank")
    holder_id, holder = await market.participant(["bank"], funds="600000.00", name="Holder")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, holder)
    case = await desk.opened(loan["id"], bank)
    case = await _two_failed_rounds(desk, case["id"], bank)
    offer = case["steps"][-1]
    assert (offer["kind"], offer["start_price"]) == ("take_in_payment", "560000.00")

    path = f"/api/v1/disposals/{case['id']}/take-in-payment"
    bad = await client.post(path, json={"decision": "maybe"}, headers=bank)
    assert bad.status_code == 400 or bad.status_code == 422, bad.text
    response = await client.post(path, json={"decision": "accept"}, headers=bank)
    assert response.status_code == 200, response.text
    case = response.json()
    assert (case["state"], case["outcome"]) == ("settled", "taken_in_payment")
    assert sorted(line_amounts(case), key=str) == sorted(
        [
            ("interest", bank_id, "45000.00"),
            ("interest", holder_id, "5000.00"),
            ("principal", bank_id, "459000.00"),
            ("principal", holder_id, "51000.00"),
        ],
        key=str,
    )
    assert case["shortfall"] == "1490000.00"
    # Only the holder's 56,000.00 left the creditor's funds.
    assert (await market.balances(bank))["available"] == "444000.00"
    assert (await market.balances(holder))["available"] == "156000.00"
    again = await client.post(path, json={"decision": "accept"}, headers=bank)
    assert again.status_code == 409, again.text
    async with desk.context.database.read() as session:
        tasks = (await session.execute(select(CollateralTransferTask))).scalars().all()
    assert [t.new_holder_id for t in tasks] == [bank_id]
    await desk.books_are_whole()


async def test_unanswered_the_offer_expires_into_a_fixed_price_sale_then_the_case_is_released(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank)
    case = await _two_failed_rounds(desk, case["id"], bank)
    desk.travel_to(case["deadline_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert case["state"] == "fixed_price_sale"
    assert case["steps"][-2]["result"] == "expired"
    sale = case["steps"][-1]
    late = await client.post(
        f"/api/v1/disposals/{case['id']}/take-in-payment", json={"decision": "accept"}, headers=bank
    )
    assert late.status_code == 409, late.text

    desk.travel_to(sale["ends_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert (case["state"], case["outcome"]) == ("buyout_window", "unsold")
    desk.travel_to(case["deadline_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert case["state"] == "released" and case["waterfall"] == []
    assert case["shortfall"] == "2050000.00"
    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert loan_after["remaining_claim"] == "2050000.00"
    assert [c["state"] for c in loan_after["collateral"]] == ["released"]
    await desk.books_are_whole()


async def test_auto_advance_runs_round_two_at_the_deepest_cut_and_shortest_notice(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank, auto_advance=True)
    assert case["auto_advance"] is True
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    desk.travel_to(case["steps"][0]["ends_at"])
    await desk.tick()
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert case["state"] == "in_round"
    second = case["steps"][1]
    assert (second["round"], second["start_price"], second["increment"]) == (2, "560000.00", "10000.00")
    first = case["steps"][0]
    from datetime import datetime, timedelta

    assert datetime.fromisoformat(second["starts_at"]) == desk.clock() + timedelta(days=15)
    duration = datetime.fromisoformat(second["ends_at"]) - datetime.fromisoformat(second["starts_at"])
    assert duration == datetime.fromisoformat(first["ends_at"]) - datetime.fromisoformat(first["starts_at"])


async def test_without_auto_advance_the_service_makes_round_two_before_the_window_closes(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank)
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    desk.travel_to(case["steps"][0]["ends_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert case["state"] == "awaiting_round"
    desk.travel_to(case["deadline_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    assert case["state"] == "in_round" and case["steps"][1]["start_price"] == "560000.00"
