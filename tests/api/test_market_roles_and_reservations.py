"""Who may trade, who may settle, and what a listing reserves (review findings F15 and F7).

The clearing and admin roles are not market participants: alone they neither offer on a listing
nor take an open licence. Nobody settles a trade it is party to, whatever its roles. A listing
reserves its share: a holder's open listings and pending trades of a loan never exceed what it
holds, checked when a listing is made and when an offer is accepted, also when two requests race.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.context import AppContext
from tests.api.disposal_support import DisposalDesk
from tests.api.market_support import post_ok, register_loan
from tests.api.pool_support import AgencyDesk, bought_asset, refusal
from tests.conftest import Market
from transfer.models import Participant
from transfer.models.market import Listing

pytestmark = pytest.mark.db

LICENSEE = {"licensee_name": "Ningbo Cell Works Co., Ltd.", "licensee_credit_code": "91330200MA2AB1C23K"}


def _income_right(loan_id: int, share_ppm: int, asking_price: str = "500000.00") -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "kind": "income_right",
        "mode": "negotiated",
        "share_ppm": share_ppm,
        "asking_price": asking_price,
    }


async def _listing(http: httpx.AsyncClient, seller: dict[str, str], loan_id: int, share_ppm: int) -> int:
    return int((await post_ok(http, "/api/v1/listings", _income_right(loan_id, share_ppm), seller))["id"])


async def _offer(http: httpx.AsyncClient, listing_id: int, buyer: dict[str, str]) -> int:
    offer = await post_ok(http, f"/api/v1/listings/{listing_id}/offers", {"price": "500000.00"}, buyer)
    return int(offer["id"])


async def test_clearing_or_admin_alone_may_not_offer_on_a_listing_but_one_market_role_is_enough(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    listing_id = await _listing(client, bank, loan["id"], 100_000)
    _, clerk = await market.participant(["clearing"])
    _, operator = await market.participant(["admin"])
    _, both = await market.participant(["admin", "clearing"])
    for caller in (clerk, operator, both, market.admin):
        refused = await client.post(
            f"/api/v1/listings/{listing_id}/offers", json={"price": "500000.00"}, headers=caller
        )
        assert refusal(refused)[:2] == (403, "market_role_required"), refused.text
        assert "not market participants" in refused.json()["detail"]
    # A clerk that is also a bank is a market participant (and then may not settle its own trade).
    _, clerk_and_bank = await market.participant(["bank", "clearing"])
    await _offer(client, listing_id, clerk_and_bank)
    offers = (await client.get(f"/api/v1/listings/{listing_id}/offers", headers=bank)).json()
    assert len(offers) == 1


async def test_an_offer_made_by_a_participant_since_left_with_only_clearing_is_not_accepted(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    listing_id = await _listing(client, bank, loan["id"], 100_000)
    buyer_id, buyer = await market.participant(["bank", "clearing"])
    offer_id = await _offer(client, listing_id, buyer)
    # Its roles are changed underneath (no API for that here): the offer stays, the buyer may not.
    async with context.database.write() as session, session.begin():
        participant = await session.get(Participant, buyer_id)
        assert participant is not None
        participant.roles = "clearing"
    refused = await client.post(f"/api/v1/offers/{offer_id}/accept", json={}, headers=bank)
    assert refusal(refused)[:2] == (403, "market_role_required"), refused.text


async def test_clearing_or_admin_alone_may_not_take_an_open_licence(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency()
    pool = await agencies.pool(agency)
    asset = await bought_asset(agencies, bank, agency, pool["id"], "ZL202110000901.X")
    published = await post_ok(
        client,
        f"/api/v1/pools/{pool['id']}/licenses",
        {
            "asset_id": asset["id"],
            "kind": "open",
            "territory": "CN",
            "field": "batteries",
            "upfront": "50000.00",
            "running_royalty_bps": 300,
            "starts_on": "2027-01-01",
            "ends_on": "2029-12-31",
        },
        agency,
    )
    path = f"/api/v1/open-licenses/{published['id']}/take"
    _, clerk = await market.participant(["clearing"])
    for caller in (clerk, market.admin):
        refused = await client.post(path, json=LICENSEE, headers=caller)
        assert refusal(refused)[:2] == (403, "market_role_required"), refused.text
    _, bidder = await market.participant(["bidder", "clearing"])
    taken = await client.post(path, json=LICENSEE, headers=bidder)
    assert taken.status_code == 201, taken.text


async def test_a_party_to_a_trade_may_not_settle_it_even_holding_the_clearing_role(
    client: httpx.AsyncClient, market: Market
) -> None:
    seller_id, seller = await market.participant(["bank", "clearing"])
    buyer_id, buyer = await market.participant(["bank", "clearing"], funds="1000000.00")
    loan = await register_loan(client, seller)
    listing_id = await _listing(client, seller, loan["id"], 100_000)
    offer_id = await _offer(client, listing_id, buyer)
    trade = await post_ok(client, f"/api/v1/offers/{offer_id}/accept", {}, seller)
    for party_id, party in ((buyer_id, buyer), (seller_id, seller)):
        refused = await client.post(f"/api/v1/trades/{trade['id']}/settle", headers=party)
        assert refusal(refused)[:2] == (403, "party_cannot_settle"), refused.text
        assert str(party_id) in refused.json()["detail"]
    view = (await client.get(f"/api/v1/trades/{trade['id']}", headers=buyer)).json()
    assert view["status"] == "pending"
    settled = await post_ok(
        client, f"/api/v1/trades/{trade['id']}/settle", {}, await market.clearing(), status=200
    )
    assert settled["status"] == "settled"


async def test_a_listing_reserves_its_share_so_a_second_beyond_the_free_share_is_refused(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    await _listing(client, bank, loan["id"], 600_000)
    refused = await client.post("/api/v1/listings", json=_income_right(loan["id"], 500_000), headers=bank)
    assert refusal(refused) == (409, "share_already_listed", "share_ppm"), refused.text
    body = refused.json()
    assert (body["held_ppm"], body["reserved_ppm"], body["free_ppm"]) == (1_000_000, 600_000, 400_000)
    assert "share_ppm 500000" in body["detail"]
    await _listing(client, bank, loan["id"], 400_000)  # exactly what is free
    nothing_left = await client.post("/api/v1/listings", json=_income_right(loan["id"], 1), headers=bank)
    assert refusal(nothing_left)[:2] == (409, "share_already_listed"), nothing_left.text
    whole = await client.post(
        "/api/v1/listings",
        json={"loan_id": loan["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "1.00"},
        headers=bank,
    )
    assert refusal(whole)[:2] == (409, "already_listed"), whole.text


async def test_a_pending_trade_keeps_its_share_reserved_until_it_settles(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    _, buyer = await market.participant(["bidder"], funds="1000000.00")
    loan = await register_loan(client, bank)
    listing_id = await _listing(client, bank, loan["id"], 600_000)
    trade = await post_ok(
        client, f"/api/v1/offers/{await _offer(client, listing_id, buyer)}/accept", {}, bank
    )
    # The listing is matched; its trade, pending, holds the 600,000 ppm.
    refused = await client.post("/api/v1/listings", json=_income_right(loan["id"], 500_000), headers=bank)
    assert refusal(refused)[:2] == (409, "share_already_listed"), refused.text
    assert refused.json()["reserved_ppm"] == 600_000
    whole = await client.post(
        "/api/v1/listings",
        json={"loan_id": loan["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "1.00"},
        headers=bank,
    )
    assert refusal(whole)[:2] == (409, "share_already_listed"), whole.text
    await post_ok(client, f"/api/v1/trades/{trade['id']}/settle", {}, await market.clearing(), status=200)
    # Settled: the bank holds 400,000 ppm, none of it reserved; the buyer may list what it bought.
    await _listing(client, bank, loan["id"], 400_000)
    await _listing(client, buyer, loan["id"], 600_000)


async def test_a_whole_loan_sold_and_unsettled_is_not_listed_again(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    _, buyer = await market.participant(["bank"], funds="1000000.00")
    loan = await register_loan(client, bank)
    whole = {"loan_id": loan["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "500000.00"}
    listing = await post_ok(client, "/api/v1/listings", whole, bank)
    await post_ok(client, f"/api/v1/offers/{await _offer(client, listing['id'], buyer)}/accept", {}, bank)
    again = await client.post("/api/v1/listings", json=whole, headers=bank)
    assert refusal(again)[:2] == (409, "already_listed"), again.text
    assert "trade" in again.json()["detail"]


async def _overlapping_legacy_listings(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> tuple[dict[str, str], list[int]]:
    """Two open listings of 600,000 ppm each of a 1,000,000 ppm holding, with an offer on each:
    the first listing made through the API, the second written straight to the table, as a listing
    made before the rule could be. Returns the seller and the two offers."""
    bank_id, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    first = await _listing(client, bank, loan["id"], 600_000)
    async with context.database.write() as session, session.begin():
        legacy = Listing(
            loan_id=loan["id"],
            seller_id=bank_id,
            kind="income_right",
            mode="negotiated",
            share_ppm=600_000,
            asking_price_fen=50_000_000,
            min_unit_ppm=1,
            closes_at=None,
            status="open",
            holders_consent=False,
            offer_count=0,
            created_at=context.clock(),
        )
        session.add(legacy)
        await session.flush()
        second = legacy.id
    offers = []
    for listing_id in (first, second):
        _, buyer = await market.participant(["bidder"], funds="1000000.00")
        offers.append(await _offer(client, listing_id, buyer))
    return bank, offers


async def test_accepting_an_offer_beyond_the_free_share_is_refused_naming_share_ppm(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    bank, (first, second) = await _overlapping_legacy_listings(client, market, context)
    await post_ok(client, f"/api/v1/offers/{first}/accept", {}, bank)
    refused = await client.post(f"/api/v1/offers/{second}/accept", json={}, headers=bank)
    assert refusal(refused) == (409, "share_already_listed", "share_ppm"), refused.text
    assert (refused.json()["reserved_ppm"], refused.json()["free_ppm"]) == (600_000, 400_000)
    offers = (await client.get("/api/v1/trades", headers=bank)).json()
    assert offers["total"] == 1


async def test_two_listings_of_the_whole_holding_at_once_exactly_one_is_made(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    body = _income_right(loan["id"], 1_000_000)
    answers = await asyncio.gather(
        *(client.post("/api/v1/listings", json=body, headers=bank) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409], [a.text for a in answers]
    [refused] = [answer for answer in answers if answer.status_code == 409]
    assert refusal(refused) == (409, "share_already_listed", "share_ppm"), refused.text
    listed = (await client.get("/api/v1/listings?status=open", headers=bank)).json()
    assert [item["share_ppm"] for item in listed["items"]] == [1_000_000]


async def test_two_acceptances_at_once_beyond_the_holding_exactly_one_trade_is_made(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    bank, offers = await _overlapping_legacy_listings(client, market, context)
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/offers/{offer_id}/accept", json={}, headers=bank) for offer_id in offers)
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409], [a.text for a in answers]
    [refused] = [answer for answer in answers if answer.status_code == 409]
    assert refusal(refused)[:2] == (409, "share_already_listed"), refused.text
    trades = (await client.get("/api/v1/trades?status=pending", headers=bank)).json()
    assert [item["share_ppm"] for item in trades["items"]] == [600_000]
