"""Buyout offers: pools, the held price, who sees what, withdraw, expiry, and the accept's DvP."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.api.disposal_support import DAY_S, DisposalDesk, line_amounts
from tests.api.pool_support import AgencyDesk, refusal
from tests.api.repayment_support import post_repayment
from tests.conftest import Market
from transfer.models.loans import CollateralTransferTask

pytestmark = __import__("pytest").mark.db


async def test_an_agency_makes_pools_and_reads_only_its_own(
    client: httpx.AsyncClient, market: Market, agencies: AgencyDesk
) -> None:
    agency_id, agency = await agencies.agency()
    _, stranger = await agencies.agency()
    _, bank = await market.participant(["bank"])
    first = await agencies.pool(agency, "Battery patents")
    second = await agencies.pool(agency, "Display patents")
    theirs = await agencies.pool(stranger, "Their pool")
    assert (first["agency_id"], first["name"]) == (agency_id, "Battery patents")

    own = (await client.get("/api/v1/pools", headers=agency)).json()
    assert [p["id"] for p in own["items"]] == [second["id"], first["id"]] and own["total"] == 2
    everything = (await client.get("/api/v1/pools", headers=market.admin)).json()
    assert everything["total"] == 3
    view = await agencies.pool_view(first["id"], agency)
    assert (view["assets"], view["asset_total"]) == ([], 0)
    assert (await agencies.pool_view(theirs["id"], market.admin))["agency_id"] != agency_id

    hidden = await client.get(f"/api/v1/pools/{theirs['id']}", headers=agency)
    assert hidden.status_code == 404 and hidden.json()["code"] == "pool_not_found", hidden.text
    assert (await client.get("/api/v1/pools", headers=bank)).status_code == 403
    assert (await client.post("/api/v1/pools", json={"name": "x"}, headers=bank)).status_code == 403
    blank = await client.post("/api/v1/pools", json={"name": "   "}, headers=agency)
    assert refusal(blank)[::2] == (422, "name"), blank.text
    assert (await client.get("/api/v1/pools", headers=agency)).json()["total"] == 2


async def test_an_offer_holds_its_whole_price_until_the_agency_withdraws_it(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    agency_id, agency = await agencies.agency(funds="1000000.00")
    _, stranger = await agencies.agency()
    pool = await agencies.pool(agency)
    theirs = await agencies.pool(stranger)
    case = await desk.case_on_patent(bank, "ZL202110000101.X")

    offer = await agencies.offer_ok(case["id"], agency, pool["id"], "750000.00")
    assert (offer["state"], offer["price"], offer["agency_id"]) == ("live", "750000.00", agency_id)
    assert await market.balances(agency) == {"available": "250000.00", "held": "750000.00"}

    short = await agencies.offer(case["id"], agency, pool["id"], "250000.01")
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds", short.text
    foreign = await agencies.offer(case["id"], agency, theirs["id"], "1000.00")
    assert refusal(foreign)[::2] == (404, "pool_id"), foreign.text
    past = await agencies.offer(case["id"], agency, pool["id"], "1000.00", valid_for_s=-60)
    assert refusal(past)[::2] == (422, "valid_until"), past.text
    too_far = await agencies.offer(case["id"], agency, pool["id"], "1000.00", valid_for_s=400 * DAY_S)
    assert too_far.status_code == 422 and too_far.json()["code"] == "valid_until_too_far", too_far.text
    bad_share = await agencies.offer(
        case["id"],
        agency,
        pool["id"],
        "1000.00",
        earn_out={"revenue_share_bps": 0, "cap": "10.00", "until": offer["valid_until"]},
    )
    assert refusal(bad_share)[::2] == (422, "earn_out.revenue_share_bps")
    missing = await agencies.offer(10**9, agency, pool["id"], "1000.00")
    assert missing.status_code == 404 and missing.json()["code"] == "disposal_not_found", missing.text
    own_case = await client.post(
        f"/api/v1/disposals/{case['id']}/buyout-offers",
        json=agencies.offer_body(pool["id"], "1000.00"),
        headers=bank,
    )
    assert own_case.status_code == 403, own_case.text
    assert await market.balances(agency) == {"available": "250000.00", "held": "750000.00"}

    refused = await agencies.withdraw(offer["id"], stranger)
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_offer", refused.text
    withdrawn = await agencies.withdraw(offer["id"], agency)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn", withdrawn.text
    assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
    again = await agencies.withdraw(offer["id"], agency)
    assert again.status_code == 409 and again.json()["code"] == "offer_not_live", again.text
    late = await agencies.accept(offer["id"], bank)
    assert late.status_code == 409 and late.json()["code"] == "offer_not_live", late.text
    await desk.books_are_whole()


async def test_the_creditor_and_clearing_see_every_offer_an_agency_only_its_own(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, other_bank = await market.participant(["bank"])
    _, first = await agencies.agency()
    _, second = await agencies.agency()
    case = await desk.case_on_patent(bank, "ZL202110000102.X")
    mine = await agencies.offer_ok(case["id"], first, (await agencies.pool(first))["id"], "700000.00")
    theirs = await agencies.offer_ok(case["id"], second, (await agencies.pool(second))["id"], "710000.00")

    everyone = [theirs["id"], mine["id"]]
    assert [o["id"] for o in await agencies.offers(case["id"], bank)] == everyone
    assert [o["id"] for o in await agencies.offers(case["id"], await market.clearing())] == everyone
    assert [o["id"] for o in await agencies.offers(case["id"], market.admin)] == everyone
    assert [o["id"] for o in await agencies.offers(case["id"], first)] == [mine["id"]]
    assert [o["id"] for o in await agencies.offers(case["id"], second)] == [theirs["id"]]
    # Another bank may not read the case, so its offers are a 404, as for a missing case.
    stranger = await client.get(f"/api/v1/disposals/{case['id']}/buyout-offers", headers=other_bank)
    assert (stranger.status_code, stranger.json()["code"]) == (404, "disposal_not_found"), stranger.text
    page = (
        await client.get(f"/api/v1/disposals/{case['id']}/buyout-offers?limit=1&offset=1", headers=bank)
    ).json()
    assert ([o["id"] for o in page["items"]], page["total"]) == ([mine["id"]], 2)
    gone = await client.get("/api/v1/disposals/999999/buyout-offers", headers=bank)
    assert gone.status_code == 404, gone.text


async def test_an_accept_below_the_first_rounds_minimum_is_refused_at_it_the_sale_settles_into_the_pool(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Creditor Bank")
    holder_id, holder = await market.participant(["bank"], funds="600000.00", name="Holder")
    _, stranger_bank = await market.participant(["bank"])
    agency_id, agency = await agencies.agency(funds="2000000.00")
    _, rival = await agencies.agency(funds="1000000.00")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, holder)
    case = await desk.opened(loan["id"], bank)
    pool = await agencies.pool(agency)
    low = await agencies.offer_ok(case["id"], agency, pool["id"], "699999.99")
    good = await agencies.offer_ok(case["id"], agency, pool["id"], "700000.00")
    other = await agencies.offer_ok(case["id"], rival, (await agencies.pool(rival))["id"], "650000.00")

    below = await agencies.accept(low["id"], bank)
    assert below.status_code == 409 and below.json()["code"] == "below_minimum", below.text
    assert below.json()["minimum"] == "700000.00"
    assert (await agencies.accept(good["id"], stranger_bank)).status_code == 403
    assert (await agencies.accept(good["id"], agency)).status_code == 403
    assert (await agencies.accept(10**9, bank)).status_code == 404

    response = await agencies.accept(good["id"], bank)
    assert response.status_code == 200, response.text
    case = response.json()
    assert (case["state"], case["outcome"], case["proceeds"]["price"]) == (
        "settled",
        "bought_out",
        "700000.00",
    )
    assert sorted(line_amounts(case), key=str) == sorted(
        [
            ("interest", bank_id, "45000.00"),
            ("interest", holder_id, "5000.00"),
            ("principal", bank_id, "585000.00"),
            ("principal", holder_id, "65000.00"),
        ],
        key=str,
    )
    # The accepted price left the agency's held funds; the other offers' holds are released.
    assert await market.balances(agency) == {"available": "1300000.00", "held": "0.00"}
    assert await market.balances(rival) == {"available": "1000000.00", "held": "0.00"}
    states = {o["id"]: o["state"] for o in await agencies.offers(case["id"], bank)}
    assert states == {low["id"]: "voided", good["id"]: "accepted", other["id"]: "voided"}

    view = await agencies.pool_view(pool["id"], agency)
    assert view["asset_total"] == 1
    asset = view["assets"][0]
    assert (asset["registry_number"], asset["acquisition_price"], asset["source_case_id"]) == (
        "ZL202110000001.X",
        "700000.00",
        case["id"],
    )
    async with desk.context.database.read() as session:
        tasks = (await session.execute(select(CollateralTransferTask))).scalars().all()
    assert [(t.new_holder_id, t.reference) for t in tasks] == [(agency_id, f"disposal:{case['id']}")]
    again = await agencies.accept(good["id"], bank)
    assert again.status_code == 409, again.text
    await desk.books_are_whole()


async def test_an_accept_withdraws_a_round_that_has_no_bid_and_refunds_its_deposits(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, bidder = await market.participant(["bidder"], funds="100000.00")
    _, agency = await agencies.agency()
    case = await desk.case_on_patent(bank, "ZL202110000103.X")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    auction_id = case["steps"][0]["auction_id"]
    assert (await desk.register(auction_id, bidder)).status_code == 201
    offer = await agencies.offer_ok(case["id"], agency, (await agencies.pool(agency))["id"], "700000.00")

    response = await agencies.accept(offer["id"], bank)
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["steps"][0]["result"] == "bought_out"
    auction = (await client.get(f"/api/v1/auctions/{auction_id}")).json()
    assert auction["state"] == "cancelled"
    assert await market.balances(bidder) == {"available": "100000.00", "held": "0.00"}
    await desk.books_are_whole()


async def test_a_round_with_a_bid_is_the_markets_and_refuses_the_accept(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    _, agency = await agencies.agency()
    case = await desk.case_on_patent(bank, "ZL202110000104.X")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    offer = await agencies.offer_ok(case["id"], agency, (await agencies.pool(agency))["id"], "900000.00")
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, step["start_price"])

    refused = await agencies.accept(offer["id"], bank)
    assert refused.status_code == 409 and refused.json()["code"] == "round_open", refused.text
    assert (await desk.case(case["id"], bank))["state"] == "in_round"
    assert (await market.balances(agency))["held"] == "900000.00"

    # Closed and awaiting the winner's payment, the case is still the market's; sold, the offer goes.
    desk.travel_to(step["ends_at"])
    await desk.tick()
    awaiting = await agencies.accept(offer["id"], bank)
    assert awaiting.status_code == 409 and awaiting.json()["code"] == "round_open", awaiting.text
    paid = await client.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    await desk.tick()  # the paid case is split and ends
    await desk.tick()  # offers on an ended case are voided
    assert [o["state"] for o in await agencies.offers(case["id"], bank)] == ["voided"]
    assert await market.balances(agency) == {"available": "5000000.00", "held": "0.00"}
    await desk.books_are_whole()


async def test_in_the_buyout_window_any_price_is_accepted(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency()
    case = await desk.case_on_patent(bank, "ZL202110000105.X")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    desk.travel_to(case["steps"][0]["ends_at"])
    await desk.tick()
    case = await desk.round_ok(case["id"], bank, 15 * DAY_S + 60, deposit="56000.00")
    desk.travel_to(case["steps"][1]["ends_at"])
    await desk.tick()
    pool = await agencies.pool(agency)
    # Take-in-payment stands at round 2's start price: a lower offer waits.
    cheap = await agencies.offer_ok(case["id"], agency, pool["id"], "100000.00", valid_for_s=170 * DAY_S)
    refused = await agencies.accept(cheap["id"], bank)
    assert refused.status_code == 409 and refused.json()["minimum"] == "560000.00", refused.text
    case = await desk.case(case["id"], bank)
    desk.travel_to(case["deadline_at"])
    await desk.tick()
    case = await desk.case(case["id"], bank)
    desk.travel_to(case["steps"][-1]["ends_at"])
    await desk.tick()
    assert (await desk.case(case["id"], bank))["state"] == "buyout_window"

    response = await agencies.accept(cheap["id"], bank)
    assert response.status_code == 200, response.text
    assert (response.json()["outcome"], response.json()["proceeds"]["price"]) == ("bought_out", "100000.00")
    await desk.books_are_whole()


async def test_the_scheduler_expires_offers_and_voids_those_left_on_an_ended_case(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="1000000.00")
    case = await desk.case_on_patent(bank, "ZL202110000106.X")
    pool = await agencies.pool(agency)
    short = await agencies.offer_ok(case["id"], agency, pool["id"], "100000.00", valid_for_s=DAY_S)
    long = await agencies.offer_ok(case["id"], agency, pool["id"], "200000.00", valid_for_s=100 * DAY_S)
    desk.travel_to(short["valid_until"])
    late = await agencies.accept(short["id"], bank)
    assert late.status_code == 409 and late.json()["code"] == "offer_expired", late.text
    await desk.tick()
    states = {o["id"]: o["state"] for o in await agencies.offers(case["id"], bank)}
    assert states == {short["id"]: "expired", long["id"]: "live"}
    assert await market.balances(agency) == {"available": "800000.00", "held": "200000.00"}

    # The loan is repaid in full: the case is cured, and the live offer is voided on the next tick.
    loan_id = (await desk.case(case["id"], bank))["loan_id"]
    repaid = await post_repayment(
        client,
        market,
        loan_id,
        {"principal": "2000000.00", "interest": "50000.00", "received_on": "2026-12-01"},
        bank,
    )
    assert repaid.status_code == 201, repaid.text
    assert (await desk.case(case["id"], bank))["state"] == "cured"
    await desk.tick()
    assert {o["state"] for o in await agencies.offers(case["id"], bank)} == {"expired", "voided"}
    assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
    await desk.books_are_whole()
