"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

The `backend` fixture is parametrized over both; PostgreSQL is skipped only when it is unreachable
outside CI (in CI, with CI=true, an unreachable PostgreSQL fails the run). Each backend gets one
freshly migrated database per session; each test starts from emptied tables.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app import migrate
from app.context import AppContext
from app.db import Database, async_url, create_database
from app.http.request_id import RequestIdMiddleware
from app.main import create_asgi_app, litestar_app, rebind
from app.settings import Settings, load_settings
from transfer.bootstrap import bootstrap
from transfer.models import Base

POSTGRES_ADMIN_URL = os.environ.get("IPX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ADMIN_KEY = "test-admin-key-0123456789abcdef"


def _backends() -> list[str]:
    wanted = os.environ.get("IPX_TEST_BACKENDS", "sqlite,postgres")
    return [b.strip() for b in wanted.split(",") if b.strip()]


async def _postgres_admin(statement: str) -> None:
    engine = create_async_engine(async_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _postgres_test_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def database_urls() -> Iterator[dict[str, str]]:
    urls: dict[str, str] = {}
    cleanups: list[Any] = []
    backends = _backends()
    if "sqlite" in backends:
        folder = tempfile.mkdtemp(prefix="ipx-test-")
        urls["sqlite"] = f"sqlite:///{folder}/test.db"
        migrate.upgrade(urls["sqlite"])
    if "postgres" in backends:
        name = f"ipx_test_{uuid.uuid4().hex[:10]}"
        try:
            asyncio.run(_postgres_admin(f"CREATE DATABASE {name}"))
        except Exception as error:
            if IN_CI:
                raise RuntimeError(f"PostgreSQL is required in CI but unreachable: {error}") from error
        else:
            urls["postgres"] = _postgres_test_url(name)
            migrate.upgrade(urls["postgres"])
            cleanups.append(
                lambda: asyncio.run(_postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            )
    yield urls
    for cleanup in cleanups:
        cleanup()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    if request.param not in database_urls:
        pytest.skip(f"{request.param} is not available (set IPX_TEST_BACKENDS or start it)")
    return str(request.param)


async def empty_tables(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with database.write_engine.begin() as connection:
        if database.is_sqlite:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
        else:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def database(backend: str, database_urls: dict[str, str]) -> AsyncIterator[Database]:
    # NullPool: the app under test and the test itself may use the engine from different tasks,
    # and a fresh connection per checkout keeps no state between tests.
    db = create_database(database_urls[backend], null_pool=True)
    await empty_tables(db)
    async with db.write() as session, session.begin():
        await bootstrap(session)
    yield db
    await db.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return load_settings(
        {},
        database_url=database.url,
        admin_api_key=ADMIN_KEY,
        scheduler_enabled=False,
        auction_min_duration_s=0,
    )


class FakeClock:
    """The server's clock in tests: starts at the real time, moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def set(self, instant: datetime) -> None:
        self.now = instant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Apps built in this test run, by their settings: building the routes is most of an app's cost,
# so a test whose settings an earlier test had gets that app on a fresh context (app.main.rebind).
_BUILT_APPS: dict[Settings, RequestIdMiddleware] = {}


@pytest.fixture
def app(settings: Settings, database: Database, clock: FakeClock) -> RequestIdMiddleware:
    if settings.demo or settings.relays_live_events:
        return create_asgi_app(settings, database=database, clock=clock, run_scheduler=False)
    built = _BUILT_APPS.get(settings)
    if built is None:
        built = _BUILT_APPS[settings] = create_asgi_app(
            settings, database=database, clock=clock, run_scheduler=False
        )
    else:
        rebind(built, database=database, clock=clock)
    return built


@pytest.fixture
def context(app: RequestIdMiddleware) -> AppContext:
    context: AppContext = litestar_app(app).state["ctx"]
    return context


@pytest.fixture
async def client(app: RequestIdMiddleware) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ipx.test", timeout=60
        ) as http,
    ):
        yield http


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


class Market:
    """Creates participants through the API, as a real admin and clearing desk would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.admin = auth(ADMIN_KEY)
        self._clearing: dict[str, str] | None = None
        self._checker: dict[str, str] | None = None

    async def participant(
        self, roles: list[str], *, funds: str | None = None, name: str | None = None, **extra: Any
    ) -> tuple[int, dict[str, str]]:
        body = {"name": name or f"{'-'.join(roles)} {uuid.uuid4().hex[:6]}", "roles": roles, **extra}
        response = await self.http.post("/api/v1/participants", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created = response.json()
        if funds is not None:
            await self.fund(created["id"], funds)
        return created["id"], auth(created["api_key"])

    async def clearing(self) -> dict[str, str]:
        if self._clearing is None:
            _, self._clearing = await self.participant(["clearing"], name="Clearing desk")
        return self._clearing

    async def checker(self) -> dict[str, str]:
        """A second clearing participant: approves what the first one records past dual control."""
        if self._checker is None:
            _, self._checker = await self.participant(["clearing"], name="Clearing checker")
        return self._checker

    async def fund(self, participant_id: int, amount: str) -> None:
        response = await self.http.post(
            f"/api/v1/participants/{participant_id}/funds",
            json={"amount": amount, "reference": f"ref-{uuid.uuid4().hex}"},
            headers=await self.clearing(),
        )
        assert response.status_code == 201, response.text
        if response.json()["status"] == "awaiting_approval":
            approved = await self.http.post(
                f"/api/v1/approvals/{response.json()['approval_id']}/approve", headers=await self.checker()
            )
            assert approved.status_code == 200, approved.text

    async def balances(self, headers: dict[str, str]) -> dict[str, str]:
        response = await self.http.get("/api/v1/participants/me", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json()["balances"])


@pytest.fixture
def market(client: httpx.AsyncClient) -> Market:
    return Market(client)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def house(client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext) -> Any:
    from tests.api.auction_support import AuctionHouse

    return AuctionHouse(client, market, clock, context)


@pytest.fixture
def desk(client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext) -> Any:
    from tests.api.disposal_support import DisposalDesk

    return DisposalDesk(client, market, clock, context)


@pytest.fixture
def agencies(desk: Any) -> Any:
    from tests.api.pool_support import AgencyDesk

    return AgencyDesk(desk)
