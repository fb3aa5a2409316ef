"""Input a client can send that used to reach the database or the decoder and answer 500 is a 4xx
problem naming the field, and changes nothing (app/input_bounds.py, README "Bounds on input")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from app.http.input_bounds import EARLIEST_DATE, LATEST_DATE, MAX_ID, MAX_OFFSET
from app.http.request_id import RequestIdMiddleware
from app.main import litestar_app
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import loan_body, register_loan
from tests.conftest import ADMIN_KEY, Market

ALL_ROLES = ["admin", "bank", "bidder", "agency", "clearing"]
# Past 64 bits, and far past it: both used to reach the driver. 2^63 has 19 digits, past the raw
# ASGI bid path's own pattern, so 0 and -1 are the ids that test that path's bound.
BEYOND_64_BITS = [MAX_ID + 1, 2**70]
# And digits of other scripts, which int() reads ("٣" and "３" are 3): one id, one spelling.
NOT_AN_ID: list[int | str] = [*BEYOND_64_BITS, 0, -1, "٣", "３"]
ID_ROUTES = [
    ("GET", "/api/v1/auctions/{}", "auction_id"),
    ("POST", "/api/v1/auctions/{}/bids", "auction_id"),
    ("GET", "/api/v1/auctions/{}/bids", "auction_id"),
    ("GET", "/api/v1/auctions/{}/events", "auction_id"),
    ("POST", "/api/v1/auctions/{}/registrations", "auction_id"),
    ("GET", "/api/v1/loans/{}", "loan_id"),
    ("GET", "/api/v1/trades/{}", "trade_id"),
    ("GET", "/api/v1/listings/{}", "listing_id"),
    ("GET", "/api/v1/listings/{}/offers", "listing_id"),
    ("POST", "/api/v1/offers/{}/accept", "offer_id"),
    ("POST", "/api/v1/participants/{}/funds", "participant_id"),
]
BODIES = {"/bids": {"amount": "10.00"}, "/funds": {"amount": "10.00", "reference": "R-1"}}
UNSAFE_TEXT = [
    "Bank\x00 of nowhere",
    "Bank\x01",
    "Bank\x1b[31m",
    "Bank\x7f",
    "Bank\x9b",
    "line\nbreak",
    "\u202eknab",
    "a\u202ab",
    "a\u2066b",
    "a\u2069b",
    "a\u200eb",
    "a\u200fb",
    "a\u061cb",
]


async def everyone(market: Market) -> dict[str, str]:
    """A participant with every role, so no guard answers before the bound does."""
    _, headers = await market.participant(ALL_ROLES, name="All roles", funds="1000.00")
    return headers


async def counts(client: httpx.AsyncClient) -> dict[str, int]:
    """How many rows each listing sees (as admin and clearing): a refusal leaves them all alone."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    result = {}
    for path in ("participants", "auctions", "listings", "trades"):
        response = await client.get(f"/api/v1/{path}", headers=headers)
        assert response.status_code == 200, response.text
        result[path] = response.json()["total"]
    return result


def refused(response: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["errors"][0]["field"] == field, problem
    assert problem["errors"][0]["reason"]
    return problem


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "content-type": "application/json"}


@pytest.mark.parametrize(("method", "template", "field"), ID_ROUTES)
async def test_a_path_id_outside_1_to_2_63_minus_1_is_a_422_naming_the_id(
    client: httpx.AsyncClient, market: Market, method: str, template: str, field: str
) -> None:
    headers = await everyone(market)
    before = await counts(client)
    body = next((b for suffix, b in BODIES.items() if template.endswith(suffix)), None)

    for value in NOT_AN_ID:
        response = await client.request(method, template.format(value), headers=headers, json=body)

        assert refused(response, field)["code"] == "id_out_of_range"
    assert await counts(client) == before


async def test_a_bid_on_an_id_outside_the_range_is_a_422_on_the_raw_asgi_path_too(
    house: AuctionHouse,
) -> None:
    _, bidders, auction = await house.open_lot(1)
    (_, bidder) = bidders[0]
    await house.view(auction["id"], bidder)  # the key is resolved: the raw path serves its bids

    for value in NOT_AN_ID:
        response = await house.bid(value, bidder, "1000.00")

        assert refused(response, "auction_id")["code"] == "id_out_of_range"
    assert (await house.view(auction["id"], bidder))["bid_count"] == 0


