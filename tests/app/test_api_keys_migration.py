"""Migration 0019 moves each participant's key into api_keys as its first key, named "default", so
every existing key (the demo's, IPX_ADMIN_API_KEY's, a created participant's) keeps working; the
downgrade puts the oldest live key back on the participant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import text

from app.db import create_database
from app.migrate import alembic_config
from tests.app.test_bigint_ids_migration import _add, _participant
from transfer.registry.api_keys import digest_api_key
from transfer.registry.participants import find_by_api_key

DEMO_KEY = "ipx_demo_bank_key_000000000000"
OTHER_KEY = "ipx_existing_bidder_key_0000001"


async def _sql(url: str, statement: str, **values: Any) -> list[tuple[Any, ...]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await database.dispose()


async def _seed_as_0018_stored_them(url: str) -> None:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            for n, key in ((1, DEMO_KEY), (2, OTHER_KEY)):
                row = {**_participant(n), "api_key_sha256": digest_api_key(key), "api_key_prefix": key[:10]}
                await _add(connection, "participants", {"id": n, **row})
    finally:
        await database.dispose()


async def _resolves(url: str, key: str) -> int | None:
    database = create_database(url, null_pool=True)
    try:
        async with database.read() as session:
            found = await find_by_api_key(session, key)
            return None if found is None else found.id
    finally:
        await database.dispose()


def test_existing_keys_become_each_participants_default_key_and_keep_working(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0018")
    asyncio.run(_seed_as_0018_stored_them(fresh_url))

    command.upgrade(config, "0019")

    rows = asyncio.run(
        _sql(
            fresh_url,
            "SELECT participant_id, name, key_sha256, key_prefix, revoked_at FROM api_keys ORDER BY id",
        )
    )
    assert rows == [
        (1, "default", digest_api_key(DEMO_KEY), DEMO_KEY[:10], None),
        (2, "default", digest_api_key(OTHER_KEY), OTHER_KEY[:10], None),
    ]
    assert asyncio.run(_sql(fresh_url, "SELECT id, generation FROM api_key_generation")) == [(1, 0)]
    assert asyncio.run(_resolves(fresh_url, DEMO_KEY)) == 1
    assert asyncio.run(_resolves(fresh_url, OTHER_KEY)) == 2
    assert asyncio.run(_resolves(fresh_url, "ipx_not_a_key_at_all_000000")) is None

    # Participant 1 revokes its default key and makes another; participant 2 revokes its only one.
    later = datetime(2026, 7, 1, tzinfo=UTC)
    # SQLite holds naive UTC text (transfer.kernel.model_base.UTCDateTime), PostgreSQL timestamptz.
    stamp: Any = "2026-07-01 00:00:00.000000" if fresh_url.startswith("sqlite") else later
    asyncio.run(_sql(fresh_url, "UPDATE api_keys SET revoked_at = :at", at=stamp))
    asyncio.run(
        _sql(
            fresh_url,
            "INSERT INTO api_keys (participant_id, name, key_sha256, key_prefix, created_at)"
            " VALUES (1, 'robot', :digest, 'ipx_robot_', :at)",
            digest=digest_api_key("ipx_robot_key_0000000000000"),
            at=stamp,
        )
    )
    assert asyncio.run(_resolves(fresh_url, DEMO_KEY)) is None

    command.downgrade(config, "0018")
    assert asyncio.run(
        _sql(fresh_url, "SELECT id, api_key_sha256, api_key_prefix FROM participants ORDER BY id")
    ) == [
        (1, digest_api_key("ipx_robot_key_0000000000000"), "ipx_robot_"),
        (2, "r" + "2".zfill(63), "revoked"),
    ]
    command.upgrade(config, "head")
    assert asyncio.run(_resolves(fresh_url, "ipx_robot_key_0000000000000")) == 1
    assert asyncio.run(_resolves(fresh_url, OTHER_KEY)) is None
