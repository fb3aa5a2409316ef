"""Bulk writes for the big paths (bulk closes resolving many deposit holds, a pool's revenue).

On PostgreSQL rows go in with COPY on the transaction's own connection; elsewhere with one
executemany. Both run inside the caller's transaction, so a bulk write commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def conflict_insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's own dialect, the one with ON CONFLICT (both databases have it)."""
    dialect = (await session.connection()).dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


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


async def update_rows(
    session: AsyncSession, table: Table, key: str, rows: Sequence[Mapping[str, int | None]]
) -> None:
    """Set integer columns of many rows by their key, each row its own values (`key` names the key
    column; every row has the same columns). On PostgreSQL one UPDATE … FROM unnest of one array
    per column; elsewhere one executemany. The caller has locked the rows it read the values from."""
    if not rows:
        return
    columns = [column for column in rows[0] if column != key]
    assert columns, "an update sets at least one column"
    assert all(isinstance(value, int) or value is None for row in rows for value in row.values()), (
        "update_rows sets integer columns"
    )
    if (await session.connection()).dialect.name == "postgresql":
        names = [key, *columns]
        arrays = ", ".join(f"CAST(:a{i} AS bigint[])" for i in range(len(names)))
        sets = ", ".join(f"{column} = u.{column}" for column in columns)
        await session.execute(
            text(
                f"UPDATE {table.name} SET {sets} FROM unnest({arrays}) AS u({', '.join(names)})"
                f" WHERE {table.name}.{key} = u.{key}"
            ),
            {f"a{i}": [row[name] for row in rows] for i, name in enumerate(names)},
        )
        return
    statement = (
        update(table)
        .where(table.c[key] == bindparam("k_key"))
        .values({column: bindparam(f"v_{column}") for column in columns})
    )
    await session.execute(
        statement, [{"k_key": row[key], **{f"v_{column}": row[column] for column in columns}} for row in rows]
    )