async def test_every_route_with_an_int_path_parameter_refuses_ids_past_64_bits(
    client: httpx.AsyncClient, market: Market, app: RequestIdMiddleware
) -> None:
    """Walks the route table, so a route added later is held to the bound without a new test."""
    headers = await everyone(market)
    before = await counts(client)
    checked = []
    for route in litestar_app(app).routes:
        int_params = [name for name, p in route.path_parameters.items() if p.type is int]
        if not isinstance(route, HTTPRoute) or not int_params:
            continue
        for method in sorted(set(route.methods) - {"OPTIONS", "HEAD"}):
            for value in BEYOND_64_BITS:
                path = route.path_format.format(**dict.fromkeys(route.path_parameters, value))
                response = await client.request(method, path, headers=headers, json={})

                assert response.status_code == 422, (method, path, response.text)
                assert response.json()["code"] == "id_out_of_range", (method, path)
                assert response.json()["errors"][0]["field"] in int_params, (method, path)
            checked.append((method, route.path))
    assert len(checked) >= 15, checked  # the id routes of app/controllers are all in the table
    assert await counts(client) == before


@pytest.mark.parametrize("path", ["auctions", "listings", "trades", "loans", "participants"])
async def test_an_offset_past_the_bound_is_a_422_naming_offset(
    client: httpx.AsyncClient, market: Market, path: str
) -> None:
    headers = await everyone(market)

    for offset in (MAX_OFFSET + 1, 2**63, 2**70):
        refused(await client.get(f"/api/v1/{path}?offset={offset}", headers=headers), "offset")
    largest = await client.get(f"/api/v1/{path}?offset={MAX_OFFSET}", headers=headers)
    assert largest.status_code == 200, largest.text
    assert largest.json()["items"] == []


async def test_a_bid_history_cursor_or_limit_past_64_bits_is_a_422(house: AuctionHouse) -> None:
    _, bidders, auction = await house.open_lot(1)
    (_, bidder) = bidders[0]
    history = f"/api/v1/auctions/{auction['id']}/bids"

    for value in BEYOND_64_BITS:
        refused(await house.http.get(f"{history}?after_sequence={value}", headers=bidder), "after_sequence")
        refused(await house.http.get(f"{history}?limit={value}", headers=bidder), "limit")


async def test_other_integer_query_parameters_past_64_bits_are_a_422(
    client: httpx.AsyncClient, market: Market
) -> None:
    headers = await everyone(market)
    waivers = "/api/v1/clearing/fee-waivers?from=2026-01-01&to=2026-01-31"

    for value in BEYOND_64_BITS:
        refused(await client.get(f"/api/v1/trades?listing_id={value}", headers=headers), "listing_id")
        refused(await client.get(f"{waivers}&after_line_id={value}", headers=headers), "after_line_id")


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("/api/v1/participants/me/statement?date={}", "date"),
        ("/api/v1/clearing/reconciliation?date={}", "date"),
        ("/api/v1/clearing/fee-waivers?from={}&to=2026-01-31", "from"),
        ("/api/v1/clearing/fee-waivers?from=2026-01-01&to={}", "to"),
    ],
)
async def test_a_date_outside_the_calendar_bounds_is_a_422_naming_it(
    client: httpx.AsyncClient, market: Market, template: str, field: str
) -> None:
    headers = await everyone(market)

    for day in ("0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"):
        reason = refused(await client.get(template.format(day), headers=headers), field)["errors"][0][
            "reason"
        ]

        assert EARLIEST_DATE.isoformat() in reason
        assert LATEST_DATE.isoformat() in reason


async def test_json_nested_too_deep_is_refused_on_participants(
    client: httpx.AsyncClient, market: Market
) -> None:
    before = await counts(client)

    for depth in (1_500, 20_000, 100_000):
        body = '{"name": "Deep", "roles": ["bank"], "credit_code": ' + deep(depth) + "}"
        response = await client.post("/api/v1/participants", content=body, headers=json_headers(market.admin))

        assert refused(response, "body")["code"] == "json_too_deep"
    assert await counts(client) == before


