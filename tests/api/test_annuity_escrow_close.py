"""A loan's annuity escrow when its pledges end: the creditor's unspent money back to its funds at
once, the enterprise's prepayment paid out to it by clearing (dual control above the threshold);
a repayment in full racing the daily run on a fee's due date either way leaves the books exact."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest

from app.context import AppContext
from app.scheduler import run_annuities
from tests.api.annuity_support import (
    INVENTION_NUMBER,
    annuities,
    annuity_loan,
    fees_of,
    fund_escrow,
    ledger_sum_fen,
    payee_balance_fen,
    run_on,
    travel_to_day,
)
from tests.api.disposal_support import DisposalDesk
from tests.api.market_support import post_ok
from tests.api.repayment_support import post_repayment
from tests.conftest import FakeClock, Market

pytestmark = pytest.mark.db


async def _funded_loan(
    client: httpx.AsyncClient, market: Market, bank: dict[str, str], received: str, numbers: tuple[str, str]
) -> dict[str, Any]:
    """A loan whose escrow got `received` from the enterprise (clearing) and 2,000.00 from the
    creditor's funds; the invention's year-11 fee of 4,000.00 falls due on 2026-03-16."""
    loan = dict(await post_ok(client, "/api/v1/loans", annuity_loan(*numbers), bank))
    await fund_escrow(client, loan["id"], await market.clearing(), received, f"PREPAY-{loan['id']}")
    await fund_escrow(client, loan["id"], bank, "2000.00", f"TOPUP-{loan['id']}")
    return loan


async def _repay_in_full(
    client: httpx.AsyncClient, market: Market, loan_id: int, bank: dict[str, str], day: str = "2026-03-16"
) -> httpx.Response:
    body = {"principal": "4000000.00", "interest": "0.00", "received_on": day}
    return await post_repayment(client, market, loan_id, body, bank)


async def _payout(
    client: httpx.AsyncClient, loan_id: int, headers: dict[str, str], reference: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/loans/{loan_id}/annuity-escrow/payout", json={"reference": reference}, headers=headers
    )


async def test_a_repaid_loans_escrow_gives_the_creditor_its_unspent_money_and_clearing_pays_the_enterprise(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="10000.00")
    maker = await market.clearing()
    _, checker = await market.participant(["clearing"])
    loan = await _funded_loan(client, market, bank, "1005000.00", (INVENTION_NUMBER, "ZL201920000410.1"))
    early = await _payout(client, loan["id"], maker, "OUT-0")
    assert (early.status_code, early.json()["code"]) == (409, "escrow_open"), early.text
    assert (await run_on(context, clock, date(2026, 3, 16))).paid == 1

    repaid = await _repay_in_full(client, market, loan["id"], bank)
    assert repaid.status_code == 201, repaid.text

    # 1,007,000.00 in, 4,000.00 of fees out: the prepayment paid the fee, so the creditor's
    # 2,000.00 comes back whole and 1,001,000.00 is the enterprise's.
    assert (await market.balances(bank))["available"] == "4010000.00"
    assert (await annuities(client, loan["id"], bank))["escrow_balance"] == "1001000.00"
    late = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        json={"amount": "1.00", "reference": "LATE"},
        headers=maker,
    )
    assert (late.status_code, late.json()["code"]) == (409, "loan_repaid"), late.text
    assert (await _payout(client, loan["id"], bank, "OUT-1")).status_code == 403
    missing = await _payout(client, 10**9, maker, "OUT-1")
    assert (missing.status_code, missing.json()["code"]) == (404, "loan_not_found"), missing.text
    blank = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow/payout", json={"reference": ""}, headers=maker
    )
    assert blank.status_code == 422, blank.text

    asked = await _payout(client, loan["id"], maker, "OUT-1")
    assert asked.status_code == 200, asked.text
    # Above IPX_DUAL_CONTROL_ABOVE: it waits, the money still in the escrow.
    assert (asked.json()["status"], asked.json()["amount"]) == ("awaiting_approval", "1001000.00")
    other = await _payout(client, loan["id"], maker, "OUT-2")
    assert (other.status_code, other.json()["code"]) == (409, "approval_pending"), other.text
    approval_id = asked.json()["approval_id"]
    own = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=maker)
    assert own.status_code == 403, own.text
    approved = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=checker)
    assert approved.status_code == 200, approved.text

    assert (await annuities(client, loan["id"], bank))["escrow_balance"] == "0.00"
    again = await _payout(client, loan["id"], maker, "OUT-3")
    assert (again.status_code, again.json()["code"]) == (409, "nothing_held"), again.text
    assert await ledger_sum_fen(context) == 0


async def test_a_small_enterprise_part_is_paid_out_at_once_and_a_reference_only_once(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="10000.00")
    clearing = await market.clearing()
    loan = await _funded_loan(client, market, bank, "5000.00", (INVENTION_NUMBER, "ZL201920000410.1"))
    assert (await run_on(context, clock, date(2026, 3, 16))).paid == 1
    assert (await _repay_in_full(client, market, loan["id"], bank)).status_code == 201

    paid = await _payout(client, loan["id"], clearing, "OUT-1")

    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["amount"]) == ("paid", "1000.00")
    assert paid.json()["transfer_id"] == f"annuity_escrow:{loan['id']}:payout:OUT-1"
    reused = await _payout(client, loan["id"], clearing, "OUT-1")
    assert (reused.status_code, reused.json()["code"]) == (409, "reference_already_booked"), reused.text
    assert (await market.balances(bank))["available"] == "4010000.00"
    assert await ledger_sum_fen(context) == 0


async def test_a_cured_case_closes_the_escrow_as_it_ends(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext, desk: DisposalDesk
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="10000.00")
    loan = await _funded_loan(client, market, bank, "5000.00", (INVENTION_NUMBER, "ZL201920000410.1"))
    case = await desk.opened(loan["id"], bank)
    travel_to_day(clock, date(2026, 3, 2))

    assert (await _repay_in_full(client, market, loan["id"], bank, "2026-03-02")).status_code == 201

    assert (await desk.case(case["id"], bank))["state"] == "cured"
    # No fee was paid: the creditor's 2,000.00 back, the prepayment's 5,000.00 waits for clearing.
    assert (await market.balances(bank))["available"] == "4010000.00"
    assert (await annuities(client, loan["id"], bank))["escrow_balance"] == "5000.00"
    assert await ledger_sum_fen(context) == 0


async def test_a_repayment_in_full_racing_the_daily_run_on_the_due_date_pays_the_fee_or_returns_it(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="10000.00")
    loans = [
        await _funded_loan(client, market, bank, "5000.00", (f"ZL20161000{n:04d}.X", f"ZL20192000{n:04d}.1"))
        for n in range(3)
    ]
    travel_to_day(clock, date(2026, 3, 16))

    # The run's task first, then the repayments' (the order one gather of them all would start them in).
    running = asyncio.create_task(run_annuities(context))
    repaid = await asyncio.gather(*(_repay_in_full(client, market, loan["id"], bank) for loan in loans))
    run = await running

    assert all(answer.status_code == 201 for answer in repaid), [answer.text for answer in repaid]
    fees_paid = 0
    for n, loan in enumerate(loans):
        view = await annuities(client, loan["id"], bank)
        fee = fees_of(view)[(f"ZL20161000{n:04d}.X", 11)]
        if fee["status"] == "paid":
            # The run came first: the prepayment paid the fee, 1,000.00 of it is left.
            fees_paid += 1
            assert view["escrow_balance"] == "1000.00"
        else:
            # The repayment came first: the patent was no longer pledged when the run looked.
            assert view["escrow_balance"] == "5000.00"
    assert run.paid == fees_paid
    # Either way the creditor has its 2,000.00 back from each escrow, and the repayments.
    assert (await market.balances(bank))["available"] == f"{10000 - 3 * 2000 + 3 * 4000000 + 3 * 2000}.00"
    assert await payee_balance_fen(context) == fees_paid * 400_000
    assert await ledger_sum_fen(context) == 0
