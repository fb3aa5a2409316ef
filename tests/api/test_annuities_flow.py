"""Patent annuities end to end over HTTP: the schedule, the escrow, the daily run paying on time
and late, grace and its alerts, a lapse with the loan's figures recomputed, and a restoration."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from tests.api.annuity_support import (
    INVENTION_NUMBER,
    UTILITY_NUMBER,
    annuities,
    annuity_loan,
    fees_of,
    fund_escrow,
    ledger_sum_fen,
    payee_balance_fen,
    run_on,
    travel_to_day,
)
from tests.api.market_support import post_ok
from tests.conftest import FakeClock, Market
from transfer.kernel.audit_tables import AuditEvent

pytestmark = pytest.mark.db
A, B = INVENTION_NUMBER, UTILITY_NUMBER


async def _alerts(http: httpx.AsyncClient, headers: dict[str, str], **query: str) -> list[dict[str, object]]:
    response = await http.get("/api/v1/participants/me/alerts", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_loan_with_two_patents_is_carried_paid_on_time_paid_late_lapsed_and_restored(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    bank_id, bank = await market.participant(["bank"], funds="10000.00")
    clearing = await market.clearing()
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    assert loan["ip_share_ppm"] == 900_000

    view = await annuities(client, loan["id"], bank)
    fees = fees_of(view)
    assert sorted(fees) == [(A, 11), (A, 12), (B, 8), (B, 9)]
    assert [(fees[k]["due_on"], fees[k]["fee"], fees[k]["status"]) for k in sorted(fees)] == [
        ("2026-03-16", "4000.00", "scheduled"),  # Sunday 15 March 2026
        ("2027-03-15", "4000.00", "scheduled"),
        ("2026-04-10", "1200.00", "scheduled"),
        ("2027-04-12", "2000.00", "scheduled"),  # Saturday 10 April 2027
    ]
    assert (view["escrow_balance"], view["coverage"]) == ("0.00", "11200.00")

    # Clearing records the enterprise's prepayment of one year; the same reference is booked once.
    funded = await fund_escrow(client, loan["id"], clearing, "4000.00", "PREPAY-2026-001")
    assert (funded["source"], funded["escrow_balance"]) == ("received", "4000.00")
    again = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        json={"amount": "4000.00", "reference": "PREPAY-2026-001"},
        headers=clearing,
    )
    assert again.status_code == 409 and again.json()["code"] == "reference_already_booked", again.text

    # The escrow covers the invention's fee, not the utility model's 40 days later: an alert now.
    await run_on(context, clock, date(2026, 3, 1))
    [short] = await _alerts(client, bank)
    assert (short["kind"], short["amount"], short["due_on"]) == ("escrow_short", "1200.00", "2026-04-10")

    # Paid on its (moved) due date, from escrow, with a receipt.
    assert (await run_on(context, clock, date(2026, 3, 16))).paid == 1
    view = await annuities(client, loan["id"], bank)
    paid = fees_of(view)[(A, 11)]
    assert (paid["status"], paid["paid_on"], paid["paid_from"], paid["late_fee"]) == (
        "paid",
        "2026-03-16",
        "escrow",
        "0.00",
    )
    assert paid["receipt"] == f"annuity:{paid['id']}:paid"
    assert view["escrow_balance"] == "0.00"

    # The utility model's fee goes unpaid: in grace the day after, an alert each grace month.
    await run_on(context, clock, date(2026, 4, 10))
    assert fees_of(await annuities(client, loan["id"], bank))[(B, 8)]["status"] == "scheduled"
    await run_on(context, clock, date(2026, 4, 11))
    await run_on(context, clock, date(2026, 4, 30))
    await run_on(context, clock, date(2026, 5, 12))  # the second month: 5 %
    grace = await _alerts(client, bank, kind="annuity_in_grace")
    assert [(a["amount"], a["due_on"]) for a in grace] == [("60.00", "2026-04-10"), ("0.00", "2026-04-10")]

    # Paid late in its third month, as soon as the escrow holds the fee and its 10 % late fee.
    travel_to_day(clock, date(2026, 6, 20))
    await fund_escrow(client, loan["id"], clearing, "1320.00", "PREPAY-2026-002")
    assert (await run_on(context, clock, date(2026, 6, 20))).paid == 1
    late = fees_of(await annuities(client, loan["id"], bank))[(B, 8)]
    assert (late["status"], late["late_fee"], late["paid_on"]) == ("paid", "120.00", "2026-06-20")

    # The invention's next fee is never paid: it lapses after its six grace months.
    assert (await run_on(context, clock, date(2027, 9, 15))).lapsed == []
    result = await run_on(context, clock, date(2027, 9, 16))
    assert [fee.patent_year for fee in result.lapsed] == [12]
    after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert [c["state"] for c in after["collateral"]] == ["lapsed", "pledged", "pledged", "pledged"]
    assert (after["ip_share_ppm"], after["appraisal_in_force"]) == (750_000, "2000000.00")
    lapsed = fees_of(await annuities(client, loan["id"], bank))[(A, 12)]
    assert (lapsed["status"], lapsed["lapsed_on"], lapsed["restore_by"]) == (
        "lapsed",
        "2027-09-16",
        "2027-11-16",
    )
    assert [a["kind"] for a in await _alerts(client, bank, kind="annuity_lapsed")] == ["annuity_lapsed"]

    # Restored within two months by the creditor: the fee, the 25 % late fee and 1,000.00.
    travel_to_day(clock, date(2027, 10, 20))
    restored = await post_ok(
        client, f"/api/v1/loans/{loan['id']}/annuities/{lapsed['id']}/pay", {}, bank, 200
    )
    assert (restored["status"], restored["late_fee"], restored["restoration_fee"], restored["total"]) == (
        "restored",
        "1000.00",
        "1000.00",
        "6000.00",
    )
    after = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    assert after["collateral"][0]["state"] == "pledged"
    assert (after["ip_share_ppm"], after["appraisal_in_force"]) == (900_000, "5000000.00")
    assert (await market.balances(bank))["available"] == "4000.00"

    assert await payee_balance_fen(context) == 400_000 + 132_000 + 600_000
    assert await ledger_sum_fen(context) == 0
    # Every balance the run moved by statement equals its transfers' net: reconciliation is clean.
    recon = await client.get("/api/v1/clearing/reconciliation?date=2027-10-20", headers=clearing)
    assert recon.status_code == 200 and recon.json()["breaks"] == [], recon.text
    async with context.database.read() as session:
        kinds = set((await session.execute(select(AuditEvent.type))).scalars())
    assert {
        "annuity.escrow_funded",
        "annuity.run_paid",
        "annuity.lapsed",
        "annuity.restored",
        "alert.raised",
    } <= kinds
    assert bank_id == after["creditor_id"]


async def test_a_stranger_bank_sees_and_pays_nothing_of_another_banks_annuities(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    _, stranger = await market.participant(["bank"], funds="10000.00")
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    fee = fees_of(await annuities(client, loan["id"], bank))[(A, 11)]

    reads = await client.get(f"/api/v1/loans/{loan['id']}/annuities", headers=stranger)
    pays = await client.post(
        f"/api/v1/loans/{loan['id']}/annuities/{fee['id']}/pay", json={}, headers=stranger
    )
    funds = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        json={"amount": "1.00", "reference": "X1"},
        headers=stranger,
    )
    for response in (reads, pays, funds):
        assert response.status_code == 404 and response.json()["code"] == "loan_not_found", response.text
    assert (await market.balances(stranger))["available"] == "10000.00"
    assert fees_of(await annuities(client, loan["id"], bank))[(A, 11)]["status"] == "scheduled"

    # Another loan's fee id under one's own loan is not found either.
    own = await post_ok(
        client, "/api/v1/loans", annuity_loan("ZL201610009999.X", "ZL201920009999.1"), stranger
    )
    cross = await client.post(
        f"/api/v1/loans/{own['id']}/annuities/{fee['id']}/pay", json={}, headers=stranger
    )
    assert cross.status_code == 404 and cross.json()["code"] == "annuity_not_found", cross.text


async def test_the_creditor_pays_from_its_funds_once_and_a_second_payment_is_refused(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="5000.00")
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    fee = fees_of(await annuities(client, loan["id"], bank))[(A, 11)]
    path = f"/api/v1/loans/{loan['id']}/annuities/{fee['id']}/pay"

    paid = await post_ok(client, path, {}, bank, 200)
    again = await client.post(path, json={}, headers=bank)

    assert (paid["status"], paid["total"]) == ("paid", "4000.00")
    assert again.status_code == 409 and again.json()["code"] == "annuity_already_paid", again.text
    assert (await market.balances(bank))["available"] == "1000.00"
    assert (await run_on(context, clock, date(2026, 3, 16))).paid == 0
    poor = await client.post(
        f"/api/v1/loans/{loan['id']}/annuities/{fees_of(await annuities(client, loan['id'], bank))[(A, 12)]['id']}/pay",
        json={},
        headers=bank,
    )
    assert poor.status_code == 409 and poor.json()["code"] == "insufficient_funds", poor.text
    assert await ledger_sum_fen(context) == 0


async def test_the_creditor_funds_the_escrow_from_its_own_funds_and_cannot_overdraw(
    client: httpx.AsyncClient, market: Market, clock: FakeClock
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="1000.00")
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)

    funded = await fund_escrow(client, loan["id"], bank, "600.00", "OWN-1")
    short = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        json={"amount": "500.00", "reference": "OWN-2"},
        headers=bank,
    )
    bad = await client.post(
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        json={"amount": "-1.00", "reference": "OWN-3"},
        headers=bank,
    )

    assert (funded["source"], funded["escrow_balance"]) == ("creditor_funds", "600.00")
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds", short.text
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount", bad.text
    assert (await market.balances(bank))["available"] == "400.00"
    assert (await annuities(client, loan["id"], bank))["escrow_balance"] == "600.00"
