"""Guards of the default and of its disposal (the outside review's F6, F9, F10): a bank's own lot
sells no pledged collateral and a default withdraws one made before; a compensation fund advances
nothing on an enrolment that has not seasoned; the claim declared at default stays within what the
loan's terms can have produced."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.context import AppContext
from auction.models import Auction
from tests.api.auction_support import AuctionHouse
from tests.api.disposal_support import DAY_S, DisposalDesk, patent_loan
from tests.api.market_support import post_ok, register_loan
from tests.api.test_compensation import _enrol, _fund
from tests.conftest import Market
from transfer.models.compensation import CompensationEnrolment
from transfer.models.loans import Loan
from transfer.rules.fee_waiver import shanghai_trade_date

pytestmark = pytest.mark.db

NOTICE_S = 30 * DAY_S + 60


def _problem(response: httpx.Response, status: int, code: str, field: str) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code, problem
    assert [e["field"] for e in problem["errors"]] == [field], problem


async def _available(market: Market, headers: dict[str, str]) -> str:
    return str((await market.balances(headers))["available"])


# ---- F6: pledged collateral is sold only by its disposal ---------------------------------------


async def test_two_lots_of_a_performing_loans_collateral_at_once_are_both_refused(
    house: AuctionHouse,
) -> None:
    _, bank = await house.bank()
    loan = await register_loan(house.http, bank)
    ids = [c["id"] for c in loan["collateral"]]
    body = house.body(lot={"title": "Pledged patent", "collateral_ids": ids})
    answers = await asyncio.gather(
        *(house.http.post("/api/v1/auctions", json=body, headers=bank) for _ in range(2))
    )
    for response in answers:
        _problem(response, 409, "collateral_not_in_disposal", "lot.collateral_ids")
    listed = await house.http.get("/api/v1/auctions", headers=bank)
    assert listed.json()["total"] == 0
    # The loan's own sale, through a listing, may still name what secures it.
    lot = await house.listing_lot(bank, loan["id"], lot={"title": "Income right", "collateral_ids": ids})
    assert lot["lot"]["collateral_ids"] == sorted(ids)


async def test_two_rounds_of_one_case_at_once_put_its_collateral_up_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    case = await desk.case_on_patent(bank, "ZL202110000101.X")
    answers = await asyncio.gather(*(desk.round(case["id"], bank, NOTICE_S) for _ in range(2)))
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 409)
    assert refused.json()["code"] == "round_not_expected", refused.text
    assert (await client.get("/api/v1/auctions")).json()["total"] == 1
    await desk.books_are_whole()


async def test_a_default_withdraws_a_banks_own_lot_of_its_collateral_and_releases_its_deposits(
    house: AuctionHouse, desk: DisposalDesk, context: AppContext
) -> None:
    _, bank = await house.bank()
    loan = await desk.loan(bank)
    ((_, bidder),) = await house.bidders(1)
    before = await _available(house.market, bidder)
    # A lot of the loan's collateral made before such lots were refused: a plain lot, then its
    # collateral written in as the old code let it be.
    lot = await house.create(bank, lot={"title": "Pledged patent, old lot"})
    ids = [c["id"] for c in loan["collateral"]]
    async with context.database.write() as session, session.begin():
        await session.execute(
            update(Auction).where(Auction.id == lot["id"]).values(collateral_ids=json.dumps(ids))
        )
    await house.register(lot["id"], bidder)
    assert await _available(house.market, bidder) != before

    case = await desk.opened(loan["id"], bank)

    view = await house.view(lot["id"], bank)
    assert view["state"] == "cancelled", view
    assert await _available(house.market, bidder) == before
    assert case["state"] == "awaiting_round"
    await desk.books_are_whole()


# ---- F9: a fund advances only on a seasoned enrolment -----------------------------------------


async def test_a_loan_enrolled_and_defaulted_at_once_gets_no_advance_and_a_seasoned_one_does(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, context: AppContext
) -> None:
    _, bank = await market.participant(["bank"], name="Shell-loan Bank")
    fund = await _fund(client, market, "Probe fund", 4000, "1000000.00", "5000000.00")
    fresh_on = (desk.clock() - timedelta(days=5)).date().isoformat()
    body = patent_loan(number="ZL202110000201.X") | {"originated_on": fresh_on}
    fresh = dict(await post_ok(client, "/api/v1/loans", body, bank))
    assert (await _enrol(client, fresh["id"], fund["id"], bank)).status_code == 201
    before = await _available(market, bank)

    case = await desk.opened(fresh["id"], bank, accrued_interest="0.00")

    assert await _available(market, bank) == before
    assert case["compensation"] == []
    detail = (await client.get(f"/api/v1/compensation-funds/{fund['id']}", headers=market.admin)).json()
    assert detail["balance"] == "5000000.00"
    assert detail["enrolments_by_state"] == {"unseasoned": 1}

    # A loan enrolled long enough before its default is advanced on, as before.
    seasoned = await desk.loan(bank, collateral=patent_loan(number="ZL202110000202.X")["collateral"])
    assert (await _enrol(client, seasoned["id"], fund["id"], bank)).status_code == 201
    desk.clock.advance(90 * DAY_S + 1)
    case = await desk.opened(seasoned["id"], bank)
    assert [(line["kind"], line["amount"]) for line in case["compensation"]] == [("advance", "800000.00")]
    async with context.database.read() as session:
        states = dict(
            (await session.execute(select(CompensationEnrolment.loan_id, CompensationEnrolment.state))).all()
        )
    assert states == {fresh["id"]: "unseasoned", seasoned["id"]: "advanced"}
    await desk.books_are_whole()


async def test_only_a_performing_loan_is_enrolled(client: httpx.AsyncClient, market: Market) -> None:
    _, bank = await market.participant(["bank"])
    fund = await _fund(client, market, "Strict fund", 4000, "1000000.00", "100000.00")
    overdue = dict(await post_ok(client, "/api/v1/loans", patent_loan() | {"status": "overdue"}, bank))
    response = await _enrol(client, overdue["id"], fund["id"], bank)
    _problem(response, 409, "loan_not_performing", "loan_id")


# ---- F10: the claim at default is bounded -----------------------------------------------------


async def test_the_claim_at_default_is_bounded_by_the_loans_rate_principal_and_days(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, context: AppContext
) -> None:
    _, bank = await market.participant(["bank"])
    five_days_ago = (shanghai_trade_date(desk.clock()) - timedelta(days=5)).isoformat()
    body = patent_loan(outstanding="1000000.00", appraisal="5000000.00") | {
        "principal": "1000000.00",
        "rate_bps": 400,
        "originated_on": five_days_ago,
    }
    loan: dict[str, Any] = dict(await post_ok(client, "/api/v1/loans", body, bank))
    huge = "9999999999999.99"
    # 1,000,000.00 at 4 % for 5 days is 547.95; with the 2 % tolerance 558.91. The penalty rate is
    # at most 150 % of 4 %: 821.92. Costs at most 10 % of the outstanding principal: 100,000.00.
    for overrides, field in (
        ({"accrued_interest": huge}, "accrued_interest"),
        ({"accrued_interest": "558.92"}, "accrued_interest"),
        ({"accrued_interest": "0.00", "penalty_interest": huge}, "penalty_interest"),
        ({"accrued_interest": "0.00", "penalty_interest": "821.93"}, "penalty_interest"),
        ({"accrued_interest": "0.00", "realization_costs": huge}, "realization_costs"),
        ({"accrued_interest": "0.00", "realization_costs": "100000.01"}, "realization_costs"),
    ):
        _problem(await desk.default(loan["id"], bank, **overrides), 422, "claim_above_bound", field)
    async with context.database.read() as session:
        status = (await session.execute(select(Loan.status).where(Loan.id == loan["id"]))).scalar_one()
    assert status == "performing"

    case = await desk.opened(
        loan["id"],
        bank,
        accrued_interest="558.91",
        penalty_interest="821.92",
        realization_costs="60000.00",
    )
    claim = case["claim"]
    assert (claim["interest"], claim["penalty_interest"], claim["costs"]) == (
        "558.91",
        "821.92",
        "60000.00",
    )
    # Costs added later count toward the same bound, in total.
    costs = f"/api/v1/disposals/{case['id']}/costs"
    over = await client.post(costs, json={"amount": "40000.01", "description": "auction fee"}, headers=bank)
    _problem(over, 422, "claim_above_bound", "amount")
    await post_ok(client, costs, {"amount": "40000.00", "description": "auction fee"}, bank)
    await desk.books_are_whole()