async def test_json_nested_too_deep_is_refused_on_a_bid_on_either_path(house: AuctionHouse) -> None:
    """1,500 levels fit in the raw ASGI path's body limit; the others go to Litestar at once."""
    _, bidders, auction = await house.open_lot(1)
    (_, bidder) = bidders[0]

    for depth in (1_500, 20_000, 100_000):
        response = await house.http.post(
            f"/api/v1/auctions/{auction['id']}/bids",
            content='{"amount": ' + deep(depth) + "}",
            headers=json_headers(bidder),
        )

        assert refused(response, "body")["code"] == "json_too_deep"
    assert (await house.view(auction["id"], bidder))["bid_count"] == 0


async def test_json_nested_too_deep_in_a_listings_auction_terms_is_refused(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    before = await counts(client)

    for depth in (1_500, 20_000, 100_000):
        body = (
            f'{{"loan_id": {loan["id"]}, "kind": "whole_loan", "mode": "auction", '
            f'"asking_price": "1000.00", "auction": {{"lot": {{"title": {deep(depth)}}}}}}}'
        )
        response = await client.post("/api/v1/listings", content=body, headers=json_headers(bank))

        assert refused(response, "body")["code"] == "json_too_deep"
    assert await counts(client) == before


async def test_a_body_over_the_size_limit_is_a_413_problem(client: httpx.AsyncClient, market: Market) -> None:
    before = await counts(client)
    body = '{"name": "' + "x" * 1_100_000 + '", "roles": ["bank"]}'

    response = await client.post("/api/v1/participants", content=body, headers=json_headers(market.admin))

    assert refused(response, "body", status=413)["code"] == "body_too_large"
    assert await counts(client) == before


async def test_a_control_or_bidi_character_in_a_participant_name_is_a_422(
    client: httpx.AsyncClient, market: Market
) -> None:
    before = await counts(client)

    for name in UNSAFE_TEXT:
        response = await client.post(
            "/api/v1/participants", json={"name": name, "roles": ["bank"]}, headers=market.admin
        )

        assert "control" in refused(response, "name")["errors"][0]["reason"], name
    assert await counts(client) == before


async def test_a_control_or_bidi_character_in_a_lot_title_or_description_is_a_422(
    client: httpx.AsyncClient, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    before = await counts(client)

    for text in UNSAFE_TEXT:
        titled = await client.post("/api/v1/auctions", json=house.body(lot={"title": text}), headers=seller)
        described = await client.post(
            "/api/v1/auctions", json=house.body(lot={"title": "Patent", "description": text}), headers=seller
        )

        refused(titled, "lot.title")
        if "\n" not in text:  # a description may span lines
            refused(described, "lot.description")
    assert (await counts(client))["auctions"] == before["auctions"] + 1


async def test_a_lot_description_may_span_lines_and_hold_tabs(
    client: httpx.AsyncClient, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    body = house.body(lot={"title": "Patent", "description": "First line.\r\nSecond line.\tTabbed."})

    response = await client.post("/api/v1/auctions", json=body, headers=seller)

    assert response.status_code == 201, response.text
    assert response.json()["lot"]["description"] == "First line.\r\nSecond line.\tTabbed."


async def test_a_control_character_in_a_cancel_reason_is_a_422(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    auction = await house.create(seller)

    response = await house.http.post(
        f"/api/v1/auctions/{auction['id']}/cancel", json={"reason": "withdrawn\x00"}, headers=seller
    )

    refused(response, "reason")
    assert (await house.view(auction["id"], seller))["state"] == "scheduled"


async def test_a_control_or_bidi_character_in_a_loans_names_is_a_422(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    collateral_title = loan_body()
    collateral_title["collateral"][0]["title"] = "Patent\x00"
    right_holder = loan_body()
    right_holder["collateral"][1]["right_holder"] = "\u202eHangzhou"

    for body, field in (
        (loan_body(borrower_name="Hangzhou\x00 Ltd"), "borrower_name"),
        (loan_body(borrower_name="\u202eHangzhou"), "borrower_name"),
        (collateral_title, "collateral[0].title"),
        (right_holder, "collateral[1].right_holder"),
    ):
        refused(await client.post("/api/v1/loans", json=body, headers=bank), field)
    assert (await client.get("/api/v1/loans", headers=bank)).json()["total"] == 0


async def test_an_auction_time_outside_the_calendar_is_a_422(
    client: httpx.AsyncClient, house: AuctionHouse
) -> None:
    _, seller = await house.bank()

    for field in ("starts_at", "ends_at"):
        for instant in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2200-01-01T00:00:00Z"):
            response = await client.post(
                "/api/v1/auctions", json=house.body(**{field: instant}), headers=seller
            )

            refused(response, field)
    assert (await counts(client))["auctions"] == 0


async def test_an_auction_starting_or_ending_beyond_the_lead_bound_is_a_422(
    client: httpx.AsyncClient, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    lead = timedelta(seconds=house.context.settings.auction_max_lead_s)
    start = house.clock() + lead + timedelta(seconds=1)
    late_start = house.body(starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat())
    late_end = house.body(ends_at=(house.clock() + lead + timedelta(seconds=1)).isoformat())

    starts = refused(await client.post("/api/v1/auctions", json=late_start, headers=seller), "starts_at")
    ends = refused(await client.post("/api/v1/auctions", json=late_end, headers=seller), "ends_at")

    assert starts["code"] == "starts_too_far_ahead"
    assert ends["code"] == "ends_too_far_ahead"
    assert "IPX_AUCTION_MAX_LEAD_S" in starts["detail"]
    assert (await counts(client))["auctions"] == 0


async def test_an_auction_ending_exactly_at_the_lead_bound_is_accepted(
    client: httpx.AsyncClient, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    lead = timedelta(seconds=house.context.settings.auction_max_lead_s)

    response = await client.post(
        "/api/v1/auctions", json=house.body(ends_at=(house.clock() + lead).isoformat()), headers=seller
    )

    assert response.status_code == 201, response.text


async def test_a_listing_closing_or_auctioned_outside_the_calendar_is_a_422(
    client: httpx.AsyncClient, market: Market, house: AuctionHouse
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await register_loan(client, bank)
    terms = house.body(ends_at="9999-12-31T23:59:59-14:00")
    del terms["lot"]
    subscription = {
        "loan_id": loan["id"],
        "kind": "income_right",
        "mode": "subscription",
        "share_ppm": 100_000,
        "asking_price": "1000.00",
        "min_unit_ppm": 10_000,
        "closes_at": "9999-12-31T23:59:59-14:00",
    }
    auction = {
        "loan_id": loan["id"],
        "kind": "whole_loan",
        "mode": "auction",
        "asking_price": "1000.00",
        "auction": terms,
    }

    refused(await client.post("/api/v1/listings", json=subscription, headers=bank), "closes_at")
    refused(await client.post("/api/v1/listings", json=auction, headers=bank), "ends_at")
    assert await counts(client) == {"participants": 2, "auctions": 0, "listings": 0, "trades": 0}


async def test_an_id_past_64_bits_in_a_body_is_a_422_naming_it(
    client: httpx.AsyncClient, house: AuctionHouse, market: Market
) -> None:
    _, seller = await house.bank()

    for value in BEYOND_64_BITS:
        for overrides, field in (
            ({"lot": {"title": "Patent", "listing_id": value}}, "lot.listing_id"),
            ({"lot": {"title": "Patent", "collateral_ids": [7, value]}}, "lot.collateral_ids[1]"),
            ({"rerun_of": value}, "rerun_of"),
        ):
            response = await client.post("/api/v1/auctions", json=house.body(**overrides), headers=seller)

            refused(response, field)
        listing = {"loan_id": value, "kind": "whole_loan", "mode": "negotiated", "asking_price": "1000.00"}
        refused(await client.post("/api/v1/listings", json=listing, headers=seller), "loan_id")
        refused(
            await client.post("/api/v1/loans", json=loan_body(servicer_id=value), headers=seller),
            "servicer_id",
        )
    assert await counts(client) == {"participants": 2, "auctions": 0, "listings": 0, "trades": 0}


@pytest.mark.parametrize(("method", "template", "field"), ID_ROUTES)
async def test_a_path_id_in_64_bits_that_does_not_exist_is_a_404(
    client: httpx.AsyncClient, market: Market, method: str, template: str, field: str
) -> None:
    # Inside the bound, past 32 bits: a 404 like any id that is not there (a 500 before the ids
    # were 64-bit on PostgreSQL).
    headers = await everyone(market)
    before = await counts(client)
    body = next((b for suffix, b in BODIES.items() if template.endswith(suffix)), None)
    for value in (2**31 - 1, 2**31, 2**32, MAX_ID):
        response = await client.request(method, template.format(value), headers=headers, json=body)
        assert response.status_code == 404, (value, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await counts(client) == before
