"""Page sessions and CSRF tokens are the service's, not one process's: a browser logged in through
one process is logged in on every other and after a restart, a form one process gave out is
accepted by another, and sessions expire and renew on the service's clock. Both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from app.context import AppContext
from app.db import Database, create_database
from app.http.request_id import RequestIdMiddleware
from app.main import create_asgi_app, litestar_app
from app.pages.session_store import PURGE_EVERY_S, RENEW_AFTER_S
from app.pages.session_tables import ServiceSecret, WebSession
from app.pages.sessions import SESSION_COOKIE
from app.pages.shared_secret import shared_secret
from app.pages.wiring import SESSION_MAX_AGE_S
from app.settings import Settings
from tests.api.page_support import HTML, Visitor, api_key_of
from tests.conftest import FakeClock, Market

pytestmark = pytest.mark.db


class _Switch(httpx.AsyncBaseTransport):
    """One browser, whose requests go to whichever process `to` names (a load balancer's choice)."""

    def __init__(self, to: RequestIdMiddleware) -> None:
        self.to = to

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await httpx.ASGITransport(app=self.to).handle_async_request(request)


@asynccontextmanager
async def _browser(to: RequestIdMiddleware) -> AsyncIterator[tuple[Visitor, _Switch]]:
    switch = _Switch(to)
    async with httpx.AsyncClient(transport=switch, base_url="http://ipx.test", timeout=60) as http:
        yield Visitor(http), switch


@asynccontextmanager
async def _process(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[RequestIdMiddleware, AppContext]]:
    """Another server process on the same database: its own engines, caches and memory."""
    database = create_database(settings.database_url, null_pool=True)
    app = create_asgi_app(settings, database=database, clock=clock, run_scheduler=False)
    try:
        async with LifespanManager(app):
            yield app, litestar_app(app).state["ctx"]
    finally:
        await database.dispose()


async def _sessions(database: Database) -> list[WebSession]:
    async with database.read() as session:
        return list((await session.execute(select(WebSession))).scalars())


async def test_a_login_through_one_process_holds_on_another_and_its_forms_are_accepted_there(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, settings: Settings, clock: FakeClock
) -> None:
    clearing = await market.clearing()
    async with _process(settings, clock) as (other, _), _browser(app) as (browser, switch):
        await browser.log_in(api_key_of(clearing))
        assert (await browser.page("/desk/clearing")).status_code == 200
        # The form's token comes from the first process; the post goes to the second.
        token = await browser.token("/desk/clearing")

        switch.to = other
        assert (await browser.page("/desk/clearing")).status_code == 200
        logged_out = await browser.http.post("/logout", data={"_csrf_token": token}, headers=HTML)

        assert logged_out.status_code == 303
        switch.to = app
        assert (await browser.page("/desk/clearing")).status_code == 303


async def test_a_restart_logs_nobody_out_and_keeps_the_csrf_secret(
    settings: Settings, database: Database, clock: FakeClock
) -> None:
    async with _process(settings, clock) as (first, _):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first), base_url="http://ipx.test"
        ) as http:
            market = Market(http)
            clearing = await market.clearing()
        async with _browser(first) as (browser, _):
            await browser.log_in(api_key_of(clearing))
            token = await browser.token("/desk/clearing")
            cookies = httpx.Cookies(browser.http.cookies)
    async with database.read() as session:
        secret_before = (await session.execute(select(ServiceSecret.value))).scalar_one()

    async with _process(settings, clock) as (restarted, _), _browser(restarted) as (browser, _):
        browser.http.cookies = cookies
        assert (await browser.page("/desk/clearing")).status_code == 200
        logged_out = await browser.http.post("/logout", data={"_csrf_token": token}, headers=HTML)
        assert logged_out.status_code == 303
        assert (await browser.page("/desk/clearing")).status_code == 303
    async with database.read() as session:
        assert (await session.execute(select(ServiceSecret.value))).scalars().all() == [secret_before]


