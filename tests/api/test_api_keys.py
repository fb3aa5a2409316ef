"""Key lifecycle (issue 17): several named keys per participant, each shown once and stored hashed;
revoked at once in every process (the key caches of the middleware and of the bid hot path
included); an admin's suspension refuses every key of a participant and leaves its bids, offers
and holds as they are; failed authentications slowed past a threshold, never a good key."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from sqlalchemy import select, text

from app.context import AppContext
from app.db import Database, create_database
from app.main import create_asgi_app, litestar_app
from app.settings import Settings, load_settings
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import post_ok, register_loan
from tests.api.page_support import HTML, csrf_token
from tests.conftest import ADMIN_KEY, FakeClock, Market, auth
from transfer import ledger
from transfer.kernel.audit_tables import AuditEvent
from transfer.models.api_keys import ApiKey
from transfer.registry.api_keys import digest_api_key
from transfer.registry.keys import MAX_LIVE_KEYS

pytestmark = pytest.mark.db
KEYS = "/api/v1/participants/me/keys"


async def _me(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.get("/api/v1/participants/me", headers=auth(key))


async def _audit(context: AppContext, kind: str) -> list[dict[str, Any]]:
    async with context.database.read() as session:
        rows = await session.execute(
            select(AuditEvent.payload).where(AuditEvent.type == kind).order_by(AuditEvent.id)
        )
        return [json.loads(payload) for payload in rows.scalars()]


@asynccontextmanager
async def _process(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[httpx.AsyncClient, AppContext]]:
    """Another server process on the same database: its own engines and its own key cache."""
    database = create_database(settings.database_url, null_pool=True)
    app = create_asgi_app(settings, database=database, clock=clock, run_scheduler=False)
    try:
        async with (
            LifespanManager(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ipx.test") as http,
        ):
            yield http, litestar_app(app).state["ctx"]
    finally:
        await database.dispose()


async def test_a_participant_makes_named_keys_shown_once_listed_without_the_key_each_working(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    participant_id, first = await market.participant(["bank"], name="Keyed Bank")
    first_key = first["Authorization"].removeprefix("Bearer ")

    made = await post_ok(client, KEYS, {"name": "treasury robot"}, first)
    second = await post_ok(client, KEYS, {"name": "  reporting  "}, first)

    assert made["name"] == "treasury robot" and second["name"] == "reporting"
    assert made["api_key"].startswith("ipx_") and made["prefix"] == made["api_key"][:10]
    assert made["api_key_note"].startswith("shown once")
    for key in (first_key, made["api_key"], second["api_key"]):
        answer = await _me(client, key)
        assert (answer.status_code, answer.json()["id"]) == (200, participant_id)
    listed = (await client.get(KEYS, headers=first)).json()["items"]
    assert [(k["name"], k["revoked_at"]) for k in listed] == [
        ("default", None),
        ("treasury robot", None),
        ("reporting", None),
    ]
    assert [k["prefix"] for k in listed] == [first_key[:10], made["prefix"], second["prefix"]]
    assert all(k["last_used_at"] is not None and k["created_at"] for k in listed), listed
    text = (await client.get(KEYS, headers=first)).text
    assert made["api_key"] not in text and "api_key" not in text and "sha256" not in text
    async with context.database.read() as session:
        stored = (
            await session.execute(select(ApiKey.key_sha256).where(ApiKey.id == made["id"]))
        ).scalar_one()
    assert stored == digest_api_key(made["api_key"])  # the digest only
    created = await _audit(context, "api_key.created")
    assert [(e["name"], e["key_prefix"]) for e in created] == [
        ("treasury robot", made["prefix"]),
        ("reporting", second["prefix"]),
    ]
    # Another participant sees only its own keys.
    _, other = await market.participant(["bidder"])
    assert [k["name"] for k in (await client.get(KEYS, headers=other)).json()["items"]] == ["default"]


async def test_a_key_name_is_checked_unique_among_live_keys_and_the_live_keys_are_capped(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    for body, field in (({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({}, "name")):
        refused = await client.post(KEYS, json=body, headers=bank)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    blank = await client.post(KEYS, json={"name": "   "}, headers=bank)
    assert (blank.status_code, blank.json()["code"]) == (422, "name_empty")
    taken = await client.post(KEYS, json={"name": "default"}, headers=bank)
    assert (taken.status_code, taken.json()["code"]) == (409, "key_name_taken"), taken.text
    made = [await post_ok(client, KEYS, {"name": f"robot {i}"}, bank) for i in range(MAX_LIVE_KEYS - 1)]
    full = await client.post(KEYS, json={"name": "one too many"}, headers=bank)
    assert (full.status_code, full.json()["code"]) == (409, "too_many_keys"), full.text
    # A revoked key frees its place and its name.
    assert (await client.delete(f"{KEYS}/{made[0]['id']}", headers=bank)).status_code == 200
    again = await post_ok(client, KEYS, {"name": "robot 0"}, bank)
    assert again["name"] == "robot 0"


async def test_two_keys_asked_at_once_with_one_name_make_one(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    answers = await asyncio.gather(
        *(client.post(KEYS, json={"name": "twin"}, headers=bank) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    names = [k["name"] for k in (await client.get(KEYS, headers=bank)).json()["items"]]
    assert names == ["default", "twin"]


async def test_a_revoked_key_is_refused_at_once_here_and_within_a_second_in_another_process(
    client: httpx.AsyncClient, market: Market, settings: Settings, clock: FakeClock, context: AppContext
) -> None:
    _, bank = await market.participant(["bank"])
    spare = await post_ok(client, KEYS, {"name": "spare"}, bank)
    spare_key = spare["api_key"]
    async with _process(settings, clock) as (other, other_context):
        # Both processes have the key cached (warm) before it is revoked.
        assert (await _me(client, spare_key)).status_code == 200
        assert (await _me(other, spare_key)).status_code == 200
        assert context.key_cache.holds(spare_key) and other_context.key_cache.holds(spare_key)

        revoked = await client.delete(f"{KEYS}/{spare['id']}", headers=bank)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        here = await _me(client, spare_key)
        assert (here.status_code, here.json()["code"]) == (401, "api_key_revoked")

        started = time.monotonic()
        while (await _me(other, spare_key)).status_code == 200:
            assert time.monotonic() - started < 1.0, "the other process still accepts a revoked key"
            await asyncio.sleep(0.05)
        there = await _me(other, spare_key)
        assert (there.status_code, there.json()["code"]) == (401, "api_key_revoked")
        # The participant's other key goes on working in both.
        assert (await _me(other, bank["Authorization"].removeprefix("Bearer "))).status_code == 200
    listed = (await client.get(KEYS, headers=bank)).json()["items"]
    assert [(k["name"], k["revoked_at"] is not None) for k in listed] == [("default", False), ("spare", True)]
    twice = await client.delete(f"{KEYS}/{spare['id']}", headers=bank)
    assert (twice.status_code, twice.json()["code"]) == (409, "api_key_already_revoked")
    assert [e["key_id"] for e in await _audit(context, "api_key.revoked")] == [spare["id"]]


async def test_nobody_revokes_a_key_of_another_participant(client: httpx.AsyncClient, market: Market) -> None:
    _, bank = await market.participant(["bank"])
    _, admin = await market.participant(["admin"])
    spare = await post_ok(client, KEYS, {"name": "spare"}, bank)
    for stranger in (admin, market.admin):
        refused = await client.delete(f"{KEYS}/{spare['id']}", headers=stranger)
        assert (refused.status_code, refused.json()["code"]) == (404, "api_key_not_found"), refused.text
    assert (await client.delete(f"{KEYS}/999999", headers=bank)).status_code == 404
    assert (await _me(client, spare["api_key"])).status_code == 200


async def test_a_revoked_bidder_key_is_refused_by_the_bid_hot_path_with_its_cache_warm(
    house: AuctionHouse, market: Market, settings: Settings, clock: FakeClock
) -> None:
    """On PostgreSQL the bid is served in front of Litestar from the key cache (app/bidding/fast_path.py)."""
    _, [(_, bidder)], auction = await house.open_lot(1)
    spare = await post_ok(house.http, KEYS, {"name": "bidding robot"}, bidder)
    robot = auth(spare["api_key"])
    url = f"/api/v1/auctions/{auction['id']}/bids"
    async with _process(settings, clock) as (other, other_context):
        first = await other.post(url, json={"amount": "1000.00"}, headers=robot)
        second = await other.post(url, json={"amount": "1010.00"}, headers=robot)
        assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
        assert other_context.key_cache.holds(spare["api_key"])

        assert (await house.http.delete(f"{KEYS}/{spare['id']}", headers=bidder)).status_code == 200
        started = time.monotonic()
        amount_fen = 102_000
        while True:
            answer = await other.post(url, json={"amount": f"{amount_fen // 100}.00"}, headers=robot)
            if answer.status_code != 201:
                break
            amount_fen += 1_000
            assert time.monotonic() - started < 1.0, "the bid path still takes a revoked key"
            await asyncio.sleep(0.05)
        assert (answer.status_code, answer.json()["code"]) == (401, "api_key_revoked"), answer.text
    history = (await house.http.get(f"{url}")).json()["items"]
    # Bids taken before the revocation stand; none after it.
    assert all(item["paddle"] == 1 for item in history)


async def test_a_suspended_participant_is_refused_everywhere_its_bids_offers_and_holds_stay(
    client: httpx.AsyncClient, market: Market, house: AuctionHouse, context: AppContext
) -> None:
    bidder_id, bidder = await market.participant(
        ["bidder", "bank"], funds="900000.00", qualified_investor=True
    )
    second = await post_ok(client, KEYS, {"name": "second"}, bidder)
    _, seller = await market.participant(["bank"])
    loan = await register_loan(client, seller)
    listing = await post_ok(
        client,
        "/api/v1/listings",
        {
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "500000.00",
        },
        seller,
    )
    offer = await post_ok(client, f"/api/v1/listings/{listing['id']}/offers", {"price": "500000.00"}, bidder)
    auction = await house.create(seller)
    await house.register(auction["id"], bidder)
    house.clock.advance(60)
    bid = await house.bid(auction["id"], bidder, "1000.00", "1500.00")
    assert bid.status_code == 201, bid.text
    async with context.database.read() as session:
        before = await ledger.balances(session, bidder_id)
    _, clerk = await market.participant(["clearing"])

    assert (await client.post(f"/api/v1/participants/{bidder_id}/suspend", headers=clerk)).status_code == 403
    assert (await client.post("/api/v1/participants/999999/suspend", headers=market.admin)).status_code == 404
    suspended = await client.post(f"/api/v1/participants/{bidder_id}/suspend", headers=market.admin)
    assert (suspended.status_code, suspended.json()["active"]) == (200, False), suspended.text

    for key in (bidder, auth(second["api_key"])):
        for method, path in (
            ("GET", "/api/v1/participants/me"),
            ("POST", f"/api/v1/auctions/{auction['id']}/bids"),
        ):
            refused = await client.request(method, path, headers=key, json={"amount": "1100.00"})
            assert (refused.status_code, refused.json()["code"]) == (403, "participant_suspended"), (
                refused.text
            )
    again = await client.post(f"/api/v1/participants/{bidder_id}/suspend", headers=market.admin)
    assert (again.status_code, again.json()["code"]) == (409, "participant_already_suspended")
    # Its bid leads, its offer is pending, its money is held as before.
    view = await house.view(auction["id"], seller)
    assert (view["leading_paddle"], view["current_price"], view["bid_count"]) == (1, "1000.00", 1)
    offers = (await client.get(f"/api/v1/listings/{listing['id']}/offers", headers=seller)).json()
    assert [(o["id"], o["status"]) for o in offers] == [(offer["id"], "open")]
    async with context.database.read() as session:
        assert await ledger.balances(session, bidder_id) == before

    reinstated = await client.post(f"/api/v1/participants/{bidder_id}/reinstate", headers=market.admin)
    assert (reinstated.status_code, reinstated.json()["active"]) == (200, True), reinstated.text
    assert (await client.get("/api/v1/participants/me", headers=auth(second["api_key"]))).status_code == 200
    assert [e["active"] for e in await _audit(context, "participant.suspended")] == [False]
    assert [e["active"] for e in await _audit(context, "participant.reinstated")] == [True]


async def test_an_admin_cannot_suspend_itself(client: httpx.AsyncClient, market: Market) -> None:
    admin_id, admin = await market.participant(["admin"])
    refused = await client.post(f"/api/v1/participants/{admin_id}/suspend", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "cannot_suspend_yourself")


@pytest.fixture
def throttled_settings(database: Database) -> Settings:
    return load_settings(
        {},
        database_url=database.url,
        admin_api_key=ADMIN_KEY,
        scheduler_enabled=False,
        auth_failure_threshold=3,
        auth_failure_window_s=60.0,
        auth_failure_delay_s=2.0,  # long: slowed and not slowed stay apart on a busy machine
    )


def _client_at(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://ipx.test")


async def _timed(http: httpx.AsyncClient, key: str) -> tuple[int, float]:
    started = time.monotonic()
    response = await _me(http, key)
    return response.status_code, time.monotonic() - started


async def test_failed_authentications_are_slowed_past_the_threshold_and_a_good_key_never_is(
    throttled_settings: Settings, database: Database, clock: FakeClock
) -> None:
    app = create_asgi_app(throttled_settings, database=database, clock=clock, run_scheduler=False)
    async with (
        LifespanManager(app),
        _client_at(app, "10.0.0.7") as attacker,
        _client_at(app, "10.0.0.7") as same,
    ):
        market = Market(attacker)
        _, good = await market.participant(["bidder"])
        good_key = good["Authorization"].removeprefix("Bearer ")
        with structlog.testing.capture_logs() as logs:
            quick = [await _timed(attacker, f"ipx_bad{i:03d}-not-a-key") for i in range(3)]
            assert [status for status, _ in quick] == [401, 401, 401]
            assert all(seconds < 1.5 for _, seconds in quick), quick
            slowed = await _timed(attacker, "ipx_bad999-not-a-key")
            assert slowed[0] == 401 and slowed[1] >= 2.0, slowed
            # A burst of bad keys in flight, and the good key from the same address meanwhile.
            burst = [asyncio.ensure_future(_timed(attacker, f"ipx_burst{i:02d}-bad")) for i in range(8)]
            await asyncio.sleep(0.05)
            context: AppContext = litestar_app(app).state["ctx"]
            context.key_cache.clear()  # not even a cached key: the database lookup, unslowed
            status, seconds = await _timed(same, good_key)
            assert status == 200 and seconds < 1.5, seconds
            assert all(r == (401, r[1]) and r[1] >= 2.0 for r in await asyncio.gather(*burst))
        warnings = [
            entry for entry in logs if entry["event"].startswith("authentication failures over threshold")
        ]
        assert [(w.get("client"), w["threshold"]) for w in warnings][:1] == [("10.0.0.7", 3)], warnings
        # Another address is not slowed by this one's failures, but a prefix hammered from
        # everywhere is.
        async with _client_at(app, "10.0.0.8") as elsewhere:
            assert (await _timed(elsewhere, "ipx_fresh-not-a-key"))[1] < 1.5
            for _ in range(3):
                await _timed(elsewhere, "ipx_bad000-not-a-key-either")
            assert (await _timed(elsewhere, "ipx_bad000-not-a-key-at-all"))[1] >= 2.0


async def test_a_replayed_key_creation_never_carries_the_key_and_no_key_is_stored_in_clear(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    _, owner = await market.participant(["bank"], name="Replaying Bank")
    once = {**owner, "Idempotency-Key": "make-key-1"}
    admin_once = {**market.admin, "Idempotency-Key": "make-participant-1"}
    body = {"name": "Replayed Participant", "roles": ["bidder"]}

    made = await client.post(KEYS, json={"name": "robot"}, headers=once)
    again = await client.post(KEYS, json={"name": "robot"}, headers=once)
    created = await client.post("/api/v1/participants", json=body, headers=admin_once)
    created_again = await client.post("/api/v1/participants", json=body, headers=admin_once)

    for first, replay in ((made, again), (created, created_again)):
        assert (first.status_code, replay.status_code) == (201, 201), (first.text, replay.text)
        assert first.json()["api_key"].startswith("ipx_") and "Idempotent-Replayed" not in first.headers
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["api_key"] is None
        assert replay.json()["api_key_note"].startswith("shown once, when it was made")
        assert {k: v for k, v in replay.json().items() if not k.startswith("api_key")} == {
            k: v for k, v in first.json().items() if not k.startswith("api_key")
        }
    # The keys made work; no stored answer holds either in clear.
    assert (await _me(client, made.json()["api_key"])).status_code == 200
    assert (await _me(client, created.json()["api_key"])).status_code == 200
    async with context.database.read() as session:
        stored = "".join(
            (await session.execute(text("SELECT response_body FROM idempotency_records"))).scalars()
        )
    assert made.json()["api_key"] not in stored and created.json()["api_key"] not in stored
    assert made.json()["prefix"] in stored  # the answer is stored, only without its secret


async def test_the_pages_login_form_counts_and_slows_failed_keys_like_the_api(
    throttled_settings: Settings, database: Database, clock: FakeClock
) -> None:
    app = create_asgi_app(throttled_settings, database=database, clock=clock, run_scheduler=False)
    async with (
        LifespanManager(app),
        _client_at(app, "10.0.0.9") as browser,
        _client_at(app, "10.0.0.10") as other,
    ):
        market = Market(browser)
        _, good = await market.participant(["bidder"], name="Form Login Bidder")
        good_key = good["Authorization"].removeprefix("Bearer ")

        async def log_in(client: httpx.AsyncClient, key: str) -> tuple[int, float]:
            form = await client.get("/login", headers=HTML)
            token = csrf_token(form.text)
            started = time.monotonic()
            answer = await client.post("/login", data={"api_key": key, "_csrf_token": token}, headers=HTML)
            return answer.status_code, time.monotonic() - started

        quick = [await log_in(browser, f"ipx_form{i:03d}-not-a-key") for i in range(3)]
        slowed = await log_in(browser, "ipx_form999-not-a-key")
        good_login = await log_in(browser, good_key)
        elsewhere = await log_in(other, "ipx_other-not-a-key")

    assert [status for status, _ in quick] == [401, 401, 401] and all(s < 1.5 for _, s in quick), quick
    assert slowed[0] == 401 and slowed[1] >= 2.0, slowed
    assert good_login[0] == 303 and good_login[1] < 1.5, good_login
    assert elsewhere[0] == 401 and elsewhere[1] < 1.5, elsewhere
