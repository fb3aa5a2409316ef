"""Database wiring for SQLite (embedded default) and PostgreSQL.

SQLite: WAL so readers never block the writer, busy_timeout so writers queue, foreign keys on, and
BEGIN IMMEDIATE on the write engine so a read-then-write transaction takes the write lock up front
(a deferred BEGIN would fail with "database is locked" at its first write under WAL). Reads use a
second engine with plain deferred BEGIN so they never queue behind writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.settings import DEFAULT_DRIVER_POOL_SIZE

SQLITE_BUSY_TIMEOUT_MS = 30_000


def async_url(url: str) -> str:
    """Accept plain sqlite:/// and postgresql:// URLs and pick the async driver for each."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def _install_sqlite_hooks(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class DriverConnections:
    """asyncpg connections for the hot paths that run their statements on the driver itself, not
    through SQLAlchemy (app/bidding/driver_bids.py).

    A small pool of its own: a bid takes a connection and gives it back a few thousand times a
    second, and asyncpg's Pool spent about a twentieth of a bid's CPU doing so (a proxy object
    around every call, a reset query on every release). Here at most `pool_size` connections are
    in use (a semaphore); one that comes back clean goes onto an idle stack, one that comes back in
    doubt (closed, still in a transaction, or left by a cancelled task or a broken socket) is
    dropped. Connections open on first use in the serving event loop; where the engines have no
    pool either (tests), one per use.
    """

    def __init__(self, url: str, *, pool_size: int, pooled: bool) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._pooled = pooled
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[asyncpg.Connection] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._slots:
            connection = await self._take()
            failure: BaseException | None = None
            try:
                yield connection
            except BaseException as error:
                failure = error
                raise
            finally:
                if not _reusable(connection, failure):
                    connection.terminate()
                elif self._pooled:
                    self._idle.append(connection)
                else:
                    await connection.close()

    async def _take(self) -> asyncpg.Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
        return await asyncpg.connect(self._dsn)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


def _reusable(connection: asyncpg.Connection, failure: BaseException | None) -> bool:
    """A refusal or a database error leaves the connection idle after its rollback; a cancelled
    task or a broken socket may leave a query half done, so such a connection is not reused."""
    if failure is not None and (
        not isinstance(failure, Exception) or isinstance(failure, (asyncpg.InterfaceError, OSError))
    ):
        return False
    return not connection.is_closed() and not connection.is_in_transaction()


@dataclass
class Database:
    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    write: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]
    # SQLite has one writer: queue this process's write transactions here (see run_in_transaction).
    write_gate: asyncio.Lock | None = None
    # PostgreSQL only: driver-level connections for the English bid path (app/bidding/driver_bids.py).
    driver: DriverConnections | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    async def ping(self) -> None:
        async with self.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self.driver is not None:
            await self.driver.close()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def create_database(
    url: str,
    *,
    null_pool: bool = False,
    pool_size: int = 10,
    driver_pool_size: int = DEFAULT_DRIVER_POOL_SIZE,
) -> Database:
    """Engines and session factories for one database URL.

    null_pool: a fresh connection per checkout, needed when the app runs on another event loop
    than the code that created the engine (tests).
    """
    url = async_url(url)
    options: dict[str, Any] = {}
    if null_pool:
        options["poolclass"] = NullPool
    if url.startswith("sqlite"):
        database_path = make_url(url).database
        if database_path and database_path != ":memory:":
            Path(database_path).parent.mkdir(parents=True, exist_ok=True)
        write_engine = create_async_engine(url, **options)
        read_engine = create_async_engine(url, **options)
        _install_sqlite_hooks(write_engine, immediate=True)
        _install_sqlite_hooks(read_engine, immediate=False)
    else:
        if not null_pool:
            options.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=False)
        write_engine = create_async_engine(url, **options)
        read_engine = write_engine
    write = async_sessionmaker(write_engine, expire_on_commit=False)
    read = async_sessionmaker(read_engine, expire_on_commit=False)
    if url.startswith("sqlite"):
        return Database(url, write_engine, read_engine, write, read, write_gate=asyncio.Lock())
    driver = DriverConnections(url, pool_size=driver_pool_size, pooled=not null_pool)
    return Database(url, write_engine, read_engine, write, read, driver=driver)
