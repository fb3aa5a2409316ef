"""The pledgor's surplus paid out as often as it arrives: earn-out revenue reaching a case after its
surplus was paid out makes a new surplus, which clearing pays out in turn (above the dual-control
threshold through a second clearing participant); nothing held is a 409."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from tests.api.disposal_support import DisposalDesk
from tests.api.pool_support import AgencyDesk, books_are_whole
from tests.conftest import Market
from transfer import ledger
from transfer.models import Account

pytestmark = __import__("pytest").mark.db


async def _case_paid_but_for_1000(
    market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> tuple[dict[str, str], dict[str, str], dict[str, Any], dict[str, Any]]:
    """A buyout at 700,000.00 leaves 1,000.00 of the claim (651,000.00 principal, 50,000.00
    interest); its earn-out is half the revenue, up to 3,000,000.00."""
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="5000000.00")
    pool = await agencies.pool(agency)
    loan = await desk.loan(bank, outstanding_principal="651000.00")
    case = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=400)).isoformat()
    offer = await agencies.offer_ok(
        case["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 5000, "cap": "3000000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    return bank, agency, case, pool


async def _revenue(
    client: httpx.AsyncClient, pool_id: int, agency: dict[str, str], amount: str, reference: str
) -> httpx.Response:
    body = {"amount": amount, "received_on": "2027-03-01", "reference": reference}
    return await client.post(f"/api/v1/pools/{pool_id}/revenues", json=body, headers=agency)


async def _pledgor_account_fen(desk: DisposalDesk) -> int:
    async with desk.context.database.read() as session:
        key = ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        return int(
            (await session.execute(select(Account.balance_fen).where(Account.key == key))).scalar_one()
        )


def _surplus(case: dict[str, Any]) -> tuple[str | None, str, str | None]:
    return case["surplus"], case["surplus_paid"], case["surplus_held"]


async def test_a_surplus_made_by_earn_outs_after_a_payout_is_paid_out_again_under_dual_control(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank, agency, case, pool = await _case_paid_but_for_1000(market, desk, agencies)
    maker = await market.clearing()
    _, checker = await market.participant(["clearing"])
    path = f"/api/v1/disposals/{case['id']}/surplus-payout"
    nothing = await client.post(path, json={"reference": "PAY-0"}, headers=maker)
    assert (nothing.status_code, nothing.json()["code"]) == (409, "no_surplus"), nothing.text

    assert (await _revenue(client, pool["id"], agency, "10000.00", "r1")).status_code == 201
    assert _surplus(await desk.case(case["id"], bank)) == ("4000.00", "0.00", "4000.00")
    first = await client.post(path, json={"reference": "PAY-1"}, headers=maker)
    assert first.status_code == 200, first.text
    assert _surplus(first.json()) == ("4000.00", "4000.00", "0.00")
    first_paid_at = first.json()["surplus_paid_at"]
    again = await client.post(path, json={"reference": "PAY-1b"}, headers=maker)
    assert (again.status_code, again.json()["code"]) == (409, "surplus_already_paid"), again.text
    assert again.json()["errors"][0]["field"] == "id"

    # Half of 2,400,000.00 goes to the case, whose claim is paid: a new surplus of 1,200,000.00.
    assert (await _revenue(client, pool["id"], agency, "2400000.00", "r2")).status_code == 201
    assert _surplus(await desk.case(case["id"], bank)) == ("1204000.00", "4000.00", "1200000.00")
    reused = await client.post(path, json={"reference": "PAY-1"}, headers=maker)
    assert (reused.status_code, reused.json()["code"]) == (409, "reference_already_booked"), reused.text
    asked = await client.post(path, json={"reference": "PAY-2"}, headers=maker)
    assert asked.status_code == 200, asked.text
    # Above IPX_DUAL_CONTROL_ABOVE (1,000,000.00): it waits, held in the pledgor account.
    assert (asked.json()["surplus_paid_at"], _surplus(asked.json())) == (
        first_paid_at,
        ("1204000.00", "4000.00", "1200000.00"),
    )
    assert await _pledgor_account_fen(desk) == 120_000_000
    (waiting,) = (await client.get("/api/v1/approvals?state=pending", headers=checker)).json()["items"]
    assert (waiting["kind"], waiting["amount"], waiting["reference"]) == (
        "surplus_payout",
        "1200000.00",
        "PAY-2",
    )
    own = await client.post(f"/api/v1/approvals/{waiting['id']}/approve", headers=maker)
    assert (own.status_code, own.json()["code"]) == (403, "maker_cannot_approve"), own.text
    desk.clock.advance(60)
    approved = await client.post(f"/api/v1/approvals/{waiting['id']}/approve", headers=checker)
    assert approved.status_code == 200, approved.text

    paid = await desk.case(case["id"], bank)
    assert _surplus(paid) == ("1204000.00", "1204000.00", "0.00")
    assert paid["surplus_reference"] == "PAY-2" and paid["surplus_paid_at"] != first_paid_at
    assert await _pledgor_account_fen(desk) == 0
    await books_are_whole(desk)


async def test_a_payout_racing_an_earn_out_pays_what_was_held_and_leaves_the_rest_held(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank, agency, case, pool = await _case_paid_but_for_1000(market, desk, agencies)
    clearing = await market.clearing()
    path = f"/api/v1/disposals/{case['id']}/surplus-payout"
    assert (await _revenue(client, pool["id"], agency, "10000.00", "r1")).status_code == 201
    assert (await client.post(path, json={"reference": "PAY-1"}, headers=clearing)).status_code == 200

    revenue, payout = await asyncio.gather(
        _revenue(client, pool["id"], agency, "10000.00", "r2"),
        client.post(path, json={"reference": "PAY-2"}, headers=clearing),
    )

    assert revenue.status_code == 201, revenue.text
    view = await desk.case(case["id"], bank)
    if payout.status_code == 200:
        # The earn-out came first: its 5,000.00 was paid out at once.
        assert _surplus(view) == ("9000.00", "9000.00", "0.00")
    else:
        assert (payout.status_code, payout.json()["code"]) == (409, "surplus_already_paid"), payout.text
        assert _surplus(view) == ("9000.00", "4000.00", "5000.00")
    assert await _pledgor_account_fen(desk) == int(view["surplus_held"].replace(".", ""))
    await books_are_whole(desk)
