"""The driver-level connection pool (app.db.DriverConnections): reuse what comes back clean, drop
what comes back in doubt, never hand out more than its size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.db import DriverConnections


@pytest.fixture
async def pool(database_urls: dict[str, str]) -> AsyncIterator[DriverConnections]:
    if "postgres" not in database_urls:
        pytest.skip("driver connections are PostgreSQL's")
    connections = DriverConnections(database_urls["postgres"], pool_size=2, pooled=True)
    yield connections
    await connections.close()


async def test_a_connection_that_comes_back_clean_is_reused(pool: DriverConnections) -> None:
    async with pool.connection() as first, first.transaction():
        await first.execute("SELECT 1")
    async with pool.connection() as second:
        assert second is first
        assert await second.fetchval("SELECT 2") == 2


async def test_a_refusal_rolls_back_and_the_connection_is_reused(pool: DriverConnections) -> None:
    used: list[asyncpg.Connection] = []

    async def refused_work() -> None:
        async with pool.connection() as connection, connection.transaction():
            used.append(connection)
            await connection.execute("CREATE TEMPORARY TABLE scratch (n int)")
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await refused_work()
    [first] = used
    async with pool.connection() as second:
        assert second is first
        assert not second.is_in_transaction()
        assert await second.fetchval("SELECT to_regclass('pg_temp.scratch') IS NULL")  # rolled back


async def test_a_cancelled_use_drops_its_connection(pool: DriverConnections) -> None:
    started = asyncio.Event()
    used: list[asyncpg.Connection] = []

    async def slow() -> None:
        async with pool.connection() as connection, connection.transaction():
            used.append(connection)
            started.set()
            await connection.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [cancelled] = used
    assert cancelled.is_closed()
    async with pool.connection() as fresh:
        assert fresh is not cancelled
        assert await fresh.fetchval("SELECT 3") == 3
        assert not fresh.is_in_transaction()


async def test_no_more_connections_are_in_use_than_the_pool_size(pool: DriverConnections) -> None:
    in_use = 0
    most = 0

    async def use() -> int:
        nonlocal in_use, most
        async with pool.connection() as connection:
            in_use += 1
            most = max(most, in_use)
            pid = int(await connection.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.05)"))
            in_use -= 1
            return pid

    backends = await asyncio.gather(*(use() for _ in range(6)))

    assert most == 2
    assert len(set(backends)) == 2
