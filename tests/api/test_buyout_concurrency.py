"""Buyouts under concurrency: an accept racing a withdraw, and racing a round's first bid; accepts
and case openings against one commitment's budget."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk, patent_loan
from tests.api.market_support import post_ok
from tests.api.pool_support import AgencyDesk, books_are_whole, commitment_ok
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


async def test_two_creditors_accepting_against_one_commitment_never_pass_its_budget(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency = await agencies.agency(funds="2000000.00")
    pool = await agencies.pool(agency)
    made = await commitment_ok(agencies, agency, pool["id"], "1500000.00")
    banks = [(await market.participant(["bank"]))[1] for _ in range(3)]
    cases = [await desk.case_on_patent(bank, f"ZL20211000060{i}.X") for i, bank in enumerate(banks)]
    offers = [await agencies.offers(case["id"], agency) for case in cases]
    # The budget covers two offers of 750,000.00: the third case got none.
    assert [len(found) for found in offers] == [1, 1, 0]

    accepts = await asyncio.gather(
        agencies.accept(offers[0][0]["id"], banks[0]), agencies.accept(offers[1][0]["id"], banks[1])
    )

    assert [a.status_code for a in accepts] == [200, 200], [a.text for a in accepts]
    page = (await client.get("/api/v1/buyout-commitments", headers=agency)).json()
    [view] = page["items"]
    assert (view["spent"], view["offered"], view["unheld"]) == ("1500000.00", "0.00", "0.00")
    assert view["id"] == made["id"]
    assert await market.balances(agency) == {"available": "500000.00", "held": "0.00"}
    await books_are_whole(desk)


async def test_cases_opening_at_once_get_offers_only_as_far_as_the_budget_goes(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency = await agencies.agency(funds="2000000.00")
    pool = await agencies.pool(agency)
    await commitment_ok(agencies, agency, pool["id"], "1600000.00")
    banks = [(await market.participant(["bank"]))[1] for _ in range(4)]
    loans = [
        dict(await post_ok(client, "/api/v1/loans", patent_loan(number=f"ZL20211000070{i}.X"), bank))
        for i, bank in enumerate(banks)
    ]

    opened = await asyncio.gather(
        *(desk.default(loan["id"], bank) for loan, bank in zip(loans, banks, strict=True))
    )

    assert [response.status_code for response in opened] == [201] * 4, [r.text for r in opened]
    counts = [len(await agencies.offers(response.json()["id"], agency)) for response in opened]
    assert sorted(counts) == [0, 0, 1, 1]
    page = (await client.get("/api/v1/buyout-commitments", headers=agency)).json()
    assert (page["items"][0]["offered"], page["items"][0]["unheld"]) == ("1500000.00", "100000.00")
    await books_are_whole(desk)
