"""Sealed first- and second-price, descending clock and fixed-price sales through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.auction_support import AuctionHouse


async def test_sealed_second_price_hides_everything_until_close_then_charges_the_second_bid(
    house: AuctionHouse,
) -> None:
    _, seller = await house.bank()
    (_, a), (_, b), (_, c) = await house.bidders(3)
    auction = await house.create(seller, kind="sealed_second_price", reserve_price="1100.00")
    for bidder in (a, b, c):
        await house.register(auction["id"], bidder)
    house.clock.advance(10)

    await house.bid(auction["id"], a, "1500.00")
    await house.bid(auction["id"], b, "1300.00")
    replaced = await house.bid(auction["id"], a, "1800.00")  # a new envelope replaces the old
    await house.bid(auction["id"], c, "1200.00")
    with_max = await house.bid(auction["id"], c, "1200.00", max_amount="1500.00")

    assert replaced.status_code == 201
    assert (
        replaced.json()["current_price"],
        replaced.json()["leading_paddle"],
        replaced.json()["leading"],
        # No counter either: the lot's would tell an envelope's author how many rivals have bid.
        replaced.json()["sequence"],
    ) == (None, None, None, None)
    assert (with_max.status_code, with_max.json()["errors"][0]["field"]) == (422, "max_amount")
    view = await house.view(auction["id"], b)
    assert (view["current_price"], view["leading_paddle"], view["bid_count"], view["reserve_met"]) == (
        None,
        None,
        None,
        None,
    )
    history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=b)).json()
    assert (history["sealed_until_close"], history["items"]) == (True, [])

    house.clock.advance(3600)
    await house.tick()

    closed = await house.view(auction["id"], b)
    assert (closed["state"], closed["winning_paddle"], closed["final_price"]) == (
        "awaiting_payment",
        1,
        "1300.00",
    )
    revealed = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=b)).json()
    assert sorted((i["paddle"], i["amount"]) for i in revealed["items"]) == [
        (1, "1800.00"),
        (2, "1300.00"),
        (3, "1200.00"),
    ]
    assert await house.pending_holds() == 0


async def test_sealed_first_price_winner_pays_own_bid_and_ties_go_to_the_earlier(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(seller, kind="sealed_first_price")
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)
    await house.bid(auction["id"], b, "1400.00")
    house.clock.advance(1)
    await house.bid(auction["id"], a, "1400.00")

    house.clock.advance(3600)
    await house.tick()

    closed = await house.view(auction["id"], a)
    assert (closed["winning_paddle"], closed["final_price"]) == (2, "1400.00")


async def test_descending_clock_falls_by_step_and_the_first_acceptor_wins_at_the_clock_price(
    house: AuctionHouse,
) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(
        seller, kind="descending", start_price="2000.00", decrement="100.00", step_s=60, floor_price="1500.00"
    )
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    starts_at = datetime.fromisoformat(auction["starts_at"])

    house.clock.set(starts_at + timedelta(seconds=59))
    assert (await house.view(auction["id"], a))["current_price"] == "2000.00"
    house.clock.set(starts_at + timedelta(seconds=180))
    assert (await house.view(auction["id"], a))["current_price"] == "1700.00"
    too_low = await house.bid(auction["id"], a, "1600.00")
    accepted = await house.bid(auction["id"], a, "1700.00")
    second = await house.bid(auction["id"], b, "1700.00")

    assert (too_low.status_code, too_low.json()["minimum"]) == (409, "1700.00")
    assert accepted.status_code == 201
    assert accepted.json()["state"] == "awaiting_payment"
    assert (second.status_code, second.json()["code"]) == (409, "closed")
    closed = await house.view(auction["id"], a)
    assert (closed["final_price"], closed["winning_paddle"]) == ("1700.00", 1)
    assert await house.market.balances(b) == {"available": "100000.00", "held": "0.00"}

    house.clock.set(starts_at + timedelta(days=1))
    assert (await house.view(auction["id"], a))["current_price"] == "1700.00"


async def test_descending_clock_never_goes_below_the_floor(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1)
    auction = await house.create(
        seller, kind="descending", start_price="2000.00", decrement="300.00", step_s=60, floor_price="1500.00"
    )
    await house.register(auction["id"], a)
    house.clock.set(datetime.fromisoformat(auction["starts_at"]) + timedelta(minutes=30))

    assert (await house.view(auction["id"], a))["current_price"] == "1500.00"


async def test_fixed_price_sale_goes_to_the_first_acceptor(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(
        seller, kind="fixed_price", start_price="1800.00", increment="1.00", deposit="100.00"
    )
    await house.register(auction["id"], a)
    await house.register(auction["id"], b)
    house.clock.advance(10)

    first = await house.bid(auction["id"], b, "1800.00")
    late = await house.bid(auction["id"], a, "1800.00")
    paid = await house.http.post(f"/api/v1/auctions/{auction['id']}/payments", json={}, headers=b)

    assert first.status_code == 201
    assert (late.status_code, late.json()["code"]) == (409, "closed")
    assert paid.status_code == 201
    assert await house.market.balances(b) == {"available": "98200.00", "held": "0.00"}
    assert await house.market.balances(seller) == {"available": "1800.00", "held": "0.00"}
    assert await house.ledger_sum() == 0


async def test_auction_without_bids_closes_unsold_and_releases_deposits(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    ((_, a),) = await house.bidders(1)
    auction = await house.create(seller)
    await house.register(auction["id"], a)

    house.clock.advance(3600 + 10)
    await house.tick()

    view = await house.view(auction["id"], a)
    assert (view["state"], view["unsold_reason"]) == ("unsold", "no_bids")
    assert await house.market.balances(a) == {"available": "100000.00", "held": "0.00"}
