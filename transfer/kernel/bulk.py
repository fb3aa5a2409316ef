"""Bulk writes for the big paths (bulk closes resolving many deposit holds).

On PostgreSQL rows go in with COPY on the transaction's own connection; elsewhere with one
executemany. Both run inside the caller's transaction, so a bulk write commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

# Below this many rows the plain executemany is as fast and simpler to reason about.
COPY_THRESHOLD_ROWS = 200


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if await _copies(session, len(rows)):
        columns = list(rows[0])
        await _copy(session, table, columns, [tuple(row[c] for c in columns) for row in rows])
        return
    await session.execute(insert(table), list(rows))


async def _copies(session: AsyncSession, row_count: int) -> bool:
    connection = await session.connection()
    return connection.dialect.name == "postgresql" and row_count >= COPY_THRESHOLD_ROWS


async def _copy(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]]
) -> None:
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=list(columns))
