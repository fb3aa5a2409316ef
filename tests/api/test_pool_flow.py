"""The issue's flow, on both databases: a standing commitment offers on two cases; one creditor
accepts after round 1 fails, the other's round beats the agency's stalking horse; the bought
patents are licensed (an exclusive, a conflict refused, an open licence taken twice); revenue pays
the earn-out up to its cap, then all to the agency. The books are whole after every step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import loan_body, post_ok
from tests.api.pool_support import AgencyDesk, books_are_whole, commitment_ok
from tests.api.test_pool_licenses import LICENSEE, OTHER_LICENSEE, licence
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db


def _two_patent_loan() -> dict[str, object]:
    patent = {
        "kind": "invention_patent",
        "title": "Separator coating",
        "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "appraised_on": "2025-06-01",
        "filed_on": "2021-04-20",
    }
    return loan_body(
        collateral=[
            {**patent, "registry_number": "ZL202110001001.X", "appraisal": "600000.00"},
            {**patent, "registry_number": "ZL202110001002.X", "appraisal": "400000.00"},
        ]
    )


async def test_buyout_into_a_pool_licensing_and_revenue_end_to_end(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    first_bank_id, first_bank = await market.participant(["bank"], name="First Bank")
    _, second_bank = await market.participant(["bank"], name="Second Bank")
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    _, agency = await agencies.agency(funds="3000000.00")
    _, taker = await market.participant(["bidder"])
    pool = await agencies.pool(agency)
    until = (desk.clock() + timedelta(days=5 * 365)).isoformat()
    standing = await commitment_ok(
        agencies,
        agency,
        pool["id"],
        "1600000.00",
        earn_out={"revenue_share_bps": 2000, "cap": "20000.00", "until": until},
    )
    first_loan = dict(await post_ok(client, "/api/v1/loans", _two_patent_loan(), first_bank))
    first = await desk.opened(first_loan["id"], first_bank)
    second = await desk.case_on_patent(second_bank, "ZL202110001003.X")
    [first_offer] = await agencies.offers(first["id"], agency)
    [second_offer] = await agencies.offers(second["id"], agency)
    assert (first_offer["price"], second_offer["price"]) == ("750000.00", "750000.00")
    await books_are_whole(desk)

    # The first creditor's round 1 fails; it then accepts the commitment's offer (above round 2's 560,000.00).
    first = await desk.round_ok(first["id"], first_bank, 30 * DAY_S + 60)
    desk.travel_to(first["steps"][0]["ends_at"])
    await desk.tick()
    accepted = await agencies.accept(first_offer["id"], first_bank)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["outcome"], accepted.json()["shortfall"]) == ("bought_out", "3300000.00")
    await books_are_whole(desk)

    # The second creditor's round: the agency's stalking horse stands at 800,000.00, a bidder beats it.
    horse = await agencies.offer_ok(second["id"], agency, pool["id"], "800000.00", as_opening_bid=True)
    second = await desk.round_ok(second["id"], second_bank, 30 * DAY_S + 60)
    step = second["steps"][0]
    desk.travel_to(step["starts_at"])
    await desk.tick()
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    assert (await desk.bid(step["auction_id"], bidder, "850000.00"))["current_price"] == "850000.00"
    desk.travel_to(step["ends_at"])
    await desk.tick()
    await desk.tick()
    paid = await client.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    await desk.tick()  # the paid case is split and ends
    await desk.tick()  # offers on an ended case are voided
    states = {o["id"]: o["state"] for o in await agencies.offers(second["id"], agency)}
    assert states == {horse["id"]: "voided", second_offer["id"]: "voided"}
    commitments = (await client.get("/api/v1/buyout-commitments", headers=agency)).json()["items"]
    assert [(c["id"], c["spent"], c["unheld"]) for c in commitments] == [
        (standing["id"], "750000.00", "850000.00")
    ]
    await books_are_whole(desk)

    # The two bought patents: an exclusive licence (a conflicting one refused), an open licence taken twice.
    view = await agencies.pool_view(pool["id"], agency)
    by_number = {a["registry_number"]: a for a in view["assets"]}
    exclusive_asset, open_asset = by_number["ZL202110001001.X"], by_number["ZL202110001002.X"]
    assert (exclusive_asset["acquisition_price"], exclusive_asset["earn_out"]["cap"]) == (
        "450000.00",
        "12000.00",
    )
    assert (open_asset["acquisition_price"], open_asset["earn_out"]["cap"]) == ("300000.00", "8000.00")
    grant = f"/api/v1/pools/{pool['id']}/licenses"
    assert (
        await client.post(grant, json=licence(exclusive_asset["id"], "exclusive"), headers=agency)
    ).status_code == 201
    conflict = await client.post(
        grant, json=licence(exclusive_asset["id"], "non_exclusive", territory="all"), headers=agency
    )
    assert (conflict.status_code, conflict.json()["code"]) == (409, "license_conflict")
    published = await client.post(grant, json=licence(open_asset["id"], "open"), headers=agency)
    assert published.status_code == 201, published.text
    for name, code in (LICENSEE, OTHER_LICENSEE):
        taken = await client.post(
            f"/api/v1/open-licenses/{published.json()['id']}/take",
            json={"licensee_name": name, "licensee_credit_code": code},
            headers=taker,
        )
        assert taken.status_code == 201, taken.text
    await books_are_whole(desk)

    # Revenue: 100,000.00 spread 60,000.00 / 40,000.00; 20 % of each reaches its cap exactly.
    first_bank_before = (await market.balances(first_bank))["available"]
    body = {"amount": "100000.00", "received_on": "2027-06-30", "reference": "royalties-2027-h1"}
    booked = await client.post(f"/api/v1/pools/{pool['id']}/revenues", json=body, headers=agency)
    assert (booked.json()["earn_out"], booked.json()["agency"]) == ("20000.00", "80000.00"), booked.text
    # The first bank holds the whole loan: both earn-outs pay its remaining claim.
    gained = Decimal((await market.balances(first_bank))["available"]) - Decimal(first_bank_before)
    assert gained == Decimal("20000.00")
    assert (await desk.case(first["id"], first_bank))["shortfall"] == "3280000.00"
    body = {"amount": "50000.00", "received_on": "2027-12-31", "reference": "royalties-2027-h2"}
    booked = await client.post(f"/api/v1/pools/{pool['id']}/revenues", json=body, headers=agency)
    assert (booked.json()["earn_out"], booked.json()["agency"]) == ("0.00", "50000.00"), booked.text
    paid_out = {
        a["id"]: a["earn_out"]["paid"] for a in (await agencies.pool_view(pool["id"], agency))["assets"]
    }
    assert paid_out == {exclusive_asset["id"]: "12000.00", open_asset["id"]: "8000.00"}
    assert first_bank_id == first["creditor_id"]
    await books_are_whole(desk)
