"""Migration 0011 adds the record of failed closes to a database holding auctions; its downgrade
puts a set-aside auction back in the closer's queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic import command
from sqlalchemy import text

from app.db import create_database
from app.migrate import alembic_config
from tests.app.test_bigint_ids_migration import AT, _add, _auction, _participant


async def _seed_two_auctions(url: str) -> None:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            await _add(connection, "participants", {"id": 1, **_participant(1)})
            await _add(connection, "auctions", {"id": 1, **_auction(1)})
            await _add(connection, "auctions", {"id": 2, **_auction(1, state="unsold")})
    finally:
        await database.dispose()


async def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await database.dispose()


def test_close_failures_arrive_beside_existing_auctions_and_leave_them_closable(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0010")
    asyncio.run(_seed_two_auctions(fresh_url))
    command.upgrade(config, "0011")
    assert asyncio.run(_sql(fresh_url, "SELECT id, state FROM auctions ORDER BY id")) == [
        (1, "open"),
        (2, "unsold"),
    ]

    later = (AT + timedelta(seconds=10)).isoformat(sep=" ")
    asyncio.run(_sql(fresh_url, "UPDATE auctions SET state = 'set_aside' WHERE id = 1"))
    asyncio.run(
        _sql(
            fresh_url,
            "INSERT INTO auction_close_failures (auction_id, attempts, reason, first_failed_at, last_failed_at,"
            f" retry_at) VALUES (1, 1, 'listing_not_open: listing 1 is matched', '{AT}', '{AT}', '{later}')",
        )
    )
    assert asyncio.run(_sql(fresh_url, "SELECT auction_id, attempts FROM auction_close_failures")) == [(1, 1)]

    command.downgrade(config, "0010")
    assert asyncio.run(_sql(fresh_url, "SELECT id, state FROM auctions ORDER BY id")) == [
        (1, "open"),
        (2, "unsold"),
    ]
    command.upgrade(config, "head")
    assert asyncio.run(_sql(fresh_url, "SELECT count(*) FROM auction_close_failures")) == [(0,)]
