"""The scheduler's annuity run racing the creditor's own payment of the same fee: paid once."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from app.context import AppContext
from app.scheduler import run_annuities
from tests.api.annuity_support import (
    annuities,
    annuity_loan,
    fees_of,
    fund_escrow,
    ledger_sum_fen,
    payee_balance_fen,
    travel_to_day,
)
from tests.api.market_support import post_ok
from tests.conftest import FakeClock, Market
from transfer.models import LedgerTransfer

pytestmark = pytest.mark.db
LOANS = 4


async def test_the_daily_run_and_the_creditors_payment_of_the_same_fees_pay_each_once(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="100000.00")
    clearing = await market.clearing()
    loans = []
    for n in range(LOANS):
        loan = await post_ok(
            client, "/api/v1/loans", annuity_loan(f"ZL20161000{n:04d}.X", f"ZL20192000{n:04d}.1"), bank
        )
        await fund_escrow(client, loan["id"], clearing, "4000.00", f"PREPAY-{n}")
        fee = fees_of(await annuities(client, loan["id"], bank))[(f"ZL20161000{n:04d}.X", 11)]
        loans.append((loan["id"], fee["id"]))
    travel_to_day(clock, date(2026, 3, 16))  # the invention's fee is due today

    payments = [
        client.post(f"/api/v1/loans/{loan_id}/annuities/{fee_id}/pay", json={}, headers=bank)
        for loan_id, fee_id in loans
    ]
    # The run's task first, then the payments' (the order one gather of them all would start them in).
    running = asyncio.create_task(run_annuities(context))
    answers = await asyncio.gather(*payments)
    run = await running

    by_creditor = 0
    for (loan_id, fee_id), answer in zip(loans, answers, strict=True):
        view = await annuities(client, loan_id, bank)
        fee = next(f for p in view["patents"] for f in p["annuities"] if f["id"] == fee_id)
        assert fee["status"] == "paid"
        if answer.status_code == 200:
            by_creditor += 1
            assert (fee["paid_from"], view["escrow_balance"]) == ("creditor", "4000.00")
        else:
            assert answer.status_code == 409 and answer.json()["code"] == "annuity_already_paid", answer.text
            assert (fee["paid_from"], view["escrow_balance"]) == ("escrow", "0.00")
    assert run.paid == LOANS - by_creditor
    assert (await market.balances(bank))["available"] == f"{100000 - 4000 * by_creditor}.00"
    async with context.database.read() as session:
        receipts = (
            await session.execute(
                select(func.count()).select_from(LedgerTransfer).where(LedgerTransfer.code == "annuity_fee")
            )
        ).scalar_one()
    assert receipts == LOANS
    assert await payee_balance_fen(context) == LOANS * 400_000
    assert await ledger_sum_fen(context) == 0
    # A second run finds nothing left to pay.
    assert (await run_annuities(context)).paid == 0
