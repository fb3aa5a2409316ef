"""Migration 0005 keeps an existing chain intact and lets the sealer continue it, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from app.db import create_database
from app.migrate import alembic_config
from transfer.kernel.audit import (
    GENESIS_HASH,
    PendingEvent,
    append_events,
    event_hash,
    seal_pending,
    verify_chain,
)

OCCURRED_AT = datetime(2026, 11, 28, 3, 0, 0, 123456, tzinfo=UTC)


def _old_chain_rows(count: int) -> list[dict[str, object]]:
    """Events as the 0004 schema stored them: chained inside their own transaction."""
    rows, prev_hash = [], GENESIS_HASH
    for seq in range(1, count + 1):
        payload = f'{{"n":{seq}}}'
        digest = event_hash(seq, OCCURRED_AT, 7, "funds.recorded", "participant:7", payload, prev_hash)
        rows.append({"seq": seq, "at": OCCURRED_AT, "payload": payload, "prev": prev_hash, "hash": digest})
        prev_hash = digest
    return rows


async def _seed_old_chain(url: str) -> None:
    database = create_database(url, null_pool=True)
    rows = _old_chain_rows(3)
    try:
        async with database.write_engine.begin() as connection:
            for row in rows:
                await connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, occurred_at, actor_id, type, subject, payload,"
                        " prev_hash, hash) VALUES (:seq, :at, 7, 'funds.recorded', 'participant:7',"
                        " :payload, :prev, :hash)"
                    ),
                    row,
                )
            await connection.execute(
                text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 3, :hash)"),
                {"hash": rows[-1]["hash"]},
            )
    finally:
        await database.dispose()


async def _continue_and_verify(url: str) -> tuple[bool, int, list[tuple[int, int | None]]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.write() as session, session.begin():
            await append_events(
                session, [PendingEvent(OCCURRED_AT, 7, "funds.recorded", "participant:7", {"n": 4})]
            )
        async with database.write() as session, session.begin():
            assert await seal_pending(session) == 1
        async with database.read() as session:
            report = await verify_chain(session)
            ids = [
                (r.id, r.seq)
                for r in await session.execute(
                    text(
                        "SELECT e.id, s.seq FROM audit_events e"
                        " LEFT JOIN audit_seals s ON s.event_id = e.id ORDER BY e.id"
                    )
                )
            ]
        return report.ok, report.events_checked, ids
    finally:
        await database.dispose()


def test_an_existing_chain_survives_the_migration_and_the_sealer_continues_it(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0004")
    asyncio.run(_seed_old_chain(fresh_url))

    command.upgrade(config, "head")
    ok, checked, ids = asyncio.run(_continue_and_verify(fresh_url))

    assert (ok, checked) == (True, 4)
    # Old events keep their place (id = seq); the new one gets the next id and the next link.
    assert ids == [(1, 1), (2, 2), (3, 3), (4, 4)]

    # And back: everything sealed, so 0004's shape (seq as the key) is restored losslessly.
    command.downgrade(config, "0004")
    command.upgrade(config, "head")
    ok, checked, _ = asyncio.run(_continue_and_verify(fresh_url))
    assert (ok, checked) == (True, 5)
