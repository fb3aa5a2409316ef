"""Dual control (maker-checker) of money leaving the system above IPX_DUAL_CONTROL_ABOVE
(1,000,000.00): a withdrawal's money is held until a second clearing participant approves it, the
maker can never approve its own, a rejection releases it, and two checkers at once move it once; a
large pledgor's surplus waits the same way."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.conftest import Market

pytestmark = pytest.mark.db


async def _withdraw(
    client: httpx.AsyncClient, participant_id: int, amount: str, reference: str, clearing: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/participants/{participant_id}/withdrawals",
        json={"amount": amount, "reference": reference},
        headers=clearing,
    )


async def test_a_large_withdrawal_waits_for_a_second_clearing_participant(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="3000000.00")
    maker = await market.clearing()
    _, checker = await market.participant(["clearing"], name="Second clearing clerk")

    small = await _withdraw(client, bank_id, "1000000.00", "WD-SMALL", maker)
    assert small.status_code == 201 and small.json()["status"] == "done", small.text
    large = await _withdraw(client, bank_id, "1500000.00", "WD-LARGE", maker)
    assert large.status_code == 201, large.text
    assert (large.json()["status"], large.json()["balances"]) == (
        "awaiting_approval",
        {"available": "500000.00", "held": "1500000.00"},
    )
    approval_id = large.json()["approval_id"]
    # The same request again is the same request: no second hold.
    again = await _withdraw(client, bank_id, "1500000.00", "WD-LARGE", maker)
    assert again.json()["approval_id"] == approval_id
    assert await market.balances(bank) == {"available": "500000.00", "held": "1500000.00"}

    pending = (await client.get("/api/v1/approvals?state=pending", headers=checker)).json()
    assert [(item["id"], item["kind"], item["amount"]) for item in pending["items"]] == [
        (approval_id, "withdrawal", "1500000.00")
    ]
    assert (await client.get("/api/v1/approvals", headers=bank)).status_code == 403
    assert (await client.get("/api/v1/approvals?state=bogus", headers=checker)).status_code == 422

    own = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=maker)
    assert own.status_code == 403 and own.json()["code"] == "maker_cannot_approve", own.text
    assert (await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=bank)).status_code == 403
    assert (await client.post("/api/v1/approvals/999999/approve", headers=checker)).status_code == 404
    assert await market.balances(bank) == {"available": "500000.00", "held": "1500000.00"}

    approved = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=checker)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert await market.balances(bank) == {"available": "500000.00", "held": "0.00"}
    twice = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=checker)
    assert twice.status_code == 409 and twice.json()["code"] == "approval_decided", twice.text
    await desk.books_are_whole()


async def test_a_rejected_withdrawal_is_released_and_two_checkers_at_once_move_money_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="5000000.00")
    maker = await market.clearing()
    _, checker_1 = await market.participant(["clearing"])
    _, checker_2 = await market.participant(["clearing"])

    first = (await _withdraw(client, bank_id, "2000000.00", "WD-1", maker)).json()
    no_reason = await client.post(f"/api/v1/approvals/{first['approval_id']}/reject", json={}, headers=maker)
    assert no_reason.status_code in (400, 422), no_reason.text
    # The maker may take its own request back.
    rejected = await client.post(
        f"/api/v1/approvals/{first['approval_id']}/reject", json={"reason": "wrong account"}, headers=maker
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected", rejected.text
    assert await market.balances(bank) == {"available": "5000000.00", "held": "0.00"}

    second = (await _withdraw(client, bank_id, "3000000.00", "WD-2", maker)).json()
    path = f"/api/v1/approvals/{second['approval_id']}/approve"
    answers = await asyncio.gather(client.post(path, headers=checker_1), client.post(path, headers=checker_2))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.text for a in answers]
    assert await market.balances(bank) == {"available": "2000000.00", "held": "0.00"}
    await desk.books_are_whole()


async def _case_with_a_large_surplus(desk: DisposalDesk, bank: dict[str, str]) -> dict[str, Any]:
    _, bidder = await desk.market.participant(["bidder"], funds="2000000.00")
    loan = await desk.loan(bank, outstanding_principal="100000.00")
    case = await desk.opened(loan["id"], bank, accrued_interest="1000.00")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, "1200000.00")
    desk.travel_to(step["ends_at"])
    await desk.tick()
    paid = await desk.http.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    await desk.tick()
    return await desk.case(case["id"], bank)


async def test_a_large_surplus_payout_waits_for_approval_in_the_pledgor_account(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    maker = await market.clearing()
    _, checker = await market.participant(["clearing"])
    case = await _case_with_a_large_surplus(desk, bank)
    assert case["surplus"] == "1099000.00"
    path = f"/api/v1/disposals/{case['id']}/surplus-payout"

    asked = await client.post(path, json={"reference": "PAY-1"}, headers=maker)
    assert asked.status_code == 200, asked.text
    assert asked.json()["surplus_paid_at"] is None
    other = await client.post(path, json={"reference": "PAY-2"}, headers=maker)
    assert other.status_code == 409 and other.json()["code"] == "approval_pending", other.text
    (waiting,) = (await client.get("/api/v1/approvals?state=pending", headers=checker)).json()["items"]
    assert (waiting["kind"], waiting["subject"], waiting["amount"]) == (
        "surplus_payout",
        f"disposal:{case['id']}",
        "1099000.00",
    )
    approved = await client.post(f"/api/v1/approvals/{waiting['id']}/approve", headers=checker)
    assert approved.status_code == 200, approved.text
    paid = await desk.case(case["id"], bank)
    assert paid["surplus_reference"] == "PAY-1" and paid["surplus_paid_at"] is not None
    await desk.books_are_whole()
