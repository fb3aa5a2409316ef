"""Pool revenue: booked once by reference, spread by acquisition price, the earn-out back into the
source case's waterfall until its cap or its end, the rest to the agency; the pool's lines."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from tests.api.disposal_support import DisposalDesk
from tests.api.pool_support import AgencyDesk, books_are_whole, refusal
from tests.api.test_pool_licenses import licence
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db


async def _revenue(
    client: httpx.AsyncClient, pool_id: int, agency: dict[str, str], amount: str, reference: str, **extra: Any
) -> httpx.Response:
    body = {"amount": amount, "received_on": "2027-03-01", "reference": reference, **extra}
    return await client.post(f"/api/v1/pools/{pool_id}/revenues", json=body, headers=agency)


async def test_revenue_pays_the_earn_out_into_the_case_until_its_cap_then_all_to_the_agency(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Creditor Bank")
    holder_id, holder = await market.participant(["bank"], funds="600000.00", name="Holder")
    agency_id, agency = await agencies.agency(funds="2000000.00")
    _, stranger = await agencies.agency()
    pool = await agencies.pool(agency)
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, holder)
    earning = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=3 * 365)).isoformat()
    offer = await agencies.offer_ok(
        earning["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 2000, "cap": "30000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    plain = await desk.case_on_patent(bank, "ZL202110000901.X")
    offer = await agencies.offer_ok(plain["id"], agency, pool["id"], "700000.00")
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    assert (await desk.case(earning["id"], bank))["shortfall"] == "1350000.00"
    view = await agencies.pool_view(pool["id"], agency)
    earning_asset = next(a for a in view["assets"] if a["source_case_id"] == earning["id"])
    assert earning_asset["earn_out"] == {
        "revenue_share_bps": 2000,
        "cap": "30000.00",
        "until": until,
        "paid": "0.00",
    }
    before = {"bank": await market.balances(bank), "holder": await market.balances(holder)}
    assert before["holder"]["available"] == "170000.00"

    first = await _revenue(client, pool["id"], agency, "100000.00", "royalty-2027-q1")
    assert first.status_code == 201, first.text
    assert (first.json()["earn_out"], first.json()["agency"]) == ("10000.00", "90000.00")
    lines = (
        await client.get(f"/api/v1/pools/{pool['id']}/revenues/{first.json()['id']}/lines", headers=agency)
    ).json()
    assert [(line["part"], line["payee_id"], line["amount"]) for line in lines["items"]] == [
        ("agency", agency_id, "90000.00"),
        ("earn_out_claim", bank_id, "9000.00"),
        ("earn_out_claim", holder_id, "1000.00"),
    ]
    assert lines["items"][1]["case_id"] == earning["id"]

    granted = await client.post(
        f"/api/v1/pools/{pool['id']}/licenses", json=licence(earning_asset["id"], "exclusive"), headers=agency
    )
    assert granted.status_code == 201, granted.text
    second = await _revenue(
        client, pool["id"], agency, "200000.00", "royalty-2027-q2", license_id=granted.json()["id"]
    )
    # 20 % of 200,000.00 is 40,000.00, but only 20,000.00 of the cap is left.
    assert (second.json()["earn_out"], second.json()["agency"]) == ("20000.00", "180000.00"), second.text
    third = await _revenue(
        client, pool["id"], agency, "50000.00", "royalty-2027-q3", license_id=granted.json()["id"]
    )
    assert (third.json()["earn_out"], third.json()["agency"]) == ("0.00", "50000.00"), third.text

    assert (await market.balances(holder))["available"] == "173000.00"
    assert (await market.balances(bank))["available"] == f"{int(before['bank']['available'][:-3]) + 27000}.00"
    assert (await market.balances(agency))["available"] == "570000.00"
    assert (await desk.case(earning["id"], bank))["shortfall"] == "1320000.00"
    view = await agencies.pool_view(pool["id"], agency)
    assert next(a for a in view["assets"] if a["id"] == earning_asset["id"])["earn_out"]["paid"] == "30000.00"
    assert [r["reference"] for r in view["revenues"]] == [
        "royalty-2027-q3",
        "royalty-2027-q2",
        "royalty-2027-q1",
    ]

    again = await _revenue(client, pool["id"], agency, "1.00", "royalty-2027-q1")
    assert refusal(again)[::2] == (409, "reference"), again.text
    assert refusal(await _revenue(client, pool["id"], stranger, "1.00", "x"))[:2] == (404, "pool_not_found")
    assert refusal(await _revenue(client, pool["id"], agency, "1.00", "y", license_id=10**9))[::2] == (
        404,
        "license_id",
    )
    assert refusal(await _revenue(client, pool["id"], agency, "0.00", "z"))[::2] == (422, "amount")
    assert (await _revenue(client, pool["id"], bank, "1.00", "w")).status_code == 403
    short = await _revenue(client, pool["id"], agency, "100000000.00", "too-much")
    assert refusal(short)[:2] == (409, "insufficient_funds"), short.text
    assert len((await agencies.pool_view(pool["id"], agency))["revenues"]) == 3
    await books_are_whole(desk)


async def test_an_earn_out_past_its_until_sends_everything_to_the_agency_and_a_paid_claim_goes_to_the_pledgor(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="3000000.00")
    pool = await agencies.pool(agency)
    # Outstanding 651,000.00 and interest 50,000.00: a buyout at 700,000.00 leaves 1,000.00 of claim.
    loan = await desk.loan(bank, outstanding_principal="651000.00")
    case = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=400)).isoformat()
    offer = await agencies.offer_ok(
        case["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 5000, "cap": "100000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    assert (await desk.case(case["id"], bank))["shortfall"] == "1000.00"

    booked = await _revenue(client, pool["id"], agency, "10000.00", "r1")
    assert booked.json()["earn_out"] == "5000.00", booked.text
    lines = (
        await client.get(f"/api/v1/pools/{pool['id']}/revenues/{booked.json()['id']}/lines", headers=agency)
    ).json()
    assert [(line["part"], line["amount"]) for line in lines["items"]] == [
        ("agency", "5000.00"),
        ("earn_out_claim", "1000.00"),
        ("earn_out_surplus", "4000.00"),
    ]
    case = await desk.case(case["id"], bank)
    assert (case["shortfall"], case["surplus"]) == ("0.00", "4000.00")

    desk.travel_to(until)
    late = await _revenue(client, pool["id"], agency, "10000.00", "r2")
    assert (late.json()["earn_out"], late.json()["agency"]) == ("0.00", "10000.00"), late.text
    await books_are_whole(desk)


async def test_two_revenues_booked_at_once_pay_an_earn_out_up_to_its_cap_and_never_past_it(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="2000000.00")
    pool = await agencies.pool(agency)
    loan = await desk.loan(bank)
    case = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=365)).isoformat()
    offer = await agencies.offer_ok(
        case["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 5000, "cap": "30000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    bank_before = int((await market.balances(bank))["available"].replace(".", ""))

    first, second = await asyncio.gather(
        _revenue(client, pool["id"], agency, "40000.00", "race-a"),
        _revenue(client, pool["id"], agency, "40000.00", "race-b"),
    )

    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    # Half of each 40,000.00 is 20,000.00; the one booked second finds only 10,000.00 of the cap.
    assert sorted([first.json()["earn_out"], second.json()["earn_out"]]) == ["10000.00", "20000.00"]
    assert sorted([first.json()["agency"], second.json()["agency"]]) == ["20000.00", "30000.00"]
    [asset] = (await agencies.pool_view(pool["id"], agency))["assets"]
    assert asset["earn_out"]["paid"] == "30000.00"
    assert (await desk.case(case["id"], bank))["shortfall"] == "1320000.00"
    assert int((await market.balances(bank))["available"].replace(".", "")) == bank_before + 3_000_000
    assert (await market.balances(agency))["available"] == "1270000.00"
    await books_are_whole(desk)
