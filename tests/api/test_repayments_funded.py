"""A repayment distributes money the servicer really has on the platform (review finding F1).

The servicer's available funds, booked by clearing through `POST /participants/{id}/funds`, pay each
other holder its part; a servicer short of them is refused and nothing changes. `received_on` lies
between the loan's origination and today (Asia/Shanghai), and the interest within what the loan
accrued, times IPX_REPAYMENT_INTEREST_TOLERANCE_BPS. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.context import AppContext
from tests.api.annuity_support import ledger_sum_fen, travel_to_day
from tests.api.market_support import negotiated_trade, post_ok, register_loan
from tests.conftest import FakeClock, Market
from transfer.models import LedgerTransfer
from transfer.models.servicing import Repayment

pytestmark = pytest.mark.db

TODAY = date(2026, 12, 6)
# 1,000,000.00 at 3.65 % a year accrues exactly 100.00 a day; the default tolerance is 1.5 times.
OUTSTANDING = "1000000.00"
RATE_BPS = 365
ORIGINATED_ON = "2026-01-01"
# 2026-01-01 to 2026-12-01: 334 days, 33,400.00 accrued, 50,100.00 with the tolerance.
RECEIVED_ON = "2026-12-01"
MAX_INTEREST = "50100.00"


def _collateral(n: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "invention_patent",
            "registry_number": f"ZL20161000{n:04d}.X",
            "title": "Ceramic-coated lithium battery separator",
            "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
            "appraisal": "3000000.00",
            "appraised_on": "2025-12-01",
            "filed_on": "2016-06-15",
        }
    ]


async def _loan(
    client: httpx.AsyncClient, bank: dict[str, str], n: int = 0, servicer_id: int | None = None
) -> dict[str, Any]:
    extra = {} if servicer_id is None else {"servicer_id": servicer_id}
    return await register_loan(
        client,
        bank,
        outstanding_principal=OUTSTANDING,
        rate_bps=RATE_BPS,
        originated_on=ORIGINATED_ON,
        collateral=_collateral(n),
        **extra,
    )


def _body(principal: str, interest: str, received_on: str = RECEIVED_ON) -> dict[str, str]:
    return {"principal": principal, "interest": interest, "received_on": received_on}


async def _repay(
    client: httpx.AsyncClient, loan_id: int, body: dict[str, str], servicer: dict[str, str]
) -> httpx.Response:
    return await client.post(f"/api/v1/loans/{loan_id}/repayments", json=body, headers=servicer)


async def _state(client: httpx.AsyncClient, context: AppContext, loan_id: int, *who: dict[str, str]) -> Any:
    """What a refused repayment must leave as it was: the loan, balances, repayments, transfers."""
    loan = (await client.get(f"/api/v1/loans/{loan_id}", headers=who[0])).json()
    balances = [(await client.get("/api/v1/participants/me", headers=h)).json()["balances"] for h in who]
    async with context.database.read() as session:
        repayments = (await session.execute(select(func.count()).select_from(Repayment))).scalar_one()
        transfers = (await session.execute(select(func.count()).select_from(LedgerTransfer))).scalar_one()
    return loan, balances, repayments, transfers


def _plus(yuan: str, more: str) -> str:
    return f"{Decimal(yuan) + Decimal(more):.2f}"


def _refusal(response: httpx.Response) -> tuple[int, str, list[str]]:
    problem = response.json()
    return response.status_code, problem["code"], [e["field"] for e in problem.get("errors") or []]


async def test_a_repayment_without_the_servicers_funds_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    bank_id, bank = await market.participant(["bank"])
    loan = await _loan(client, bank)
    before = await _state(client, context, loan["id"], bank)

    unfunded = await _repay(client, loan["id"], _body("1000.00", "100.00"), bank)
    await market.fund(bank_id, "1050.00")
    funded_before = await _state(client, context, loan["id"], bank)
    short = await _repay(client, loan["id"], _body("1000.00", "100.00"), bank)

    # Nothing covers the principal; then 1,050.00 covers it, not the interest on top.
    assert _refusal(unfunded) == (409, "insufficient_funds", ["principal"]), unfunded.text
    assert (unfunded.json()["needed"], unfunded.json()["available"]) == ("1100.00", "0.00")
    assert _refusal(short) == (409, "insufficient_funds", ["interest"]), short.text
    assert (short.json()["shortfall"], short.json()["participant_id"]) == ("50.00", bank_id)
    assert await _state(client, context, loan["id"], bank) == funded_before
    assert before[0] == funded_before[0] and before[2] == funded_before[2] == 0
    assert await ledger_sum_fen(context) == 0


async def test_a_funded_repayment_pays_every_holder_to_the_fen_out_of_the_servicers_funds(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    creditor_id, creditor = await market.participant(["bank"])
    servicer_id, servicer = await market.participant(["bank"], funds="10.00")
    buyer_id, buyer = await market.participant(["bank", "bidder"], funds="500000.00")
    loan = await _loan(client, creditor, servicer_id=servicer_id)
    trade = await negotiated_trade(client, loan["id"], creditor, buyer)
    await post_ok(client, f"/api/v1/trades/{trade['id']}/settle", {}, await market.clearing(), status=200)
    before = {
        pid: (await market.balances(h))["available"]
        for pid, h in [(creditor_id, creditor), (buyer_id, buyer)]
    }

    # Clearing books the borrower's 1,333.34 as received by the servicer; the servicer distributes it.
    await market.fund(servicer_id, "1333.34")
    repayment = await post_ok(
        client, f"/api/v1/loans/{loan['id']}/repayments", _body("1000.01", "333.33"), servicer
    )

    # 90 % and 10 %: the odd fen of each split goes to the larger remainder, so the parts add up.
    assert {
        line["holder_id"]: (line["principal"], line["interest"], line["total"])
        for line in repayment["distribution"]
    } == {
        creditor_id: ("900.01", "300.00", "1200.01"),
        buyer_id: ("100.00", "33.33", "133.33"),
    }
    assert await market.balances(creditor) == {
        "available": _plus(before[creditor_id], "1200.01"),
        "held": "0.00",
    }
    assert (await market.balances(buyer))["available"] == _plus(before[buyer_id], "133.33")
    # The servicer paid out all it received; its own 10.00 is untouched.
    assert await market.balances(servicer) == {"available": "10.00", "held": "0.00"}
    async with context.database.read() as session:
        legs = (
            await session.execute(select(LedgerTransfer.amount_fen).where(LedgerTransfer.code == "repayment"))
        ).scalars()
        assert sorted(legs) == [133_33, 1200_01]
    assert await ledger_sum_fen(context) == 0
    report = await client.get(
        f"/api/v1/clearing/reconciliation?date={TODAY}", headers=await market.clearing()
    )
    assert report.status_code == 200 and report.json()["clean"] is True, report.text


async def test_a_servicer_holding_a_share_keeps_its_part_and_pays_the_others(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    bank_id, bank = await market.participant(["bank"])
    _, buyer = await market.participant(["bank", "bidder"], funds="500000.00")
    loan = await _loan(client, bank)
    trade = await negotiated_trade(client, loan["id"], bank, buyer)
    await post_ok(client, f"/api/v1/trades/{trade['id']}/settle", {}, await market.clearing(), status=200)
    bank_before = (await market.balances(bank))["available"]
    buyer_before = (await market.balances(buyer))["available"]

    await market.fund(bank_id, "2000.00")
    await post_ok(client, f"/api/v1/loans/{loan['id']}/repayments", _body("2000.00", "0.00"), bank)

    assert (await market.balances(bank))["available"] == _plus(bank_before, "1800.00")
    assert (await market.balances(buyer))["available"] == _plus(buyer_before, "200.00")
    assert await ledger_sum_fen(context) == 0


@pytest.mark.parametrize(
    ("received_on", "code"),
    [("2026-12-07", "received_on_in_future"), ("2025-12-31", "received_on_before_origination")],
)
async def test_received_on_after_today_or_before_origination_is_refused(
    client: httpx.AsyncClient,
    market: Market,
    clock: FakeClock,
    context: AppContext,
    received_on: str,
    code: str,
) -> None:
    travel_to_day(clock, TODAY)
    _, bank = await market.participant(["bank"], funds="10000.00")
    loan = await _loan(client, bank)
    before = await _state(client, context, loan["id"], bank)

    refused = await _repay(client, loan["id"], _body("100.00", "0.00", received_on), bank)
    on_the_edges = [
        await _repay(client, loan["id"], _body("100.00", "0.00", day), bank)
        for day in (ORIGINATED_ON, str(TODAY))
    ]

    assert _refusal(refused) == (422, code, ["received_on"]), refused.text
    assert [answer.status_code for answer in on_the_edges] == [201, 201], [a.text for a in on_the_edges]
    assert (await _state(client, context, loan["id"], bank))[2] == before[2] + 2


async def test_interest_above_what_the_loan_accrued_is_refused_and_at_the_bound_accepted(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    _, bank = await market.participant(["bank"], funds="200000.00")
    loan = await _loan(client, bank)
    before = await _state(client, context, loan["id"], bank)

    above = await _repay(client, loan["id"], _body("0.00", "50100.01"), bank)
    state_after_refusal = await _state(client, context, loan["id"], bank)
    at = await _repay(client, loan["id"], _body("0.00", MAX_INTEREST), bank)
    # All of it collected: the same day leaves nothing more to collect, a month later 30 days' worth.
    again = await _repay(client, loan["id"], _body("0.00", "0.01"), bank)
    travel_to_day(clock, date(2026, 12, 31))
    month = await _repay(client, loan["id"], _body("0.00", "4500.01", "2026-12-31"), bank)
    month_ok = await _repay(client, loan["id"], _body("0.00", "4500.00", "2026-12-31"), bank)

    assert _refusal(above) == (422, "interest_exceeds_accrual", ["interest"]), above.text
    assert above.json()["max_interest"] == MAX_INTEREST
    assert state_after_refusal == before
    assert at.status_code == 201, at.text
    assert (_refusal(again), again.json()["max_interest"]) == (
        (422, "interest_exceeds_accrual", ["interest"]),
        "0.00",
    )
    assert (_refusal(month), month.json()["max_interest"]) == (
        (422, "interest_exceeds_accrual", ["interest"]),
        "4500.00",
    )
    assert month_ok.status_code == 201, month_ok.text
    assert await ledger_sum_fen(context) == 0


async def test_the_interest_tolerance_is_a_setting(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    _, bank = await market.participant(["bank"], funds="200000.00")
    loan = await _loan(client, bank)
    context.settings = dataclasses.replace(context.settings, repayment_interest_tolerance_bps=10_000)

    above = await _repay(client, loan["id"], _body("0.00", "33400.01"), bank)
    at = await _repay(client, loan["id"], _body("0.00", "33400.00"), bank)

    assert (above.status_code, above.json()["max_interest"]) == (422, "33400.00"), above.text
    assert at.status_code == 201, at.text


async def test_repayments_at_once_that_together_exceed_the_servicers_funds_pass_only_as_far_as_they_fit(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    _, creditor = await market.participant(["bank"])
    servicer_id, servicer = await market.participant(["bank"], funds="1000.00")
    loans = [await _loan(client, creditor, n, servicer_id=servicer_id) for n in range(3)]

    # Three loans, so no loan lock orders them: only the servicer's funds decide.
    answers = await asyncio.gather(
        *(_repay(client, loan["id"], _body("400.00", "0.00"), servicer) for loan in loans)
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 201, 409], [answer.text for answer in answers]
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["insufficient_funds"]
    assert await market.balances(servicer) == {"available": "200.00", "held": "0.00"}
    assert await market.balances(creditor) == {"available": "800.00", "held": "0.00"}
    outstanding = sorted(
        [
            (await client.get(f"/api/v1/loans/{loan['id']}", headers=creditor)).json()[
                "outstanding_principal"
            ]
            for loan in loans
        ]
    )
    assert outstanding == [OUTSTANDING, "999600.00", "999600.00"]  # sorted as strings
    assert await ledger_sum_fen(context) == 0


async def test_two_repayments_of_one_loan_at_once_pass_only_as_far_as_the_funds_fit(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, TODAY)
    _, creditor = await market.participant(["bank"])
    servicer_id, servicer = await market.participant(["bank"], funds="1500.00")
    loan = await _loan(client, creditor, servicer_id=servicer_id)

    answers = await asyncio.gather(
        *(_repay(client, loan["id"], _body("1000.00", "0.00"), servicer) for _ in range(2))
    )

    assert sorted(answer.status_code for answer in answers) == [201, 409], [a.text for a in answers]
    assert await market.balances(servicer) == {"available": "500.00", "held": "0.00"}
    assert (await client.get(f"/api/v1/loans/{loan['id']}", headers=creditor)).json()[
        "outstanding_principal"
    ] == "999000.00"
    assert await ledger_sum_fen(context) == 0
