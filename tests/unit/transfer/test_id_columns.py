"""Every id, and every column that holds one, is 64-bit on PostgreSQL and a plain INTEGER on SQLite
(where an INTEGER PRIMARY KEY is the 64-bit rowid; a BIGINT one would get no ids on insert)."""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.dialects import postgresql, sqlite

import auction.disposal.models
import auction.models  # noqa: F401  (registers the auction tables)
from transfer.models import Base


def test_every_integer_id_column_is_bigint_on_postgresql_and_every_id_key_integer_on_sqlite() -> None:
    id_columns = [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if (column.name == "id" or column.name.endswith("_id")) and isinstance(column.type, Integer)
    ]
    assert len(id_columns) > 50  # the check saw the tables
    # SQLAlchemy leaves the psycopg dialect's __init__ unannotated.
    pg_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    on_postgresql = {f"{c.table.name}.{c.name}": c.type.compile(pg_dialect) for c in id_columns}
    assert {name for name, sql in on_postgresql.items() if sql != "BIGINT"} == set()
    # Other columns may say BIGINT on SQLite too: any INTEGER-like column holds 64 bits there.
    generated_keys = [c for c in id_columns if c.table.autoincrement_column is c]
    assert len(generated_keys) > 10
    assert {c.table.name for c in generated_keys if c.type.compile(sqlite.dialect()) != "INTEGER"} == set()
