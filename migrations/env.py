"""Alembic environment: async engines, batch mode for SQLite, models' metadata as the target."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import app.pages.session_tables  # noqa: F401  (registers the pages' tables)
import auction.disposal.models
import auction.models
import auction.operation.models  # noqa: F401  (registers the operation tables)
from app.db import async_url
from transfer.models import Base
from transfer.models.references import STATEMENT_CHECKED_FOREIGN_KEYS

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    return str(
        config.attributes.get("database_url") or os.environ.get("IPX_DATABASE_URL") or "sqlite:///./ipx.db"
    )


def do_run_migrations(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"

    def include_object(
        item: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        # PostgreSQL enforces these keys with statement-level triggers instead (migration 0007).
        return not (postgres and type_ == "foreign_key_constraint" and name in STATEMENT_CHECKED_FOREIGN_KEYS)

    context.configure(
        include_object=include_object,
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(async_url(database_url()), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=async_url(database_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)
