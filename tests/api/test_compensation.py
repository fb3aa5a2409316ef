"""Risk compensation through the HTTP API: layered funds advance at default and clear when the
disposal ends (a refund by the holders, a top-up by a fund short of money), a cure refunds the whole
advance (a holder who spent it owes it), two defaults never spend one balance twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.db import Database
from app.settings import Settings, load_settings
from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import loan_body, post_ok
from tests.api.pool_support import AgencyDesk, books_are_whole
from tests.api.repayment_support import fund_repayment
from tests.conftest import ADMIN_KEY, Market

pytestmark = pytest.mark.db


@pytest.fixture
def settings(database: Database) -> Settings:
    """These tests follow the advance's arithmetic on loans defaulted right after their enrolment,
    so enrolments need no seasoning here (IPX_COMPENSATION_SEASONING_DAYS: test_disposal_guards)."""
    return load_settings(
        {},
        database_url=database.url,
        admin_api_key=ADMIN_KEY,
        scheduler_enabled=False,
        auction_min_duration_s=0,
        compensation_seasoning_days=0,
    )


async def _fund(
    client: httpx.AsyncClient, market: Market, name: str, bps: int, cap: str, funds: str, **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "region": "Zhejiang", "fund_share_bps": bps, "per_loan_cap": cap, **extra}
    fund = dict(await post_ok(client, "/api/v1/compensation-funds", body, market.admin))
    await post_ok(
        client,
        f"/api/v1/compensation-funds/{fund['id']}/funds",
        {"amount": funds, "reference": f"GRANT-{fund['id']}-1"},
        await market.clearing(),
    )
    return fund


async def _detail(client: httpx.AsyncClient, market: Market, fund_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/compensation-funds/{fund_id}", headers=await market.clearing())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _enrol(
    client: httpx.AsyncClient, loan_id: int, fund_id: int, bank: dict[str, str]
) -> httpx.Response:
    return await client.post(f"/api/v1/loans/{loan_id}/compensation", json={"fund_id": fund_id}, headers=bank)


def _lines(case: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return [
        (line["fund_name"], line["kind"], line["holder_id"], line["amount"]) for line in case["compensation"]
    ]


async def test_funds_are_made_by_admins_funded_once_per_reference_and_refuse_bad_input(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    body = {
        "name": "Zhejiang IP fund",
        "region": "Zhejiang",
        "fund_share_bps": 4000,
        "per_loan_cap": "1000000.00",
    }
    assert (await client.post("/api/v1/compensation-funds", json=body, headers=bank)).status_code == 403
    for field, value in (("fund_share_bps", 0), ("fund_share_bps", 10_001), ("per_loan_cap", "0.00")):
        bad = await client.post(
            "/api/v1/compensation-funds", json={**body, field: value}, headers=market.admin
        )
        assert bad.status_code in (400, 422), bad.text
        assert field in bad.text
    fund = await post_ok(client, "/api/v1/compensation-funds", body, market.admin)
    again = await client.post("/api/v1/compensation-funds", json=body, headers=market.admin)
    assert again.status_code == 409 and again.json()["code"] == "fund_name_taken", again.text

    clearing = await market.clearing()
    money = {"amount": "500000.00", "reference": "GRANT-2026-01"}
    path = f"/api/v1/compensation-funds/{fund['id']}/funds"
    assert (await client.post(path, json=money, headers=bank)).status_code == 403
    first = await post_ok(client, path, money, clearing)
    second = await post_ok(client, path, money, clearing)
    assert first["transfer_id"] == second["transfer_id"] and second["balance"] == "500000.00"
    missing = await client.post("/api/v1/compensation-funds/999999/funds", json=money, headers=clearing)
    assert missing.status_code == 404, missing.text
    assert (await client.get(f"/api/v1/compensation-funds/{fund['id']}", headers=bank)).status_code == 403
    assert (await _detail(client, market, fund["id"]))["balance"] == "500000.00"


async def test_only_the_creditor_enrols_a_performing_loan_meeting_the_fund_s_criteria(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, stranger = await market.participant(["bank"])
    strict = await _fund(
        client, market, "Strict city fund", 2000, "100000.00", "10.00", ip_share_min_bps=8000
    )
    mixed = dict(await post_ok(client, "/api/v1/loans", loan_body(), bank))  # 75 % IP
    refused = await _enrol(client, mixed["id"], strict["id"], bank)
    assert refused.status_code == 409 and refused.json()["code"] == "ip_share_below_minimum", refused.text
    patent = await desk.loan(bank)  # 100 % IP
    assert (await _enrol(client, patent["id"], strict["id"], stranger)).status_code == 403
    assert (await _enrol(client, patent["id"], 999_999, bank)).status_code == 404
    enrolled = await _enrol(client, patent["id"], strict["id"], bank)
    assert enrolled.status_code == 201, enrolled.text
    assert (enrolled.json()["state"], enrolled.json()["ip_share_ppm"]) == ("enrolled", 1_000_000)
    twice = await _enrol(client, patent["id"], strict["id"], bank)
    assert twice.status_code == 409 and twice.json()["code"] == "already_enrolled", twice.text
    assert (await _detail(client, market, strict["id"]))["exposure"] == "2000000.00"
    await desk.opened(patent["id"], bank)
    late = await _enrol(client, patent["id"], strict["id"], bank)
    assert late.status_code == 409, late.text
    assert (await _detail(client, market, strict["id"]))["exposure"] == "0.00"


async def test_layered_funds_advance_at_default_and_clear_after_a_sale_with_a_shortfall(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Creditor Bank")
    h1_id, h1 = await market.participant(["bank"], funds="600000.00", name="Holder One")
    h2_id, h2 = await market.participant(["bank"], funds="600000.00", name="Holder Two")
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    province = await _fund(client, market, "Province fund", 4000, "1000000.00", "2000000.00")
    city = await _fund(client, market, "City fund", 2000, "100000.00", "80000.00")
    loan = await desk.loan(bank)  # 2,000,000.00 outstanding on one patent: 100 % IP
    await desk.sell_share(loan["id"], bank, h1)
    await desk.sell_share(loan["id"], bank, h2)
    for fund in (province, city):
        assert (await _enrol(client, loan["id"], fund["id"], bank)).status_code == 201
    before = {
        who: (await market.balances(headers))["available"] for who, headers in (("h1", h1), ("bank", bank))
    }

    case = await desk.opened(loan["id"], bank)
    # Province: 40 % of 2,000,000.00 = 800,000.00. City: 20 % = 400,000.00, capped at 100,000.00,
    # of which its 80,000.00 balance pays 80,000.00 and 20,000.00 is its shortfall.
    assert sorted(_lines(case)) == sorted(
        [
            ("Province fund", "advance", bank_id, "640000.00"),
            ("Province fund", "advance", h1_id, "80000.00"),
            ("Province fund", "advance", h2_id, "80000.00"),
            ("City fund", "advance", bank_id, "64000.00"),
            ("City fund", "advance", h1_id, "8000.00"),
            ("City fund", "advance", h2_id, "8000.00"),
        ]
    )
    city_view = await _detail(client, market, city["id"])
    assert (city_view["balance"], city_view["advanced"], city_view["fund_shortfall"]) == (
        "0.00",
        "80000.00",
        "20000.00",
    )
    assert (await market.balances(h1))["available"] == f"{float(before['h1']) + 88000:.2f}"
    await desk.books_are_whole()

    # The city tops its fund up before the case ends.
    await post_ok(
        client,
        f"/api/v1/compensation-funds/{city['id']}/funds",
        {"amount": "30000.00", "reference": "TOPUP-1"},
        await market.clearing(),
    )
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, "700000.00")
    desk.travel_to(step["ends_at"])
    await desk.tick()
    paid = await client.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    await desk.tick()

    # 700,000.00: 50,000.00 interest, then 650,000.00 principal; the final loss is 1,350,000.00.
    # Province's final share 540,000.00: the holders refund 260,000.00 of its 800,000.00.
    # City's final share 270,000.00, capped at 100,000.00: it tops its 80,000.00 up by 20,000.00.
    case = await desk.case(case["id"], bank)
    assert case["state"] == "settled" and case["shortfall"] == "1350000.00"
    clearing_lines = [line for line in _lines(case) if line[1] != "advance"]
    assert sorted(clearing_lines) == sorted(
        [
            ("Province fund", "refund", bank_id, "208000.00"),
            ("Province fund", "refund", h1_id, "26000.00"),
            ("Province fund", "refund", h2_id, "26000.00"),
            ("City fund", "top_up", bank_id, "16000.00"),
            ("City fund", "top_up", h1_id, "2000.00"),
            ("City fund", "top_up", h2_id, "2000.00"),
        ]
    )
    province_view = await _detail(client, market, province["id"])
    assert province_view["balance"] == "1460000.00"  # 2,000,000 − 800,000 + 260,000
    (enrolment,) = province_view["enrolments"]
    assert (enrolment["state"], enrolment["final_loss"], enrolment["final_share"]) == (
        "cleared",
        "1350000.00",
        "540000.00",
    )
    city_view = await _detail(client, market, city["id"])
    assert (city_view["balance"], city_view["topped_up"], city_view["fund_shortfall"]) == (
        "10000.00",
        "20000.00",
        "0.00",
    )
    report = await client.get(
        f"/api/v1/compensation-funds/{province['id']}/report?format=csv", headers=await market.clearing()
    )
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = report.text.strip().splitlines()
    assert rows[0].startswith("line_id,created_at,loan_id,kind") and len(rows) == 1 + 6
    await desk.books_are_whole()


async def test_a_cure_refunds_the_whole_advance_and_a_holder_who_spent_it_owes_it(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"])
    h1_id, h1 = await market.participant(["bank"], funds="600000.00")
    fund = await _fund(client, market, "Cure fund", 5000, "2000000.00", "2000000.00")
    loan = await desk.loan(bank, outstanding_principal="1000000.00")
    await desk.sell_share(loan["id"], bank, h1)
    assert (await _enrol(client, loan["id"], fund["id"], bank)).status_code == 201
    case = await desk.opened(loan["id"], bank)
    # 50 % of 1,000,000.00: 450,000.00 to the bank (90 %), 50,000.00 to the holder (10 %).
    assert sorted(_lines(case)) == sorted(
        [("Cure fund", "advance", bank_id, "450000.00"), ("Cure fund", "advance", h1_id, "50000.00")]
    )
    repay = f"/api/v1/loans/{loan['id']}/repayments"
    body = {"principal": "900000.00", "interest": "0.00", "received_on": "2026-11-30"}
    await fund_repayment(client, market, bank, body)
    await post_ok(client, repay, body, bank)
    # The holder takes all it has (its advance and its 90,000.00 of the repayment) out of the market.
    spent = (await market.balances(h1))["available"]
    clearing = await market.clearing()
    await post_ok(
        client,
        f"/api/v1/participants/{h1_id}/withdrawals",
        {"amount": spent, "reference": "WD-ALL"},
        clearing,
    )
    await post_ok(
        client, repay, {"principal": "100000.00", "interest": "0.00", "received_on": "2026-11-30"}, bank
    )

    case = await desk.case(case["id"], bank)
    assert case["state"] == "cured"
    # Nothing was lost: the whole advance comes back. The holder has only the last repayment's
    # 10,000.00 to refund from, and owes the other 40,000.00.
    assert sorted(line for line in _lines(case) if line[1] != "advance") == sorted(
        [
            ("Cure fund", "refund", bank_id, "450000.00"),
            ("Cure fund", "refund", h1_id, "10000.00"),
            ("Cure fund", "owed", h1_id, "40000.00"),
        ]
    )
    assert (await market.balances(h1))["available"] == "0.00"
    view = await _detail(client, market, fund["id"])
    assert (view["balance"], view["refunded"], view["owed"]) == ("1960000.00", "460000.00", "40000.00")
    await desk.books_are_whole()


async def test_two_defaults_never_spend_one_fund_balance_twice(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    fund = await _fund(client, market, "Thin fund", 4000, "1000000.00", "1000000.00")
    loans = [
        await desk.loan(bank, collateral=[{**_patent(), "registry_number": f"ZL20211000030{i}.X"}])
        for i in (1, 2)
    ]
    for loan in loans:
        assert (await _enrol(client, loan["id"], fund["id"], bank)).status_code == 201

    defaults = await asyncio.gather(*(desk.default(loan["id"], bank) for loan in loans))
    assert [response.status_code for response in defaults] == [201, 201], [r.text for r in defaults]
    view = await _detail(client, market, fund["id"])
    # Each wants 800,000.00; the fund has 1,000,000.00: one is paid in full, the other 200,000.00.
    advances = sorted(enrolment["advance"] for enrolment in view["enrolments"])
    shortfalls = sorted(enrolment["fund_shortfall"] for enrolment in view["enrolments"])
    assert advances == ["200000.00", "800000.00"] and shortfalls == ["0.00", "600000.00"]
    assert view["balance"] == "0.00"
    await desk.books_are_whole()


def _patent() -> dict[str, str]:
    from tests.api.disposal_support import patent_loan

    return dict(patent_loan()["collateral"][0])


async def test_an_earn_out_after_clearing_shares_back_with_the_fund_as_a_clawback(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank_id, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="2000000.00")
    pool = await agencies.pool(agency)
    fund = await _fund(client, market, "Clawback fund", 4000, "1000000.00", "2000000.00")
    loan = await desk.loan(bank)
    assert (await _enrol(client, loan["id"], fund["id"], bank)).status_code == 201
    case = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=3 * 365)).isoformat()
    offer = await agencies.offer_ok(
        case["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 2000, "cap": "30000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    # Bought out at 700,000.00: 650,000.00 of principal back, a loss of 1,350,000.00, the fund's
    # final share 540,000.00 of its 800,000.00 advance: 260,000.00 refunded.
    case = await desk.case(case["id"], bank)
    assert [line for line in _lines(case) if line[1] == "refund"] == [
        ("Clawback fund", "refund", bank_id, "260000.00")
    ]

    revenue = await client.post(
        f"/api/v1/pools/{pool['id']}/revenues",
        json={"amount": "100000.00", "received_on": "2027-03-01", "reference": "royalty-1"},
        headers=agency,
    )
    assert revenue.status_code == 201, revenue.text
    # 20 % of it (20,000.00) pays the remaining claim, all principal: the loss is 1,330,000.00 and
    # the fund's share 532,000.00, so 8,000.00 more comes back to it.
    case = await desk.case(case["id"], bank)
    assert [line for line in _lines(case) if line[1] == "clawback"] == [
        ("Clawback fund", "clawback", bank_id, "8000.00")
    ]
    view = await _detail(client, market, fund["id"])
    assert (view["balance"], view["refunded"]) == ("1468000.00", "268000.00")
    assert (view["enrolments"][0]["final_loss"], view["enrolments"][0]["final_share"]) == (
        "1330000.00",
        "532000.00",
    )
    loan_after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert (loan_after["outstanding_principal"], loan_after["remaining_claim"]) == (
        "1330000.00",
        "1330000.00",
    )
    # A second royalty in the same instant (the clock has not moved): its clawback is a transfer of
    # its own, not a clash with the first one's id. The earn-out's cap (30,000.00) leaves 10,000.00 of
    # it to the claim: 4,000.00 more back to the fund.
    second = await client.post(
        f"/api/v1/pools/{pool['id']}/revenues",
        json={"amount": "100000.00", "received_on": "2027-03-01", "reference": "royalty-2"},
        headers=agency,
    )
    assert second.status_code == 201, second.text
    case = await desk.case(case["id"], bank)
    assert [line[3] for line in _lines(case) if line[1] == "clawback"] == ["8000.00", "4000.00"]
    assert (await _detail(client, market, fund["id"]))["refunded"] == "272000.00"
    await books_are_whole(desk)
