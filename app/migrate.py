"""Schema migrations: alembic is the only way the schema changes."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.db import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Upgrade to head. Synchronous: alembic's env.py runs its own event loop, so call this from
    a thread (asyncio.to_thread) when an event loop is already running."""
    command.upgrade(alembic_config(database_url), "head")


def head_revision(database_url: str) -> str | None:
    return _head_of_scripts()


@functools.cache
def _head_of_scripts() -> str | None:
    # Reading the scripts loads every migration file; they do not change while a process runs,
    # and every start of the app (each test's) asks.
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(database: Database) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.read_engine.connect() as connection:
        return await connection.run_sync(read)


class SchemaBehind(RuntimeError):
    pass


async def require_current_schema(database: Database) -> None:
    current = await current_revision(database)
    head = head_revision(database.url)
    if current != head:
        raise SchemaBehind(
            f"database schema is at {current or 'nothing'}, the code needs {head}: run `python -m app migrate`"
        )