async def test_the_table_holds_a_digest_of_the_cookie_never_the_cookie_or_the_key(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    _, bidder = await market.participant(["bidder"])
    async with _browser(app) as (browser, _):
        await browser.log_in(api_key_of(bidder))
        cookie = browser.http.cookies[SESSION_COOKIE]

    rows = await _sessions(context.database)
    assert len(rows) == 1
    assert len(rows[0].sid_sha256) == 64 and rows[0].sid_sha256 != cookie
    assert cookie.encode() not in rows[0].data and api_key_of(bidder).encode() not in rows[0].data


async def test_a_session_ends_its_lifetime_after_the_last_page_on_the_service_clock(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, clock: FakeClock
) -> None:
    clearing = await market.clearing()
    async with _browser(app) as (kept, _), _browser(app) as (left, _):
        await kept.log_in(api_key_of(clearing))
        await left.log_in(api_key_of(clearing))

        clock.advance(SESSION_MAX_AGE_S - 3_600)
        assert (await kept.page("/desk/clearing")).status_code == 200
        clock.advance(3_600 + 1)
        # Twelve hours after login but eleven after its last page, one session is still on.
        assert (await kept.page("/desk/clearing")).status_code == 200
        gone = await left.page("/desk/clearing")
        assert (gone.status_code, gone.headers["location"]) == (303, "/login?next=%2Fdesk%2Fclearing")

        clock.advance(SESSION_MAX_AGE_S + 1)
        assert (await kept.page("/desk/clearing")).status_code == 303


async def test_a_page_moves_the_expiry_only_once_it_is_stale_and_writes_nothing_else(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    clearing = await market.clearing()
    async with _browser(app) as (browser, _):
        await browser.log_in(api_key_of(clearing))
        await browser.page("/desk/clearing")
        [at_login] = await _sessions(context.database)
        assert at_login.expires_at == clock() + timedelta(seconds=SESSION_MAX_AGE_S)

        clock.advance(RENEW_AFTER_S - 1)
        await browser.page("/desk/clearing")
        [fresh] = await _sessions(context.database)
        assert (fresh.expires_at, fresh.data) == (at_login.expires_at, at_login.data)

        clock.advance(2)
        await browser.page("/desk/clearing")
        [renewed] = await _sessions(context.database)
        assert renewed.expires_at == clock() + timedelta(seconds=SESSION_MAX_AGE_S)


async def test_expired_sessions_are_cleared_by_a_later_login(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    clearing = await market.clearing()
    async with _browser(app) as (old, _):
        await old.log_in(api_key_of(clearing))
    clock.advance(SESSION_MAX_AGE_S + PURGE_EVERY_S)
    async with _browser(app) as (new, _):
        await new.log_in(api_key_of(clearing))
        assert (await new.page("/desk/clearing")).status_code == 200

    rows = await _sessions(context.database)
    assert [row.expires_at for row in rows] == [clock() + timedelta(seconds=SESSION_MAX_AGE_S)]


async def test_many_browsers_logging_in_at_once_through_two_processes_each_see_their_own(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, settings: Settings, clock: FakeClock
) -> None:
    people = [await market.participant(["bidder"], name=f"Bidder {n:02d}") for n in range(12)]

    async with _process(settings, clock) as (other, _):

        async def one(n: int) -> tuple[int, int, bool]:
            _, key = people[n]
            async with _browser(app if n % 2 else other) as (browser, switch):
                await browser.log_in(api_key_of(key))
                switch.to = other if n % 2 else app
                page = await browser.page("/auctions")
                others = [f"Bidder {m:02d}" for m in range(12) if m != n]
                return (
                    n,
                    page.status_code,
                    f"Bidder {n:02d}" in page.text and not any(name in page.text for name in others),
                )

        seen = await asyncio.gather(*(one(n) for n in range(12)))

    assert seen == [(n, 200, True) for n in range(12)]
    async with litestar_app(app).state["ctx"].database.read() as session:
        assert (await session.execute(select(func.count()).select_from(WebSession))).scalar_one() == 12


async def test_processes_starting_at_once_agree_on_one_secret(context: AppContext) -> None:
    made = await asyncio.gather(*(shared_secret(context, "race") for _ in range(8)))

    assert len(set(made)) == 1 and len(made[0]) >= 40
    async with context.database.read() as session:
        stored = (
            await session.execute(select(ServiceSecret.value).where(ServiceSecret.name == "race"))
        ).all()
    assert [row.value for row in stored] == [made[0]]
