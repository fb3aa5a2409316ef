"""Nobody may put up for sale what is not theirs: an auction's listing and collateral are checked
against the caller (issue 11, defect 1). Each refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.auction_support import AuctionHouse
from tests.api.market_support import register_loan
from tests.api.repayment_support import post_repayment

pytestmark = pytest.mark.db


def _terms(house: AuctionHouse) -> dict[str, Any]:
    now = house.clock()
    return {
        "kind": "english",
        "start_price": "100000.00",
        "increment": "1000.00",
        "deposit": "10000.00",
        "starts_at": (now + timedelta(seconds=10)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }


async def _auction_listing(house: AuctionHouse, bank: dict[str, str], loan_id: int) -> dict[str, Any]:
    response = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": loan_id,
            "kind": "income_right",
            "mode": "auction",
            "share_ppm": 100_000,
            "asking_price": "100000.00",
            "auction": _terms(house),
        },
        headers=bank,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _auction_count(house: AuctionHouse, viewer: dict[str, str]) -> int:
    response = await house.http.get("/api/v1/auctions", headers=viewer)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def _refused(response: Any, status: int, code: str, field: str) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_another_bank_cannot_auction_a_listing_nor_can_an_admin(house: AuctionHouse) -> None:
    _, bank_a = await house.market.participant(["bank"], name="Bank A")
    _, bank_b = await house.market.participant(["bank"], name="Bank B")
    loan = await register_loan(house.http, bank_a)
    listing = await _auction_listing(house, bank_a, loan["id"])
    before = await _auction_count(house, bank_a)
    collateral_ids = [c["id"] for c in loan["collateral"]]
    for caller in (bank_b, house.market.admin):
        response = await house.http.post(
            "/api/v1/auctions",
            json=house.body(lot={"title": "Not mine", "listing_id": listing["id"]}),
            headers=caller,
        )
        _refused(response, 403, "not_your_listing", "lot.listing_id")
        response = await house.http.post(
            "/api/v1/auctions",
            json=house.body(
                lot={"title": "Not mine", "listing_id": listing["id"], "collateral_ids": collateral_ids}
            ),
            headers=caller,
        )
        _refused(response, 403, "not_your_listing", "lot.listing_id")
    assert await _auction_count(house, bank_a) == before
    after = (await house.http.get(f"/api/v1/listings/{listing['id']}", headers=bank_a)).json()
    assert (after["status"], after["auction_id"]) == ("open", listing["auction_id"])


async def test_another_banks_collateral_cannot_be_put_in_a_lot(house: AuctionHouse) -> None:
    _, bank_a = await house.market.participant(["bank"], name="Bank A")
    _, bank_b = await house.market.participant(["bank"], name="Bank B")
    loan_a = await register_loan(house.http, bank_a)
    theirs = [c["id"] for c in loan_a["collateral"]]
    for caller in (bank_b, house.market.admin):
        response = await house.http.post(
            "/api/v1/auctions",
            json=house.body(lot={"title": "A's patent", "collateral_ids": theirs}),
            headers=caller,
        )
        _refused(response, 403, "not_your_collateral", "lot.collateral_ids")
    # An id that exists nowhere is refused the same way: nobody learns which ids exist.
    response = await house.http.post(
        "/api/v1/auctions",
        json=house.body(lot={"title": "Nothing", "collateral_ids": [987_654]}),
        headers=bank_b,
    )
    _refused(response, 403, "not_your_collateral", "lot.collateral_ids")
    assert await _auction_count(house, bank_a) == 0

    # Nor may its creditor while the loan performs: the pledge is enforced only after a default,
    # by its disposal case (民法典第436条); the loan itself is sold through a listing.
    response = await house.http.post(
        "/api/v1/auctions",
        json=house.body(lot={"title": "My patent", "collateral_ids": theirs}),
        headers=bank_a,
    )
    _refused(response, 409, "collateral_not_in_disposal", "lot.collateral_ids")
    assert await _auction_count(house, bank_a) == 0


async def test_collateral_of_a_repaid_loan_is_released_and_cannot_be_sold(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"], name="Bank A")
    loan = await register_loan(house.http, bank, outstanding_principal="1000.00")
    repaid = await post_repayment(
        house.http,
        house.market,
        loan["id"],
        {"principal": "1000.00", "interest": "0.00", "received_on": "2026-06-01"},
        bank,
    )
    assert repaid.status_code == 201, repaid.text
    response = await house.http.post(
        "/api/v1/auctions",
        json=house.body(lot={"title": "Released", "collateral_ids": [loan["collateral"][0]["id"]]}),
        headers=bank,
    )
    _refused(response, 409, "collateral_released", "lot.collateral_ids")


async def test_the_listings_seller_reruns_its_auction_only_after_it_failed(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"], name="Bank A")
    loan = await register_loan(house.http, bank)
    listing = await _auction_listing(house, bank, loan["id"])
    own = {"title": "Income right, again", "listing_id": listing["id"]}

    # While the listing's auction runs, no second auction may sell it.
    response = await house.http.post("/api/v1/auctions", json=house.body(lot=own), headers=bank)
    _refused(response, 409, "listing_already_auctioned", "lot.listing_id")

    # Unsold: its seller may put it up again, and the listing follows the new auction.
    house.clock.advance(3700)
    await house.tick()
    assert (await house.view(listing["auction_id"], bank))["state"] == "unsold"
    other_loan = await register_loan(
        house.http,
        bank,
        collateral=[
            {
                "kind": "utility_patent",
                "registry_number": "ZL202120000002.1",
                "title": "Separator winding jig",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": "200000.00",
                "appraised_on": "2024-12-01",
                "filed_on": "2021-03-02",
            }
        ],
    )
    response = await house.http.post(
        "/api/v1/auctions",
        json=house.body(lot={**own, "collateral_ids": [other_loan["collateral"][0]["id"]]}),
        headers=bank,
    )
    _refused(response, 403, "not_your_collateral", "lot.collateral_ids")
    rerun = await house.create(bank, lot={**own, "collateral_ids": [c["id"] for c in loan["collateral"]]})
    after = (await house.http.get(f"/api/v1/listings/{listing['id']}", headers=bank)).json()
    assert (after["status"], after["auction_id"]) == ("open", rerun["id"])
    assert rerun["lot"]["listing_id"] == listing["id"]


async def test_only_a_listing_made_for_auction_is_auctioned(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"], name="Bank A")
    loan = await register_loan(house.http, bank)
    negotiated = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "100000.00",
        },
        headers=bank,
    )
    assert negotiated.status_code == 201, negotiated.text
    response = await house.http.post(
        "/api/v1/auctions",
        json=house.body(lot={"title": "Negotiated", "listing_id": negotiated.json()["id"]}),
        headers=bank,
    )
    _refused(response, 409, "listing_not_for_auction", "lot.listing_id")
    response = await house.http.post(
        "/api/v1/auctions", json=house.body(lot={"title": "Nowhere", "listing_id": 424_242}), headers=bank
    )
    _refused(response, 404, "listing_not_found", "lot.listing_id")


async def test_a_listing_under_auction_cannot_be_sold_another_way(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"], name="Bank A")
    _, buyer = await house.market.participant(["bank"], name="Buyer", funds="500000.00")
    loan = await register_loan(house.http, bank)
    listing = await _auction_listing(house, bank, loan["id"])
    offer = await house.http.post(
        f"/api/v1/listings/{listing['id']}/offers", json={"price": "200000.00"}, headers=buyer
    )
    assert (offer.status_code, offer.json()["code"]) == (409, "listing_is_auctioned")
    close = await house.http.post(f"/api/v1/listings/{listing['id']}/close", json={}, headers=bank)
    assert (close.status_code, close.json()["code"]) == (409, "not_subscription")


async def test_a_listing_auction_names_only_its_own_loans_collateral(house: AuctionHouse) -> None:
    _, bank = await house.market.participant(["bank"], name="Bank A")
    loan = await register_loan(house.http, bank)
    other = await register_loan(
        house.http,
        bank,
        collateral=[
            {
                "kind": "trademark",
                "registry_number": "TM-55501234",
                "title": "Separator brand, class 9",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": "200000.00",
                "appraised_on": "2024-12-01",
            }
        ],
    )
    terms = {**_terms(house), "lot": {"title": "Mixed", "collateral_ids": [other["collateral"][0]["id"]]}}
    response = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "auction",
            "share_ppm": 100_000,
            "asking_price": "100000.00",
            "auction": terms,
        },
        headers=bank,
    )
    _refused(response, 403, "not_your_collateral", "lot.collateral_ids")
    listings = (await house.http.get("/api/v1/listings", headers=bank)).json()
    assert listings["total"] == 0
