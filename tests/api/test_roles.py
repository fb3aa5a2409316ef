"""Each endpoint refuses the wrong role (403) and a missing or wrong key (401)."""

from __future__ import annotations

import httpx
import pytest
from litestar.routes import HTTPRoute

from app.http.request_id import RequestIdMiddleware
from app.main import litestar_app
from tests.conftest import Market, auth

ROLES = ["admin", "bank", "bidder", "agency", "clearing"]
# (method, path template, body, roles admitted)
ENDPOINTS = [
    ("POST", "/api/v1/participants", {"name": "X", "roles": ["bank"]}, {"admin"}),
    ("GET", "/api/v1/participants", None, {"admin", "clearing"}),
    ("GET", "/api/v1/participants/me", None, set(ROLES)),
    ("POST", "/api/v1/participants/{target}/funds", {"amount": "1.00", "reference": "r1"}, {"clearing"}),
    (
        "POST",
        "/api/v1/participants/{target}/withdrawals",
        {"amount": "1.00", "reference": "w1"},
        {"clearing"},
    ),
    ("GET", "/api/v1/audit/verify", None, {"admin", "clearing"}),
]


async def _call(
    http: httpx.AsyncClient, method: str, path: str, body: object, headers: dict[str, str]
) -> httpx.Response:
    return await http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
async def test_endpoint_admits_only_its_roles(
    client: httpx.AsyncClient, market: Market, method: str, path: str, body: object, allowed: set[str]
) -> None:
    target, _ = await market.participant(["bank"], funds="10.00")
    url = path.format(target=target)
    for role in ROLES:
        _, headers = await market.participant([role])
        response = await _call(client, method, url, body, headers)
        if role in allowed:
            assert response.status_code < 400, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
async def test_endpoint_refuses_missing_or_wrong_key(
    client: httpx.AsyncClient, method: str, path: str, body: object, allowed: set[str]
) -> None:
    url = path.format(target=1)
    for headers in ({}, auth("ipx_not-a-real-key"), {"Authorization": "Basic abc"}):
        response = await _call(client, method, url, body, headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_health_and_clock_need_no_key(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    clock = await client.get("/api/v1/clock")

    assert health.json() == {"status": "ok", "database": "ok"}
    assert clock.status_code == 200
    assert clock.json()["now"].endswith("+00:00")
    assert clock.json()["shanghai"].endswith("+08:00")


async def test_participant_sees_only_its_own_profile(client: httpx.AsyncClient, market: Market) -> None:
    first_id, first = await market.participant(["bidder"], funds="5.00", name="First")
    second_id, second = await market.participant(["bidder"], name="Second")

    mine = (await client.get("/api/v1/participants/me", headers=first)).json()
    theirs = (await client.get("/api/v1/participants/me", headers=second)).json()

    assert (mine["id"], mine["name"], mine["balances"]) == (
        first_id,
        "First",
        {"available": "5.00", "held": "0.00"},
    )
    assert (theirs["id"], theirs["balances"]["available"]) == (second_id, "0.00")
    listing = await client.get("/api/v1/participants", headers=first)
    assert listing.status_code == 403


async def test_options_on_every_route_answers_the_allowed_methods_with_or_without_a_key(
    client: httpx.AsyncClient, market: Market, app: RequestIdMiddleware
) -> None:
    """A guarded controller's automatic OPTIONS answer used to be a 500 (found by scripts/fuzz)."""
    _, bank = await market.participant(["bank"])
    for route in litestar_app(app).routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.methods:
            continue
        path = route.path_format.format(**dict.fromkeys(route.path_parameters, 1))
        for headers in ({}, bank):
            response = await client.options(path, headers=headers)

            assert response.status_code == 204, (path, response.text)
            # A PATCH-only route (a patent's facts) has neither GET nor POST, a DELETE-only one
            # (revoking a key) neither.
            allowed = {method.strip() for method in response.headers["allow"].split(",")}
            assert allowed & {"GET", "POST", "PATCH", "DELETE"}, path
