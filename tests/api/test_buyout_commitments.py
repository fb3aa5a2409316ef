"""Standing commitments: the held budget, automatic offers on matching cases, the creditor's
standing accept in the buyout window, withdraw and expiry."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk, patent_loan
from tests.api.market_support import loan_body, post_ok
from tests.api.pool_support import AgencyDesk, books_are_whole, commitment, commitment_ok, refusal
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db


async def _commitment_view(
    client: httpx.AsyncClient, agency: dict[str, str], commitment_id: int
) -> dict[str, Any]:
    page = (await client.get("/api/v1/buyout-commitments", headers=agency)).json()
    return next(c for c in page["items"] if c["id"] == commitment_id)


async def test_a_commitment_holds_its_budget_and_offers_on_matching_cases_within_it(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="2000000.00")
    _, stranger = await agencies.agency()
    pool = await agencies.pool(agency)
    made = await commitment_ok(agencies, agency, pool["id"], "1500000.00")
    assert (made["unheld"], made["offered"], made["state"]) == ("1500000.00", "0.00", "live")
    assert await market.balances(agency) == {"available": "500000.00", "held": "1500000.00"}

    unknown = await commitment(agencies, agency, pool["id"], "1.00", kinds=["moon_rock"])
    assert refusal(unknown)[::2] == (422, "kinds"), unknown.text
    foreign = await commitment(agencies, stranger, pool["id"], "1.00")
    assert refusal(foreign)[::2] == (404, "pool_id"), foreign.text
    short = await commitment(agencies, agency, pool["id"], "500000.01")
    assert refusal(short)[:2] == (409, "insufficient_funds"), short.text
    assert (await commitment(agencies, bank, pool["id"], "1.00")).status_code == 403

    fits = await desk.case_on_patent(bank, "ZL202110000501.X")
    too_dear = await desk.case_on_patent(bank, "ZL202110000502.X", appraisal="2000000.00")
    mark_loan = loan_body(
        collateral=[
            {
                "kind": "trademark",
                "registry_number": "TM-50001",
                "title": "A mark",
                "right_holder": "Someone",
                "appraisal": "1000000.00",
                "appraised_on": "2025-06-01",
            }
        ]
    )
    mark = dict(await post_ok(client, "/api/v1/loans", mark_loan, bank))
    other_kind = await desk.opened(mark["id"], bank)

    [offer] = await agencies.offers(fits["id"], agency)
    assert (offer["price"], offer["commitment_id"], offer["pool_id"]) == ("750000.00", made["id"], pool["id"])
    # 75 % of 2,000,000.00 capped at 800,000.00 passes the 750,000.00 left unheld: no offer.
    assert await agencies.offers(too_dear["id"], agency) == []
    assert await agencies.offers(other_kind["id"], agency) == []
    view = await _commitment_view(client, agency, made["id"])
    assert (view["unheld"], view["offered"]) == ("750000.00", "750000.00")
    assert await market.balances(agency) == {"available": "500000.00", "held": "1500000.00"}

    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    view = await _commitment_view(client, agency, made["id"])
    assert (view["unheld"], view["offered"], view["spent"]) == ("750000.00", "0.00", "750000.00")
    refused = await client.post(f"/api/v1/buyout-commitments/{made['id']}/withdraw", headers=stranger)
    assert refused.status_code == 403, refused.text
    withdrawn = await client.post(f"/api/v1/buyout-commitments/{made['id']}/withdraw", headers=agency)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["state"], withdrawn.json()["released"]) == ("withdrawn", "750000.00")
    assert await market.balances(agency) == {"available": "1250000.00", "held": "0.00"}
    assert (await client.get("/api/v1/buyout-commitments", headers=stranger)).json()["total"] == 0
    # A withdrawn commitment offers on nothing more.
    later = await desk.case_on_patent(bank, "ZL202110000503.X")
    assert await agencies.offers(later["id"], agency) == []
    await desk.books_are_whole()


async def test_a_withdrawn_automatic_offer_returns_its_price_to_the_budget_and_expiry_releases_it(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency(funds="1000000.00")
    pool = await agencies.pool(agency)
    made = await commitment_ok(agencies, agency, pool["id"], "1000000.00")
    case = await desk.case_on_patent(bank, "ZL202110000511.X")
    [offer] = await agencies.offers(case["id"], agency)
    assert (await agencies.withdraw(offer["id"], agency)).status_code == 200
    view = await _commitment_view(client, agency, made["id"])
    assert (view["unheld"], view["offered"]) == ("1000000.00", "0.00")

    desk.travel_to(made["valid_until"])
    await desk.tick()
    view = await _commitment_view(client, agency, made["id"])
    assert (view["state"], view["released"], view["unheld"]) == ("expired", "1000000.00", "0.00")
    assert await market.balances(agency) == {"available": "1000000.00", "held": "0.00"}
    await desk.books_are_whole()


async def test_in_the_buyout_window_the_creditors_standing_order_takes_the_best_commitment_offer(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, first = await agencies.agency(funds="1000000.00")
    _, second = await agencies.agency(funds="1000000.00")
    loan = dict(await post_ok(client, "/api/v1/loans", patent_loan(number="ZL202110000521.X"), bank))
    case = await desk.opened(loan["id"], bank, accept_commitments_at_or_above=3000)
    early = await commitment_ok(
        agencies, first, (await agencies.pool(first))["id"], "500000.00", price_bps_of_appraisal=4000
    )
    tied = await commitment_ok(
        agencies, second, (await agencies.pool(second))["id"], "500000.00", price_bps_of_appraisal=4000
    )
    cheap = await commitment_ok(
        agencies, second, (await agencies.pool(second))["id"], "500000.00", price_bps_of_appraisal=2000
    )
    # Commitments made after the case opened offer on it when it enters its buyout window.
    assert await agencies.offers(case["id"], bank) == []

    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    desk.travel_to(case["steps"][0]["ends_at"])
    await desk.tick()
    case = await desk.round_ok(case["id"], bank, 15 * DAY_S + 60, deposit="56000.00")
    desk.travel_to(case["steps"][1]["ends_at"])
    await desk.tick()
    desk.travel_to((await desk.case(case["id"], bank))["deadline_at"])
    await desk.tick()
    desk.travel_to((await desk.case(case["id"], bank))["steps"][-1]["ends_at"])
    await desk.tick()

    case = await desk.case(case["id"], bank)
    assert (case["state"], case["outcome"], case["proceeds"]["price"]) == (
        "settled",
        "bought_out",
        "400000.00",
    )
    by_commitment = {o["commitment_id"]: o["state"] for o in await agencies.offers(case["id"], bank)}
    assert by_commitment == {early["id"]: "accepted", tied["id"]: "voided", cheap["id"]: "voided"}
    assert await market.balances(first) == {"available": "500000.00", "held": "100000.00"}
    assert await market.balances(second) == {"available": "0.00", "held": "1000000.00"}
    assert (await _commitment_view(client, second, tied["id"]))["unheld"] == "500000.00"
    await books_are_whole(desk)
