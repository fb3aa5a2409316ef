"""The raw ASGI bid path (app/bid_fast_path.py) answers exactly as the Litestar handler does, and
passes on to Litestar, body intact, every request it does not serve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Set
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from app.bidding.fast_path import MAX_BODY_BYTES, BidFastPath
from app.http.request_id import RequestIdMiddleware
from app.main import litestar_app
from tests.api.auction_support import AuctionHouse

VOLATILE = ("server_time", "request_id", "instance")


class CountingApp:
    """Litestar behind a counter: which requests the fast path passed on, with the body it got."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        first = await receive()
        self.bodies.append(first.get("body", b""))

        async def replay() -> Any:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        await self.app(scope, replay, send)


@pytest.fixture
async def paths(
    app: RequestIdMiddleware, house: AuctionHouse
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, CountingApp]]:
    """A client through the fast path (counting what it passes on) and one straight to Litestar,
    on the same application, database and clock."""
    inner = litestar_app(app)
    counting = CountingApp(inner)
    # BidFastPath only calls what it passes on to (as ASGI); it is typed Litestar for litestar_app.
    fast = RequestIdMiddleware(BidFastPath(cast(Litestar, counting), house.context))
    plain = RequestIdMiddleware(inner)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://ipx.test") as fast_http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://ipx.test") as plain_http,
    ):
        yield fast_http, plain_http, counting


def _answer(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k not in VOLATILE}
    return response.status_code, response.headers["content-type"], body


async def _script(
    http: httpx.AsyncClient, auction_id: int, bidders: list[dict[str, str]], others: dict[str, dict[str, str]]
) -> list[tuple[int, str, dict[str, Any]]]:
    """Accepted, answered by a proxy, too low, off the grid, unregistered, no such auction, a
    bad body, a bad amount, an unknown key, a seller bidding, and an idempotent retry."""
    path = f"/api/v1/auctions/{auction_id}/bids"
    requests: list[tuple[str, dict[str, str], Any]] = [
        (path, bidders[0], {"amount": "1000.00", "max_amount": "1500.00"}),
        (path, bidders[1], {"amount": "1100.00"}),
        (path, bidders[1], {"amount": "1200.00"}),
        (path, bidders[1], {"amount": "1100.00"}),
        (path, bidders[1], {"amount": "1605.00"}),
        (path, others["unregistered"], {"amount": "1700.00"}),
        ("/api/v1/auctions/999999/bids", bidders[0], {"amount": "1700.00"}),
        (path, bidders[1], {"amount": "1700.00", "colour": "red"}),
        (path, bidders[1], {"amount": "17OO.00"}),
        (path, {"Authorization": "Bearer ipx_not_a_key"}, {"amount": "1700.00"}),
        (path, others["seller"], {"amount": "1700.00"}),
        (path, {**bidders[1], "Idempotency-Key": f"k-{auction_id}"}, {"amount": "1700.00"}),
    ]
    return [_answer(await http.post(url, json=body, headers=headers)) for url, headers, body in requests]


