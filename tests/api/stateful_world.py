"""The service under a stateful test: one app on a fresh database, run on an event loop of its own.

Hypothesis runs a state machine's rules synchronously, while the app and its database are async.
So the loop runs in a thread beside the test, and each rule hands it one coroutine at a time and
waits for the answer. The app's lifespan and its HTTP client live in one task on that loop from the
example's start to its end (they must be entered and left in the same task).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import datetime
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager

from app.context import AppContext
from app.db import Database, create_database
from app.main import create_asgi_app, litestar_app
from app.settings import load_settings
from tests.conftest import ADMIN_KEY, FakeClock, empty_tables

T = TypeVar("T")

# A step that takes longer than this is hung, not slow: fail it with the sequence so far.
STEP_TIMEOUT_S = 120


class LoopThread:
    """An event loop running in a daemon thread; `run` waits for one coroutine's result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="stateful-loop", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(STEP_TIMEOUT_S)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(STEP_TIMEOUT_S)
        self.loop.close()


class World:
    """One example's service: emptied tables, a clock that moves only when told, the app served
    in-process (scheduler off: the test runs the tick itself), and an HTTP client for it."""

    def __init__(self, database: Database, clock: FakeClock, context: AppContext) -> None:
        self.database = database
        self.clock = clock
        self.context = context
        self.http: httpx.AsyncClient | None = None
        self._stop = asyncio.Event()
        self._served: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, database_url: str, start: datetime) -> World:
        # PostgreSQL pooled: the app, its client and the checks all run on this one loop, and a
        # connection per read (NullPool, as the other API tests need) made each step's checks
        # slow. SQLite keeps NullPool: opening its file is cheap, and a pooled run hung on a lock.
        database = create_database(database_url, null_pool=database_url.startswith("sqlite"), pool_size=2)
        await empty_tables(database)
        settings = load_settings(
            {},
            database_url=database_url,
            admin_api_key=ADMIN_KEY,
            scheduler_enabled=False,
            auction_min_duration_s=0,
        )
        clock = FakeClock()
        clock.set(start)
        app = create_asgi_app(settings, database=database, clock=clock, run_scheduler=False)
        world = cls(database, clock, litestar_app(app).state["ctx"])
        ready = asyncio.Event()

        async def serve() -> None:
            async with (
                LifespanManager(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://ipx.test", timeout=60
                ) as http,
            ):
                world.http = http
                ready.set()
                await world._stop.wait()

        world._served = asyncio.create_task(serve())
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({world._served, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            waiting.cancel()
            await world._served  # raises the lifespan's failure
        return world

    async def close(self) -> None:
        self._stop.set()
        if self._served is not None:
            await self._served
        await self.database.dispose()
