"""The public catalogue (issue 13): anyone may read the auctions without a key and gets exactly the
public view; a wrong key is still a 401; every other route still needs a key."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from app.context import AppContext
from app.db import Database
from app.http.auth import PUBLIC_PATHS
from app.http.public_reads import is_anonymous_read
from app.http.request_id import RequestIdMiddleware
from app.main import litestar_app
from app.pages.wiring import OPEN_PATHS as PAGE_PATHS
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import register_loan
from tests.api.statements import request_statements
from tests.api.test_live_events import _registered_auction, _running_server
from tests.conftest import auth

pytestmark = pytest.mark.db

# Every route anyone may call without a key. A new route needs a key unless it is added here.
ANONYMOUS_ROUTES = {
    ("GET", "/health"),
    ("GET", "/api/v1/clock"),
    ("GET", "/api/v1/auctions"),
    ("GET", "/api/v1/auctions/{auction_id}"),
    ("GET", "/api/v1/auctions/{auction_id}/bids"),
    ("GET", "/api/v1/auctions/{auction_id}/events"),
    ("GET", "/api/v1/sessions"),
    ("GET", "/api/v1/sessions/{session_id}"),
    ("GET", "/api/v1/open-licenses"),
}
CATALOGUE_READS = ("", "/bids", "/events")
PUBLIC_FIELDS = {
    "id",
    "kind",
    "state",
    "lot",
    "start_price",
    "increment",
    "deposit",
    "has_reserve",
    "reserve_met",
    "starts_at",
    "ends_at",
    "scheduled_ends_at",
    "extension_window_s",
    "extension_s",
    "current_price",
    "minimum_bid",
    "leading_paddle",
    "bid_count",
    "registrations",
    "final_price",
    "winning_paddle",
    "unsold_reason",
    "payment_due_at",
    "closed_at",
    "cancel_reason",
    "rerun_of",
    "server_time",
}
KEY_HOLDER_FIELDS = {"seller_id", "you"}
# Keys that name a participant or a secret amount: none may appear anywhere in a public answer.
PRIVATE_KEYS = {
    "seller_id",
    "you",
    "your_max",
    "your_sealed_bid",
    "bidder_id",
    "winner_id",
    "leader_id",
    "max_amount",
    "reserve_price",
    "right_holder",
}
WRONG_KEYS = (auth("ipx_not-a-real-key"), {"Authorization": "Basic abc"}, {"Authorization": ""})
# Secret amounts of the English lot below: A's proxy maximum and the hidden reserve.
A_MAX = "1650.00"
RESERVE = "1730.00"
SEALED_AMOUNTS = ("1300.00", "1400.00", "1500.00")


def _keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {key for inner in value.values() for key in _keys(inner)}
    if isinstance(value, list):
        return {key for inner in value for key in _keys(inner)}
    return set()


async def _public(http: httpx.AsyncClient, path: str) -> tuple[dict[str, Any], str]:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    assert not _keys(response.json()) & PRIVATE_KEYS, response.text
    return dict(response.json()), response.text


async def _bank_lot(
    house: AuctionHouse, **overrides: Any
) -> tuple[int, dict[str, str], dict[str, Any], dict[str, Any]]:
    """A bank's loan and an auction of both its collateral items: the bank's id and key, the loan, the lot."""
    bank_id, bank = await house.bank()
    loan = await register_loan(house.http, bank)
    lot = {"title": "Separator patent and workshop", "collateral_ids": [c["id"] for c in loan["collateral"]]}
    return bank_id, bank, loan, await house.listing_lot(bank, loan["id"], lot=lot, **overrides)


async def test_anonymous_reads_show_the_public_view_of_an_english_lot_and_nothing_private(
    house: AuctionHouse,
) -> None:
    bank_id, bank, loan, auction = await _bank_lot(house, reserve_price=RESERVE)
    (_, a), (_, b) = await house.bidders(2)
    paddle_a, paddle_b = await house.register(auction["id"], a), await house.register(auction["id"], b)
    _, stranger = await house.market.participant(["bidder"], name="Stranger")
    house.clock.advance(60)
    assert (await house.bid(auction["id"], a, "1000.00", max_amount=A_MAX)).status_code == 201
    assert (await house.bid(auction["id"], b, "1100.00")).status_code == 201
    base = f"/api/v1/auctions/{auction['id']}"

    listed, listed_text = await _public(house.http, "/api/v1/auctions")
    detail, detail_text = await _public(house.http, base)
    history, history_text = await _public(house.http, f"{base}/bids")

    assert listed["total"] == 1
    assert listed["items"] == [detail]
    assert set(detail) == PUBLIC_FIELDS
    assert detail["lot"]["collateral"] == [
        {key: item[key] for key in ("id", "kind", "registry_number", "title", "appraisal")}
        for item in loan["collateral"]
    ]
    assert detail["lot"]["collateral"][0]["appraisal"] == "3000000.00"
    assert auction["lot"]["collateral"] == detail["lot"]["collateral"]  # the seller's create answer too
    assert (detail["current_price"], detail["leading_paddle"], detail["bid_count"]) == (
        "1110.00",
        paddle_a,
        2,
    )
    assert (detail["has_reserve"], detail["reserve_met"], detail["minimum_bid"]) == (True, False, "1120.00")
    assert [(i["paddle"], i["amount"]) for i in history["items"]] == [
        (paddle_a, "1000.00"),
        (paddle_b, "1100.00"),
    ]
    assert set(history["items"][0]) == {"sequence", "paddle", "amount", "price_after", "received_at"}
    for text in (listed_text, detail_text, history_text):
        assert A_MAX not in text and RESERVE not in text

    # A key holder sees the same public view and, on top, the seller and its own place only.
    for viewer, you in (
        (a, {"paddle": paddle_a, "deposit_state": "held", "leading": True, "your_max": A_MAX}),
        (b, {"paddle": paddle_b, "deposit_state": "held", "leading": False, "your_max": None}),
        (stranger, None),
        (bank, None),
    ):
        view = await house.view(auction["id"], viewer)
        assert {k: v for k, v in view.items() if k not in KEY_HOLDER_FIELDS} == detail
        assert view["seller_id"] == bank_id
        assert view["you"] == (None if you is None else {**you, "your_sealed_bid": None})

    house.clock.advance(3600)
    await house.tick()
    closed, closed_text = await _public(house.http, base)
    assert (closed["state"], closed["unsold_reason"], closed["final_price"]) == (
        "unsold",
        "reserve_not_met",
        None,
    )
    assert A_MAX not in closed_text and RESERVE not in closed_text


async def test_sealed_amounts_are_shown_to_their_own_bidder_only_until_close_then_to_anyone(
    house: AuctionHouse,
) -> None:
    _, seller = await house.bank()
    (_, a), (_, b) = await house.bidders(2)
    auction = await house.create(seller, kind="sealed_first_price")
    paddle_a, paddle_b = await house.register(auction["id"], a), await house.register(auction["id"], b)
    house.clock.advance(10)
    for bidder, amount in ((a, "1400.00"), (b, "1300.00"), (a, "1500.00")):
        assert (await house.bid(auction["id"], bidder, amount)).status_code == 201
    base = f"/api/v1/auctions/{auction['id']}"

    detail, detail_text = await _public(house.http, base)
    history, history_text = await _public(house.http, f"{base}/bids")
    listed, listed_text = await _public(house.http, "/api/v1/auctions")

    fields = ("current_price", "leading_paddle", "bid_count", "reserve_met", "final_price", "winning_paddle")
    assert tuple(detail[f] for f in fields) == (None,) * len(fields)
    assert (history["sealed_until_close"], history["items"]) == (True, [])
    assert listed["items"] == [detail]
    for text in (detail_text, history_text, listed_text):
        assert not [amount for amount in SEALED_AMOUNTS if amount in text]
    for viewer, own, others in (
        (a, "1500.00", ("1300.00", "1400.00")),
        (b, "1300.00", ("1500.00", "1400.00")),
    ):
        response = await house.http.get(base, headers=viewer)
        assert response.json()["you"]["your_sealed_bid"] == own
        assert not [amount for amount in others if amount in response.text]
    seller_view = await house.http.get(base, headers=seller)
    assert seller_view.json()["you"] is None
    assert not [amount for amount in SEALED_AMOUNTS if amount in seller_view.text]

    house.clock.advance(3600)
    await house.tick()
    closed, _ = await _public(house.http, base)
    revealed, _ = await _public(house.http, f"{base}/bids")
    assert (closed["final_price"], closed["winning_paddle"], closed["current_price"]) == (
        "1500.00",
        paddle_a,
        "1500.00",
    )
    assert sorted((i["paddle"], i["amount"]) for i in revealed["items"]) == [
        (paddle_a, "1500.00"),
        (paddle_b, "1300.00"),
    ]


async def test_a_wrong_key_is_still_refused_on_the_public_reads(house: AuctionHouse) -> None:
    _, seller = await house.bank()
    auction = await house.create(seller)
    for suffix in ("/api/v1/auctions", *(f"/api/v1/auctions/{auction['id']}{s}" for s in CATALOGUE_READS)):
        for headers in WRONG_KEYS:
            response = await house.http.get(suffix, headers=headers)
            assert response.status_code == 401, (suffix, headers, response.text)
            assert response.json()["code"] == "unauthenticated"
            assert response.headers["www-authenticate"] == "Bearer"


async def test_anonymous_bad_input_is_a_problem_naming_the_field(client: httpx.AsyncClient) -> None:
    for path, status, code in (
        ("/api/v1/auctions?limit=201", 422, "validation_failed"),
        ("/api/v1/auctions?offset=-1", 422, "integer_out_of_range"),
        ("/api/v1/auctions?state=bogus", 422, "unknown_state"),
        ("/api/v1/auctions/0", 422, "id_out_of_range"),
        (f"/api/v1/auctions/{2**70}/bids", 422, "id_out_of_range"),
        ("/api/v1/auctions/424242", 404, "auction_not_found"),
        ("/api/v1/auctions/424242/bids", 404, "auction_not_found"),
        ("/api/v1/auctions/424242/events", 404, "auction_not_found"),
    ):
        response = await client.get(path)
        assert (response.status_code, response.json()["code"]) == (status, code), (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def _routes(app: RequestIdMiddleware) -> Iterator[tuple[str, str, Any]]:
    """(method, path, handler) of every route in the app's table, but the automatic OPTIONS
    answers, the OpenAPI document's own routes (public by path, auth.PUBLIC_PATHS) and the pages
    (app/pages: a login session instead of a key, held to it by tests/api/test_pages.py)."""
    for route in litestar_app(app).routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        if any(re.match(pattern, route.path) for pattern in PAGE_PATHS):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                yield method, route.path_format, handler


async def test_every_route_but_the_public_reads_needs_a_key(
    client: httpx.AsyncClient, app: RequestIdMiddleware
) -> None:
    anonymous = set()
    for method, path, handler in _routes(app):
        url = re.sub(r"\{[^}]+\}", "424242", path)  # an id that exists nowhere
        response = await client.request(method, url, json={})
        if is_anonymous_read(handler):
            anonymous.add((method, path))
            assert method == "GET" and not handler.guards, (method, path)
            assert response.status_code in (200, 404), (method, path, response.text)
        else:
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthenticated"
    assert anonymous == ANONYMOUS_ROUTES
    assert {path for _, path in ANONYMOUS_ROUTES if any(path.startswith(p) for p in PUBLIC_PATHS)} == {
        "/health",
        "/api/v1/clock",
    }


async def test_openapi_marks_the_public_reads_as_needing_no_key_and_everything_else_a_key(
    client: httpx.AsyncClient, app: RequestIdMiddleware
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = {
        (method.upper(), path): operation["security"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }

    # The document lists exactly the routes of the table, mutating ones included.
    assert set(operations) == {(method, path) for method, path, _ in _routes(app)}
    assert any(method == "POST" for method, _ in operations)
    for key, security in operations.items():
        # OpenAPI security requirements: each names its schemes, each with its scopes.
        expected: list[dict[str, list[str]]] = (
            [{"ApiKey": []}, {}] if key in ANONYMOUS_ROUTES else [{"ApiKey": []}]
        )
        assert security == expected, key
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <api key> (keys are shown once, at creation)",
    }
    auction_out = document["components"]["schemas"]["AuctionOut"]
    assert set(auction_out["properties"]) >= KEY_HOLDER_FIELDS
    assert not KEY_HOLDER_FIELDS & set(auction_out["required"])
    assert set(auction_out["required"]) == PUBLIC_FIELDS


async def test_a_page_of_lots_reads_its_collateral_in_one_statement_however_many_lots(
    house: AuctionHouse, context: AppContext
) -> None:
    _, bank = await house.bank()
    loans = [await register_loan(house.http, bank, collateral=[_item(n)]) for n in range(6)]
    counts = []
    for batch in (loans[:2], loans[2:]):
        for loan in batch:
            await house.listing_lot(
                bank,
                loan["id"],
                lot={"title": f"Lot {loan['id']}", "collateral_ids": [loan["collateral"][0]["id"]]},
            )
        with request_statements(context.database) as seen:
            listed, _ = await _public(house.http, "/api/v1/auctions")
        counts.append((len(seen), sum("collateral_items" in s for s in seen)))
        assert listed["total"] == len(listed["items"])

    assert counts[0] == counts[1]
    assert counts[0][1] == 1
    assert [item["lot"]["collateral"][0]["registry_number"] for item in listed["items"]] == [
        f"ZL20201000{n:04d}.X" for n in range(6)
    ]


def _item(n: int) -> dict[str, str]:
    return {
        "kind": "invention_patent",
        "registry_number": f"ZL20201000{n:04d}.X",
        "title": f"Patent {n}",
        "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "appraisal": f"{1000 + n}.00",
        "appraised_on": "2024-12-01",
        "filed_on": "2020-06-15",
    }


@pytest.fixture
async def server(database: Database) -> AsyncIterator[str]:
    async with _running_server(database) as base:
        yield base


async def test_anonymous_watcher_gets_the_public_view_and_public_bid_events(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        auction, bidder = await _registered_auction(
            http, "Trademark 7654321", starts_in_s=0.2, ends_in_s=3600
        )
        await asyncio.sleep(0.3)
        events: list[tuple[str, dict[str, Any]]] = []
        subscribed = asyncio.Event()

        async def listen() -> None:
            async with http.stream("GET", f"/api/v1/auctions/{auction['id']}/events") as stream:
                assert stream.status_code == 200
                name = ""
                async for line in stream.aiter_lines():
                    if line.startswith("event:"):
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        events.append((name, json.loads(line.split(":", 1)[1])))
                        subscribed.set()
                        if name == "bid":
                            return

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(subscribed.wait(), timeout=10)
        bid = await http.post(
            f"/api/v1/auctions/{auction['id']}/bids",
            json={"amount": "1000.00", "max_amount": A_MAX},
            headers=bidder,
        )
        assert bid.status_code == 201, bid.text
        await asyncio.wait_for(listener, timeout=10)
        keyed = await http.get(f"/api/v1/auctions/{auction['id']}", headers=bidder)

    (hello_name, hello), (bid_name, bid_event) = events
    assert (hello_name, bid_name) == ("hello", "bid")
    assert set(hello["auction"]) == PUBLIC_FIELDS
    assert (bid_event["paddle"], bid_event["current_price"], bid_event["leading_paddle"]) == (1, "1000.00", 1)
    for payload in (hello, bid_event):
        assert not _keys(payload) & PRIVATE_KEYS
        assert A_MAX not in json.dumps(payload)
    assert keyed.json()["you"]["your_max"] == A_MAX