async def test_the_fast_path_answers_as_litestar_does_and_passes_on_the_rest(
    house: AuctionHouse, paths: tuple[httpx.AsyncClient, httpx.AsyncClient, CountingApp], backend: str
) -> None:
    fast, plain, counting = paths
    _, seller = await house.bank()
    people = await house.bidders(3)
    bidders = [headers for _, headers in people[:2]]
    others = {"unregistered": people[2][1], "seller": seller}
    await house.http.get("/api/v1/participants/me", headers=others["unregistered"])  # its key is known
    on_fast = await house.create(seller)
    on_plain = await house.create(seller)
    for auction in (on_fast, on_plain):
        for bidder in bidders:
            await house.register(auction["id"], bidder)
    house.clock.advance(60)

    fast_answers = await _script(fast, on_fast["id"], bidders, others)
    plain_answers = await _script(plain, on_plain["id"], bidders, others)

    assert fast_answers == plain_answers
    assert [status for status, _, _ in fast_answers] == [
        201,
        201,
        201,
        409,
        422,
        403,
        404,
        422,
        422,
        401,
        403,
        201,
    ]
    assert fast_answers[2][2]["leading"] is False  # answered by bidder 0's proxy
    assert fast_answers[3][2]["minimum"] == "1220.00"
    assert fast_answers[4][2]["nearest_below"] == "1600.00"
    assert {content_type for _, content_type, _ in fast_answers} == {
        "application/json",
        "application/problem+json",
    }
    # Passed on: the bad body, the bad amount, the unknown key, the seller, the idempotent retry,
    # each with its body intact; on SQLite (no driver path) every request.
    passed_on = [json.loads(body) for body in counting.bodies]
    if backend == "postgres":
        assert passed_on == [
            {"amount": "1700.00", "colour": "red"},
            {"amount": "17OO.00"},
            {"amount": "1700.00"},
            {"amount": "1700.00"},
            {"amount": "1700.00"},
        ]
    else:
        assert len(passed_on) == 12
    history = await house.http.get(f"/api/v1/auctions/{on_fast['id']}/bids", headers=bidders[0])
    assert [(b["paddle"], b["amount"]) for b in history.json()["items"]] == [
        (1, "1000.00"),
        (2, "1100.00"),
        (2, "1200.00"),
        (2, "1700.00"),
    ]


async def test_a_bid_by_a_key_not_yet_cached_is_passed_on_then_served(
    house: AuctionHouse, paths: tuple[httpx.AsyncClient, httpx.AsyncClient, CountingApp], backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("the fast path serves the driver bid path, PostgreSQL's")
    fast, _, counting = paths
    _, [(_, bidder)], auction = await house.open_lot(1)  # registering cached the bidder's key
    house.context.key_cache.clear()
    url = f"/api/v1/auctions/{auction['id']}/bids"

    first = await fast.post(url, json={"amount": "1000.00"}, headers=bidder)
    second = await fast.post(url, json={"amount": "1010.00"}, headers=bidder)

    assert (first.status_code, second.status_code) == (201, 201)
    assert [first.json()["sequence"], second.json()["sequence"]] == [1, 2]
    assert len(counting.bodies) == 1  # the first looked the key up through Litestar


async def test_a_body_too_long_for_a_bid_is_passed_on_whole(
    house: AuctionHouse, paths: tuple[httpx.AsyncClient, httpx.AsyncClient, CountingApp]
) -> None:
    fast, plain, counting = paths
    _, [(_, bidder)], auction = await house.open_lot(1)
    url = f"/api/v1/auctions/{auction['id']}/bids"
    body = {"amount": "1000.00", "max_amount": "9" * (2 * MAX_BODY_BYTES)}

    answers = [_answer(await http.post(url, json=body, headers=bidder)) for http in (fast, plain)]

    assert answers[0] == answers[1]
    assert answers[0][0] == 422
    assert answers[0][2]["errors"][0]["field"] == "max_amount"
    assert [json.loads(b) for b in counting.bodies] == [body]


async def test_a_bid_on_a_sealed_auction_is_passed_on_and_its_kind_remembered(
    house: AuctionHouse, paths: tuple[httpx.AsyncClient, httpx.AsyncClient, CountingApp], backend: str
) -> None:
    fast, _, counting = paths
    _, people, auction = await house.open_lot(2, kind="sealed_first_price")
    url = f"/api/v1/auctions/{auction['id']}/bids"

    answers = [
        await fast.post(url, json={"amount": amount}, headers=bidder)
        for (_, bidder), amount in zip(people, ["1200.00", "1300.00"], strict=True)
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert [a.json()["current_price"] for a in answers] == [None, None]
    assert len(counting.bodies) == 2
    not_english: Set[int] = house.context.not_english  # the cache itself, seen as the set it is
    assert not_english == ({auction["id"]} if backend == "postgres" else set())
    history = (await house.http.get(url, headers=people[0][1])).json()
    assert (history["sealed_until_close"], history["items"]) == (True, [])
