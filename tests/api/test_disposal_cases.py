"""Disposal cases: who may default a loan and what a default withdraws; costs; cure; reading cases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from app.http.key_cache import REFRESH_AHEAD_S
from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import post_ok
from tests.api.repayment_support import fund_repayment
from tests.api.statements import request_statements
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db


async def test_only_the_creditor_defaults_a_live_loan_and_a_refusal_changes_nothing(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, holder = await market.participant(["bank"], funds="600000.00")
    _, stranger = await market.participant(["bank"])
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, holder)

    for who in (stranger, holder):
        response = await desk.default(loan["id"], who)
        assert response.status_code == 403 and response.json()["code"] == "not_creditor", response.text
    bad = await desk.default(loan["id"], bank, accrued_interest="-1.00")
    assert bad.status_code == 422, bad.text
    blank = await desk.default(loan["id"], bank, reason="  ")
    assert blank.status_code == 422, blank.text
    missing = await desk.default(999_999, bank)
    assert missing.status_code == 404, missing.text
    after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert after["status"] == "performing" and [c["state"] for c in after["collateral"]] == ["pledged"]

    await desk.opened(loan["id"], bank)
    again = await desk.default(loan["id"], bank)
    assert again.status_code == 409 and again.json()["code"] == "loan_already_defaulted", again.text


async def test_a_repaid_loan_cannot_default(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await desk.loan(bank, outstanding_principal="1000.00")
    body = {"principal": "1000.00", "interest": "0.00", "received_on": "2026-11-30"}
    await fund_repayment(client, market, bank, body)
    await post_ok(client, f"/api/v1/loans/{loan['id']}/repayments", body, bank)
    response = await desk.default(loan["id"], bank)
    assert response.status_code == 409 and response.json()["code"] == "loan_repaid", response.text


async def test_a_default_takes_the_loan_off_the_market(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, house: object
) -> None:
    _, bank = await market.participant(["bank"])
    _, buyer = await market.participant(["bank"], funds="900000.00")
    _, bidder = await market.participant(["bidder"], funds="900000.00")
    loan = await desk.loan(bank)
    negotiated = await post_ok(
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
    offer = await post_ok(
        client, f"/api/v1/listings/{negotiated['id']}/offers", {"price": "490000.00"}, buyer
    )
    matched = await post_ok(
        client,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 50_000,
            "asking_price": "250000.00",
        },
        bank,
    )
    matched_offer = await post_ok(
        client, f"/api/v1/listings/{matched['id']}/offers", {"price": "250000.00"}, buyer
    )
    trade = await post_ok(client, f"/api/v1/offers/{matched_offer['id']}/accept", {}, bank)
    now = desk.clock()
    terms = {
        "kind": "english",
        "start_price": "400000.00",
        "increment": "1000.00",
        "deposit": "40000.00",
        "starts_at": (now + timedelta(seconds=10)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    by_auction = await post_ok(
        client,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "auction",
            "share_ppm": 100_000,
            "asking_price": "400000.00",
            "auction": terms,
        },
        bank,
    )
    auction = {"id": by_auction["auction_id"]}
    await house.register(auction["id"], bidder)  # type: ignore[attr-defined]
    assert (await market.balances(bidder))["held"] == "40000.00"

    case = await desk.opened(loan["id"], bank)

    listings = {
        item["id"]: item["status"]
        for item in (await client.get("/api/v1/listings", headers=bank)).json()["items"]
    }
    assert listings == {
        negotiated["id"]: "withdrawn",
        matched["id"]: "matched",
        by_auction["id"]: "withdrawn",
    }
    assert (await client.get(f"/api/v1/listings/{negotiated['id']}", headers=bank)).json()[
        "status"
    ] == "withdrawn"
    accept = await client.post(f"/api/v1/offers/{offer['id']}/accept", json={}, headers=bank)
    assert accept.status_code == 409, accept.text
    cancelled = (await client.get(f"/api/v1/auctions/{auction['id']}", headers=bank)).json()
    assert cancelled["state"] == "cancelled"
    assert await market.balances(bidder) == {"available": "900000.00", "held": "0.00"}
    settle = await client.post(
        f"/api/v1/trades/{trade['id']}/settle", json={}, headers=await market.clearing()
    )
    assert settle.status_code == 409 and settle.json()["code"] == "loan_defaulted", settle.text
    relist = await client.post(
        "/api/v1/listings",
        json={
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 1000,
            "asking_price": "1.00",
        },
        headers=bank,
    )
    assert relist.status_code == 409 and relist.json()["code"] == "loan_defaulted", relist.text
    direct = await client.post(
        "/api/v1/auctions",
        json=house.body(lot={"title": "patent", "collateral_ids": [c["id"] for c in case["collateral"]]}),  # type: ignore[attr-defined]
        headers=bank,
    )
    assert direct.status_code == 409 and direct.json()["code"] == "collateral_in_disposal", direct.text
    await desk.books_are_whole()


async def test_costs_added_by_the_creditor_only_while_the_case_runs(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, stranger = await market.participant(["bank"])
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank, realization_costs="1000.00")
    path = f"/api/v1/disposals/{case['id']}/costs"
    added = await post_ok(client, path, {"amount": "2500.50", "description": "appraisal update"}, bank)
    assert added["claim"]["costs"] == "3500.50"
    assert [c["amount"] for c in added["costs"]] == ["1000.00", "2500.50"]
    refused = await client.post(path, json={"amount": "1.00", "description": "x"}, headers=stranger)
    assert refused.status_code == 403, refused.text
    zero = await client.post(path, json={"amount": "0.00", "description": "x"}, headers=bank)
    assert zero.status_code == 422, zero.text
    assert (await desk.case(case["id"], bank))["claim"]["costs"] == "3500.50"


async def test_repaid_in_full_the_case_is_cured_and_its_round_withdrawn(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, bidder = await market.participant(["bidder"], funds="100000.00")
    # 15 % a year: the 50,000.00 of interest collected below is within what the loan accrued.
    loan = await desk.loan(bank, outstanding_principal="300000.00", rate_bps=1_500)
    case = await desk.opened(loan["id"], bank)
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    body = {"principal": "100000.00", "interest": "20000.00", "received_on": "2026-11-30"}
    await fund_repayment(client, market, bank, body)
    partial = await post_ok(client, f"/api/v1/loans/{loan['id']}/repayments", body, bank)
    assert partial["outstanding_principal"] == "200000.00"
    assert (await desk.case(case["id"], bank))["claim"]["interest_repaid"] == "20000.00"
    body = {"principal": "200000.00", "interest": "30000.00", "received_on": "2026-11-30"}
    await fund_repayment(client, market, bank, body)
    await post_ok(client, f"/api/v1/loans/{loan['id']}/repayments", body, bank)
    cured = await desk.case(case["id"], bank)
    assert (cured["state"], cured["outcome"]) == ("cured", "cured")
    assert cured["steps"][0]["result"] == "cancelled" and cured["steps"][0]["auction_state"] == "cancelled"
    assert await market.balances(bidder) == {"available": "100000.00", "held": "0.00"}
    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert loan_after["status"] == "repaid" and [c["state"] for c in loan_after["collateral"]] == ["released"]
    await desk.books_are_whole()


async def test_cases_are_listed_for_their_parties_only(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, other_bank = await market.participant(["bank"])
    _, holder = await market.participant(["bank"], funds="600000.00")
    first = await desk.loan(bank)
    await desk.sell_share(first["id"], bank, holder)
    second = await desk.loan(
        other_bank, collateral=[{**desk_collateral(), "registry_number": "ZL202110000002.X"}]
    )
    mine = await desk.opened(first["id"], bank)
    theirs = await desk.opened(second["id"], other_bank)

    def ids(response: httpx.Response) -> list[int]:
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(await client.get("/api/v1/disposals", headers=bank)) == [mine["id"]]
    assert ids(await client.get("/api/v1/disposals", headers=holder)) == [mine["id"]]
    clearing = await market.clearing()
    assert ids(await client.get("/api/v1/disposals", headers=clearing)) == [theirs["id"], mine["id"]]
    assert ids(await client.get("/api/v1/disposals?state=settled", headers=clearing)) == []
    page = await client.get("/api/v1/disposals?limit=1&offset=1", headers=clearing)
    assert page.json()["total"] == 2 and ids(page) == [mine["id"]]
    unknown = await client.get("/api/v1/disposals?state=bogus", headers=clearing)
    assert unknown.status_code == 422, unknown.text
    assert (await client.get(f"/api/v1/disposals/{theirs['id']}", headers=bank)).status_code == 404
    assert (await client.get("/api/v1/disposals")).status_code == 401


async def test_a_page_of_cases_is_read_in_the_same_statements_whatever_its_length(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    clearing = await market.clearing()

    async def page_statements() -> int:
        with request_statements(desk.context.database) as seen:
            response = await client.get("/api/v1/disposals?limit=50", headers=clearing)
        assert response.status_code == 200, response.text
        # Resolving the key again, when its cache entry is not fresh, is not the page's reading.
        return sum("api_key" not in statement for statement in seen)

    await desk.case_on_patent(bank, "ZL202110000201.X")
    await page_statements()  # the first also looks the key up
    one = await page_statements()
    assert one > 0  # the page's own statements are counted
    for number in ("ZL202110000202.X", "ZL202110000203.X", "ZL202110000204.X"):
        await desk.case_on_patent(bank, number)
    # Past the key cache's refresh age, so a generation reading runs beside the page (the CI
    # failure of session 12: 10 == 9 on SQLite, that reading's BEGIN counted).
    await asyncio.sleep(REFRESH_AHEAD_S + 0.05)
    assert await page_statements() == one


def desk_collateral() -> dict[str, str]:
    from tests.api.disposal_support import patent_loan

    return dict(patent_loan()["collateral"][0])
