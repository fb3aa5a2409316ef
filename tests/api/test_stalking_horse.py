"""The stalking-horse bid: an offer standing as a proxy maximum in the case's next round."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.pool_support import AgencyDesk
from tests.conftest import Market
from transfer import ledger

pytestmark = __import__("pytest").mark.db


async def _round_with_a_stalking_horse(
    market: Market, desk: DisposalDesk, agencies: AgencyDesk, number: str
) -> tuple[dict[str, str], dict[str, str], dict[str, Any], dict[str, Any], dict[str, Any]]:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="1000000.00")
    case = await desk.case_on_patent(bank, number)
    pool = await agencies.pool(agency)
    offer = await agencies.offer_ok(case["id"], agency, pool["id"], "800000.00", as_opening_bid=True)
    assert offer["as_opening_bid"] is True
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    desk.travel_to(step["starts_at"])
    await desk.tick()
    auction = (await desk.http.get(f"/api/v1/auctions/{step['auction_id']}")).json()
    # The agency stands at the start price with its offer as its maximum: deposit and price held.
    assert (auction["bid_count"], auction["current_price"]) == (1, "700000.00"), auction
    assert await market.balances(agency) == {"available": "130000.00", "held": "870000.00"}
    return bank, agency, case, step, pool


async def test_an_unbeaten_stalking_horse_buys_at_the_start_price_paid_from_its_hold(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank, agency, case, step, pool = await _round_with_a_stalking_horse(
        market, desk, agencies, "ZL202110000401.X"
    )
    desk.travel_to(step["ends_at"])
    await desk.tick()  # the round closes
    await desk.tick()  # the stalking horse's hold pays
    await desk.tick()  # the paid case is split

    case = await desk.case(case["id"], bank)
    assert (case["state"], case["outcome"], case["proceeds"]["price"]) == ("settled", "sold", "700000.00")
    assert await market.balances(agency) == {"available": "300000.00", "held": "0.00"}
    [offer] = await agencies.offers(case["id"], bank)
    assert offer["state"] == "accepted"
    view = await agencies.pool_view(pool["id"], agency)
    assert [(a["acquisition_price"], a["source_case_id"]) for a in view["assets"]] == [
        ("700000.00", case["id"])
    ]
    await desk.books_are_whole()


async def test_a_stalking_horse_beaten_by_a_bidder_is_released_at_close(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    bank, agency, case, step, pool = await _round_with_a_stalking_horse(
        market, desk, agencies, "ZL202110000402.X"
    )
    [standing] = await agencies.offers(case["id"], agency)
    held = await agencies.withdraw(standing["id"], agency)
    assert (held.status_code, held.json()["code"]) == (409, "offer_standing"), held.text
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    below = await client.post(
        f"/api/v1/auctions/{step['auction_id']}/bids", json={"amount": "800000.00"}, headers=bidder
    )
    # The agency's maximum stands: a bid up to it only raises the price to it.
    assert below.json()["current_price"] == "800000.00", below.text
    beaten = await desk.bid(step["auction_id"], bidder, "810000.00")
    assert beaten["current_price"] == "810000.00"
    desk.travel_to(step["ends_at"])
    await desk.tick()
    await desk.tick()

    assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
    [offer] = await agencies.offers(case["id"], bank)
    assert offer["state"] == "voided"
    paid = await client.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    assert (await desk.case(case["id"], bank))["outcome"] == "sold"
    assert (await agencies.pool_view(pool["id"], agency))["asset_total"] == 0
    await desk.books_are_whole()


async def test_a_bid_in_the_first_instant_of_the_round_meets_the_stalking_horse_already_standing(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="1000000.00")
    _, bidder = await market.participant(["bidder"], funds="1000000.00")
    case = await desk.case_on_patent(bank, "ZL202110000403.X")
    pool = await agencies.pool(agency)
    await agencies.offer_ok(case["id"], agency, pool["id"], "800000.00", as_opening_bid=True)

    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    # Standing from the round's creation: registered, deposit and price held, no tick needed.
    assert await market.balances(agency) == {"available": "130000.00", "held": "870000.00"}
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"], after_s=0)
    bid = await client.post(
        f"/api/v1/auctions/{step['auction_id']}/bids", json={"amount": "750000.00"}, headers=bidder
    )

    assert bid.status_code in (200, 201), bid.text
    # The agency's maximum answers at once: one increment over the bid, and it still leads.
    assert bid.json()["current_price"] == "760000.00", bid.text
    history = (await client.get(f"/api/v1/auctions/{step['auction_id']}/bids")).json()["items"]
    first = min(history, key=lambda row: row["sequence"])
    assert first["amount"] == "700000.00"
    assert first["received_at"] == step["starts_at"]
    auction = (await client.get(f"/api/v1/auctions/{step['auction_id']}")).json()
    assert auction["leading_paddle"] == first["paddle"]


async def test_an_offer_made_for_a_round_already_made_stands_from_its_start_and_does_not_stop_a_buyout(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, horse = await agencies.agency(funds="1000000.00")
    _, buyer = await agencies.agency(funds="1000000.00")
    case = await desk.case_on_patent(bank, "ZL202110000404.X")
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]

    await agencies.offer_ok(
        case["id"], horse, (await agencies.pool(horse))["id"], "750000.00", as_opening_bid=True
    )
    auction = (await client.get(f"/api/v1/auctions/{step['auction_id']}")).json()
    assert (auction["bid_count"], auction["current_price"]) == (1, "700000.00"), auction
    # The horse's own maximum does not make the round the market's: another offer may still be
    # accepted before anyone else bids, and the round is withdrawn with the horse's deposit.
    offer = await agencies.offer_ok(case["id"], buyer, (await agencies.pool(buyer))["id"], "800000.00")
    accepted = await agencies.accept(offer["id"], bank)
    assert accepted.status_code == 200, accepted.text
    assert (await client.get(f"/api/v1/auctions/{step['auction_id']}")).json()["state"] == "cancelled"
    assert await market.balances(horse) == {"available": "1000000.00", "held": "0.00"}
    await desk.books_are_whole()


async def test_a_withdraw_racing_the_rounds_creation_either_stands_the_horse_or_leaves_the_round_bare(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    for attempt in range(3):
        _, bank = await market.participant(["bank"])
        _, agency = await agencies.agency(funds="1000000.00")
        case = await desk.case_on_patent(bank, f"ZL20211000041{attempt}.X")
        pool = await agencies.pool(agency)
        offer = await agencies.offer_ok(case["id"], agency, pool["id"], "800000.00", as_opening_bid=True)

        made, withdrawn = await asyncio.gather(
            desk.round(case["id"], bank, 30 * DAY_S + 60), agencies.withdraw(offer["id"], agency)
        )

        assert made.status_code == 201, made.text
        auction = (await client.get(f"/api/v1/auctions/{made.json()['steps'][0]['auction_id']}")).json()
        if withdrawn.status_code == 200:
            assert auction["bid_count"] == 0
            assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
        else:
            assert (withdrawn.status_code, withdrawn.json()["code"]) == (409, "offer_standing"), (
                withdrawn.text
            )
            assert (auction["bid_count"], auction["current_price"]) == (1, "700000.00")
            assert await market.balances(agency) == {"available": "130000.00", "held": "870000.00"}
    # (Standing horses keep their deposits held until their rounds end: no books_are_whole here.)
    async with desk.context.database.read() as session:
        assert await ledger.ledger_sum_fen(session) == 0
