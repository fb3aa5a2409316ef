"""English auctions end to end through the HTTP API: proxies, soft close, close, pay, default."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.api.auction_support import AuctionHouse


async def test_english_auction_from_listing_to_payment_accounts_for_every_fen(house: AuctionHouse) -> None:
    seller_id, seller = await house.bank()
    (a_id, a), (b_id, b), (c_id, c) = await house.bidders(3, funds="5000.00")
    auction = await house.create(seller, reserve_price="1200.00")
    for bidder in (a, b, c):
        await house.register(auction["id"], bidder)
    assert await house.market.balances(a) == {"available": "4900.00", "held": "100.00"}

    house.clock.advance(10)
    first = await house.bid(auction["id"], a, "1000.00", max_amount="2000.00")
    second = await house.bid(auction["id"], b, "1500.00")
    third = await house.bid(auction["id"], c, "1600.00", max_amount="2100.00")

    assert first.status_code == 201
    # A's maximum covers the reserve, so the price rises to the reserve at once.
    assert (first.json()["current_price"], first.json()["leading"]) == ("1200.00", True)
    # B's 1500 is answered by A's proxy: B is not leading, the price is B's maximum + one increment.
    assert second.status_code == 201
    assert (second.json()["current_price"], second.json()["leading_paddle"], second.json()["leading"]) == (
        "1510.00",
        1,
        False,
    )
    # C's maximum beats A's 2000: C leads at A's maximum + one increment.
    assert (third.json()["current_price"], third.json()["leading_paddle"], third.json()["leading"]) == (
        "2010.00",
        3,
        True,
    )
    view = await house.view(auction["id"], c)
    assert view["you"] == {
        "paddle": 3,
        "deposit_state": "held",
        "leading": True,
        "your_max": "2100.00",
        "your_sealed_bid": None,
    }
    assert (view["reserve_met"], view["minimum_bid"], view["bid_count"]) == (True, "2020.00", 3)
    other = await house.view(auction["id"], a)
    assert other["you"]["your_max"] is None
    history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=a)).json()
    assert [(i["paddle"], i["amount"], i["price_after"]) for i in history["items"]] == [
        (1, "1000.00", "1200.00"),
        (2, "1500.00", "1510.00"),
        (3, "1600.00", "2010.00"),
    ]
    assert "max" not in str(history)

    house.clock.advance(3600)
    await house.tick()
    closed = await house.view(auction["id"], c)
    assert (closed["state"], closed["final_price"], closed["winning_paddle"]) == (
        "awaiting_payment",
        "2010.00",
        3,
    )
    assert await house.market.balances(a) == {"available": "5000.00", "held": "0.00"}
    assert await house.market.balances(b) == {"available": "5000.00", "held": "0.00"}
    assert await house.market.balances(c) == {"available": "4900.00", "held": "0.00"}

    paid = await house.http.post(f"/api/v1/auctions/{auction['id']}/payments", json={}, headers=c)

    assert paid.status_code == 201, paid.text
    assert paid.json()["price"] == "2010.00"
    assert paid.json()["deposit_applied"] == "100.00"
    assert paid.json()["paid_from_funds"] == "1910.00"
    assert await house.market.balances(c) == {"available": "2990.00", "held": "0.00"}
    assert await house.market.balances(seller) == {"available": "2010.00", "held": "0.00"}
    assert (await house.view(auction["id"], c))["state"] == "sold"
    assert await house.ledger_sum() == 0
    assert await house.pending_holds() == 0
    assert (await house.http.get("/api/v1/audit/verify", headers=house.market.admin)).json()["ok"] is True
    assert seller_id and a_id and b_id and c_id


async def test_leader_raising_own_maximum_does_not_raise_the_price(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(seller)
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)
    await house.bid(auction["id"], a, "1000.00", max_amount="1500.00")
    await house.bid(auction["id"], b, "1100.00")

    raised = await house.bid(auction["id"], a, "1120.00", max_amount="3000.00")

    assert raised.status_code == 201
    assert (raised.json()["current_price"], raised.json()["leading"]) == ("1110.00", True)
    assert (await house.view(auction["id"], a))["you"]["your_max"] == "3000.00"


async def test_equal_maxima_the_earlier_leads(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(seller)
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)
    await house.bid(auction["id"], a, "1000.00", max_amount="2000.00")

    tie = await house.bid(auction["id"], b, "2000.00")

    assert (tie.json()["leading_paddle"], tie.json()["current_price"], tie.json()["leading"]) == (
        1,
        "2000.00",
        False,
    )


async def test_off_grid_bid_is_refused_with_the_nearest_valid_amounts(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1)
    auction = await house.create(seller)
    await house.register(auction["id"], a)
    house.clock.advance(10)

    refused = await house.bid(auction["id"], a, "1015.00")
    low = await house.bid(auction["id"], a, "990.00")

    assert refused.status_code == 422
    body = refused.json()
    assert (body["code"], body["nearest_below"], body["nearest_above"]) == ("off_grid", "1010.00", "1020.00")
    assert body["errors"][0]["field"] == "amount"
    assert low.status_code == 409
    assert (low.json()["code"], low.json()["minimum"]) == ("below_minimum", "1000.00")
    assert (await house.view(auction["id"], a))["bid_count"] == 0


async def test_soft_close_boundaries(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(seller)
    ends_at = datetime.fromisoformat(auction["ends_at"])
    for bidder in (a, b):
        await house.register(auction["id"], bidder)

    house.clock.set(ends_at - timedelta(seconds=301))
    before_window = await house.bid(auction["id"], a, "1000.00")
    assert (before_window.json()["extended"], before_window.json()["ends_at"]) == (False, ends_at.isoformat())

    house.clock.set(ends_at - timedelta(seconds=300))
    at_window = await house.bid(auction["id"], b, "1010.00")
    new_end = ends_at - timedelta(seconds=300) + timedelta(seconds=300)
    assert at_window.json()["extended"] is False  # t + 300 s equals the old end: no later
    assert at_window.json()["ends_at"] == new_end.isoformat()

    house.clock.set(ends_at - timedelta(seconds=1))
    late = await house.bid(auction["id"], a, "1020.00")
    assert late.json()["extended"] is True
    extended_end = ends_at - timedelta(seconds=1) + timedelta(seconds=300)
    assert late.json()["ends_at"] == extended_end.isoformat()

    house.clock.set(extended_end)
    too_late = await house.bid(auction["id"], b, "1030.00")
    assert too_late.status_code == 409
    assert too_late.json()["code"] == "closed"
    house.clock.set(extended_end - timedelta(seconds=1))
    await house.tick()
    assert (await house.view(auction["id"], a))["state"] == "open"  # not due yet: the extension holds
    house.clock.set(extended_end)
    await house.tick()
    assert (await house.view(auction["id"], a))["state"] == "awaiting_payment"


async def test_reserve_not_met_leaves_the_lot_unsold_and_refunds_every_deposit(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2, funds="1000.00")
    auction = await house.create(seller, reserve_price="5000.00")
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)
    await house.bid(auction["id"], a, "1000.00")
    await house.bid(auction["id"], b, "1010.00")
    assert (await house.view(auction["id"], a))["reserve_met"] is False

    house.clock.advance(3600)
    await house.tick()

    view = await house.view(auction["id"], a)
    assert (view["state"], view["unsold_reason"], view["final_price"]) == ("unsold", "reserve_not_met", None)
    assert await house.market.balances(a) == {"available": "1000.00", "held": "0.00"}
    assert await house.market.balances(b) == {"available": "1000.00", "held": "0.00"}
    assert await house.pending_holds() == 0
    assert "reserve_price" not in view


async def test_winner_who_does_not_pay_defaults_forfeits_the_deposit_and_is_barred_from_the_rerun(
    house: AuctionHouse,
) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2, funds="3000.00")
    auction = await house.create(seller)
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)
    await house.bid(auction["id"], a, "1000.00")
    house.clock.advance(3600)
    await house.tick()

    house.clock.advance(604_800 + 1)
    late = await house.http.post(f"/api/v1/auctions/{auction['id']}/payments", json={}, headers=a)
    await house.tick()

    assert late.status_code == 409
    assert late.json()["code"] == "payment_deadline_passed"
    assert (await house.view(auction["id"], a))["state"] == "defaulted"
    assert await house.market.balances(a) == {"available": "2900.00", "held": "0.00"}
    assert await house.market.balances(seller) == {"available": "100.00", "held": "0.00"}
    rerun = await house.create(seller, rerun_of=auction["id"])
    barred = await house.http.post(f"/api/v1/auctions/{rerun['id']}/registrations", headers=a)
    allowed = await house.http.post(f"/api/v1/auctions/{rerun['id']}/registrations", headers=b)
    assert (barred.status_code, barred.json()["code"]) == (403, "barred_from_lot")
    assert allowed.status_code == 201
    assert await house.ledger_sum() == 0


async def test_payment_short_of_funds_says_by_how_much_and_changes_nothing(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1, funds="500.00")
    auction = await house.create(seller)
    await house.register(auction["id"], a)
    house.clock.advance(10)
    await house.bid(auction["id"], a, "1000.00")
    house.clock.advance(3600)
    await house.tick()

    short = await house.http.post(f"/api/v1/auctions/{auction['id']}/payments", json={}, headers=a)

    assert short.status_code == 409
    assert (short.json()["code"], short.json()["shortfall"]) == ("insufficient_funds", "500.00")
    assert (await house.view(auction["id"], a))["state"] == "awaiting_payment"
    assert await house.market.balances(a) == {"available": "400.00", "held": "0.00"}


async def test_registration_rules(house: AuctionHouse) -> None:
    seller_id, seller = await house.bank()
    (_, rich), (_, poor) = await house.bidders(1) + await house.bidders(1, funds="50.00")
    auction = await house.create(seller)
    _, seller_bidder = await house.market.participant(["bank", "bidder"])
    own = await house.create(seller_bidder)

    self_registration = await house.http.post(
        f"/api/v1/auctions/{own['id']}/registrations", headers=seller_bidder
    )
    no_funds = await house.http.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=poor)
    first = await house.http.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=rich)
    again = await house.http.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=rich)
    house.clock.advance(10)
    unregistered_bid = await house.bid(auction["id"], poor, "1000.00")

    assert (self_registration.status_code, self_registration.json()["code"]) == (403, "seller_cannot_bid")
    assert (no_funds.status_code, no_funds.json()["shortfall"]) == (409, "50.00")
    assert (first.status_code, first.json()["paddle"], first.json()["deposit"]) == (201, 1, "100.00")
    assert (again.status_code, again.json()["paddle"]) == (409, 1)
    assert (unregistered_bid.status_code, unregistered_bid.json()["code"]) == (403, "not_registered")
    assert await house.market.balances(poor) == {"available": "50.00", "held": "0.00"}
    assert seller_id


async def test_bid_before_the_start_is_refused(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1)
    auction = await house.create(seller)
    await house.register(auction["id"], a)

    early = await house.bid(auction["id"], a, "1000.00")

    assert (early.status_code, early.json()["code"]) == (409, "not_started")


async def test_cancel_only_before_the_first_bid_and_releases_deposits(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1, funds="500.00")
    quiet = await house.create(seller)
    busy = await house.create(seller)
    await house.register(quiet["id"], a)
    await house.register(busy["id"], a)
    house.clock.advance(10)
    await house.bid(busy["id"], a, "1000.00")

    cancelled = await house.http.post(
        f"/api/v1/auctions/{quiet['id']}/cancel", json={"reason": "loan repaid"}, headers=seller
    )
    refused = await house.http.post(
        f"/api/v1/auctions/{busy['id']}/cancel", json={"reason": "x"}, headers=seller
    )
    stranger = await house.http.post(f"/api/v1/auctions/{busy['id']}/cancel", json={"reason": "x"}, headers=a)

    assert (cancelled.status_code, cancelled.json()["state"], cancelled.json()["cancel_reason"]) == (
        200,
        "cancelled",
        "loan repaid",
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "auction_has_bids")
    assert stranger.status_code == 403
    assert await house.market.balances(a) == {"available": "400.00", "held": "100.00"}


async def test_auction_validation_names_the_field(house: AuctionHouse, client: httpx.AsyncClient) -> None:
    _, seller = await house.bank()
    now = house.clock()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "dutchish"}, "kind"),
        ({"start_price": "-1.00"}, "start_price"),
        ({"increment": "0.00"}, "increment"),
        ({"deposit": "10.00"}, "deposit"),  # below 5 % of 1000.00
        ({"deposit": "300.00"}, "deposit"),  # above 20 %
        ({"reserve_price": "900.00"}, "reserve_price"),
        ({"starts_at": (now - timedelta(hours=1)).isoformat()}, "starts_at"),
        ({"ends_at": (now + timedelta(seconds=5)).isoformat()}, "ends_at"),
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
        ({"lot": {"title": ""}}, "lot.title"),
        ({"kind": "descending"}, "decrement"),
        ({"decrement": "10.00"}, "kind"),
    ]
    for override, field in cases:
        response = await client.post("/api/v1/auctions", json=house.body(**override), headers=seller)
        assert response.status_code == 422, (override, response.text)
        assert response.json()["errors"][0]["field"] == field, (override, response.json())
    listing = (await client.get("/api/v1/auctions", headers=seller)).json()
    assert listing["total"] == 0


async def test_minimum_duration_is_enforced_from_settings(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    house.context.settings = house.context.settings.__class__(
        **{
            **{f: getattr(house.context.settings, f) for f in house.context.settings.__dataclass_fields__},
            "auction_min_duration_s": 86_400,
        }
    )
    now = house.clock()

    short = await house.http.post(
        "/api/v1/auctions",
        json=house.body(ends_at=(now + timedelta(hours=23)).isoformat()),
        headers=seller,
    )
    long = await house.http.post(
        "/api/v1/auctions",
        json=house.body(ends_at=(now + timedelta(seconds=10, hours=24)).isoformat()),
        headers=seller,
    )

    assert (short.status_code, short.json()["code"]) == (422, "duration_too_short")
    assert long.status_code == 201
