"""Migration 0009 moves a chain's seals out of the events and lets the sealer pick up the rest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from app.db import create_database
from app.migrate import alembic_config
from transfer.kernel.audit import GENESIS_HASH, event_hash, seal_pending, verify_chain

AT = datetime(2026, 11, 29, 10, 0, 0, 250000, tzinfo=UTC)


async def _seed_0008(url: str, sealed_ids: list[int], unsealed_ids: list[int]) -> None:
    """Events as 0008 kept them: sealed ones carry seq and hashes in their own row."""
    database = create_database(url, null_pool=True)
    prev_hash, seq = GENESIS_HASH, 0
    try:
        async with database.write_engine.begin() as connection:
            for event_id in sorted(sealed_ids + unsealed_ids):
                payload = f'{{"n":{event_id}}}'
                row: dict[str, object] = {"id": event_id, "at": AT, "payload": payload}
                row.update(seq=None, prev=None, hash=None)
                if event_id in sealed_ids:
                    seq += 1
                    digest = event_hash(seq, AT, 7, "funds.recorded", "participant:7", payload, prev_hash)
                    row.update(seq=seq, prev=prev_hash, hash=digest)
                    prev_hash = digest
                await connection.execute(
                    text(
                        "INSERT INTO audit_events (id, seq, occurred_at, actor_id, type, subject, payload,"
                        " prev_hash, hash) VALUES (:id, :seq, :at, 7, 'funds.recorded', 'participant:7',"
                        " :payload, :prev, :hash)"
                    ),
                    row,
                )
            await connection.execute(
                text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, :seq, :hash)"),
                {"seq": seq, "hash": prev_hash},
            )
            if url.startswith("postgresql"):
                await connection.execute(text("SELECT setval('audit_events_id_seq', 100)"))
    finally:
        await database.dispose()


async def _seal_and_read(url: str) -> tuple[int, bool, int, list[tuple[int, int]]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.write() as session, session.begin():
            sealed = await seal_pending(session)
        async with database.read() as session:
            report = await verify_chain(session)
            chain = [
                (r.seq, r.event_id)
                for r in await session.execute(text("SELECT seq, event_id FROM audit_seals ORDER BY seq"))
            ]
        return sealed, report.ok, report.events_checked, chain
    finally:
        await database.dispose()


def test_seals_move_out_and_waiting_events_are_sealed_after_the_chain(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0008")
    # On PostgreSQL a transaction could commit its event after later ones were sealed (id 3);
    # on SQLite writers took turns, so only the newest events can be waiting.
    postgres = fresh_url.startswith("postgresql")
    sealed_ids, unsealed_ids = ([1, 2, 4], [3, 5]) if postgres else ([1, 2, 3], [4, 5])
    asyncio.run(_seed_0008(fresh_url, sealed_ids, unsealed_ids))

    command.upgrade(config, "head")
    sealed, ok, checked, chain = asyncio.run(_seal_and_read(fresh_url))

    assert (sealed, ok, checked) == (2, True, 5)
    # The old chain keeps its order and hashes; the waiting events follow in id order.
    assert [event_id for _, event_id in chain] == sealed_ids + unsealed_ids
    assert [seq for seq, _ in chain] == [1, 2, 3, 4, 5]


def test_on_sqlite_a_waiting_event_between_sealed_ones_stops_the_migration(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/gap.db"
    config = alembic_config(url)
    command.upgrade(config, "0008")
    asyncio.run(_seed_0008(url, [1, 3], [2]))

    with pytest.raises(RuntimeError, match="1 unsealed audit events sit between sealed ones"):
        command.upgrade(config, "head")
