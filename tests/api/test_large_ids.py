"""Ids past 32 bits are ids like any other (migration 0010): a path id of 2^31 or of 2^63 - 1 finds
nothing and answers 404, where PostgreSQL's int4 columns used to fail in the driver with a 500."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from app.bidding.fast_path import BID_PATH, BidFastPath
from app.http.request_id import RequestIdMiddleware
from app.main import litestar_app
from tests.api.auction_support import AuctionHouse

PAST_32_BITS = [2**31, 2**63 - 1]


class PassedOn:
    """Litestar behind a counter of the requests the raw bid path passed on to it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


def _assert_not_found(response: httpx.Response, what: str) -> None:
    assert response.status_code == 404, (what, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), what
    assert response.json()["status"] == 404, what


@pytest.mark.parametrize("huge", PAST_32_BITS, ids=["2^31", "2^63-1"])
async def test_ids_past_32_bits_answer_not_found_on_every_route_that_takes_one(
    app: RequestIdMiddleware, house: AuctionHouse, backend: str, huge: int
) -> None:
    _, bank = await house.bank()
    [(_, bidder)] = await house.bidders(1)
    # The raw bid path serves a key it resolved in the last few seconds: this makes it known.
    await house.http.get("/api/v1/participants/me", headers=bidder)
    bid = {"amount": "1000.00"}

    reads = {
        "auction": ("GET", f"/api/v1/auctions/{huge}", bidder, None),
        "loan": ("GET", f"/api/v1/loans/{huge}", bank, None),
        "trade": ("GET", f"/api/v1/trades/{huge}", bank, None),
        "listing's offers": ("GET", f"/api/v1/listings/{huge}/offers", bank, None),
        "accept": ("POST", f"/api/v1/offers/{huge}/accept", bank, None),
        "keyed bid (Litestar)": (
            "POST",
            f"/api/v1/auctions/{huge}/bids",
            {**bidder, "Idempotency-Key": f"k-{uuid.uuid4().hex}"},
            bid,
        ),
    }
    for what, (method, path, headers, body) in reads.items():
        _assert_not_found(await house.http.request(method, path, headers=headers, json=body), what)

    # The unkeyed bid through the app as served, with a counter between the raw path and Litestar:
    # on PostgreSQL the raw path answers it itself when its pattern takes the id (up to 18 digits:
    # 2^31, not 2^63 - 1), and Litestar answers the rest, and every bid on SQLite.
    path = f"/api/v1/auctions/{huge}/bids"
    passed_on = PassedOn(litestar_app(app))
    # BidFastPath only calls what it passes on to (as ASGI); it is typed Litestar for litestar_app.
    served = RequestIdMiddleware(BidFastPath(cast(Litestar, passed_on), house.context))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served), base_url="http://ipx.test"
    ) as http:
        response = await http.post(path, json=bid, headers=bidder)
    _assert_not_found(response, "unkeyed bid")
    raw_path_serves = backend == "postgres" and BID_PATH.fullmatch(path) is not None
    assert passed_on.count == (0 if raw_path_serves else 1)
    if huge == 2**31:
        assert raw_path_serves == (backend == "postgres")
