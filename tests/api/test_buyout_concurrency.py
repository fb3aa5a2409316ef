"""Buyouts under concurrency: an accept racing a withdraw, and racing a round's first bid."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.pool_support import AgencyDesk
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db


async def test_a_withdraw_racing_an_accept_resolves_the_hold_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    for attempt in range(3):
        _, bank = await market.participant(["bank"])
        _, agency = await agencies.agency(funds="1000000.00")
        case = await desk.case_on_patent(bank, f"ZL20211000020{attempt}.X")
        offer = await agencies.offer_ok(case["id"], agency, (await agencies.pool(agency))["id"], "800000.00")

        accept, withdraw = await asyncio.gather(
            agencies.accept(offer["id"], bank), agencies.withdraw(offer["id"], agency)
        )

        assert sorted([accept.status_code, withdraw.status_code]) == [200, 409], (accept.text, withdraw.text)
        case = await desk.case(case["id"], bank)
        if accept.status_code == 200:
            assert withdraw.json()["code"] == "offer_not_live"
            assert case["outcome"] == "bought_out"
            assert await market.balances(agency) == {"available": "200000.00", "held": "0.00"}
        else:
            assert accept.json()["code"] == "offer_not_live"
            assert case["state"] == "awaiting_round"
            assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
    await desk.books_are_whole()


async def test_an_accept_racing_a_rounds_first_bid_lets_exactly_one_of_them_in(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    for attempt in range(3):
        _, bank = await market.participant(["bank"])
        _, bidder = await market.participant(["bidder"], funds="1000000.00")
        _, agency = await agencies.agency(funds="1000000.00")
        case = await desk.case_on_patent(bank, f"ZL20211000030{attempt}.X")
        case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
        step = case["steps"][0]
        assert (await desk.register(step["auction_id"], bidder)).status_code == 201
        offer = await agencies.offer_ok(case["id"], agency, (await agencies.pool(agency))["id"], "800000.00")
        desk.travel_to(step["starts_at"])

        accept, bid = await asyncio.gather(
            agencies.accept(offer["id"], bank),
            client.post(
                f"/api/v1/auctions/{step['auction_id']}/bids",
                json={"amount": step["start_price"]},
                headers=bidder,
            ),
        )

        auction = (await client.get(f"/api/v1/auctions/{step['auction_id']}")).json()
        case = await desk.case(case["id"], bank)
        if accept.status_code == 200:
            assert bid.status_code in (409, 422), bid.text
            assert (auction["state"], auction["bid_count"]) == ("cancelled", 0)
            assert case["outcome"] == "bought_out"
            assert await market.balances(bidder) == {"available": "1000000.00", "held": "0.00"}
        else:
            assert bid.status_code in (200, 201), bid.text
            assert accept.status_code == 409 and accept.json()["code"] == "round_open", accept.text
            assert (auction["state"], auction["bid_count"]) == ("open", 1)
            assert case["state"] == "in_round"
            assert await market.balances(agency) == {"available": "200000.00", "held": "800000.00"}
