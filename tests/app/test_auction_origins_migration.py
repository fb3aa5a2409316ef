"""Migration 0012: an auction's listing becomes its origin (kind and id), on both databases; the
downgrade gives listing ids back and refuses an origin 0011 cannot hold."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from app.db import create_database
from app.migrate import alembic_config
from tests.app.test_bigint_ids_migration import _add, _auction, _participant
from tests.app.test_close_failures_migration import _sql


async def _seed(url: str) -> None:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            await _add(connection, "participants", {"id": 1, **_participant(1)})
            await _add(connection, "auctions", {"id": 1, **_auction(1, listing_id=7)})
            await _add(connection, "auctions", {"id": 2, **_auction(1)})
    finally:
        await database.dispose()


def test_a_listing_becomes_the_auctions_origin_and_comes_back(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0011")
    asyncio.run(_seed(fresh_url))
    command.upgrade(config, "0012")
    origins = "SELECT id, origin_kind, origin_id FROM auctions ORDER BY id"
    assert asyncio.run(_sql(fresh_url, origins)) == [(1, "listing", 7), (2, "direct", None)]

    command.downgrade(config, "0011")
    assert asyncio.run(_sql(fresh_url, "SELECT id, listing_id FROM auctions ORDER BY id")) == [
        (1, 7),
        (2, None),
    ]
    command.upgrade(config, "0012")
    asyncio.run(
        _sql(fresh_url, "UPDATE auctions SET origin_kind = 'disposal_round', origin_id = 3 WHERE id = 2")
    )
    with pytest.raises(RuntimeError, match="cannot downgrade below 0012"):
        command.downgrade(config, "0011")
    assert asyncio.run(_sql(fresh_url, origins)) == [(1, "listing", 7), (2, "disposal_round", 3)]
