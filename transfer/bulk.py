"""Bulk writes for the big set-based paths (distributions to many holders, bulk closes).

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
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD_ROWS:
        columns = list(rows[0])
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )
        return
    await session.execute(insert(table), list(rows))
