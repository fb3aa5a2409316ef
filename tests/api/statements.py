"""The SQL statements a request runs on the read engine, and only those of the request itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.db import Database


@contextmanager
def request_statements(database: Database) -> Iterator[list[str]]:
    """The statements run meanwhile in this task, which is where httpx's ASGI transport runs the
    app: the key cache's generation reading runs in a task of its own whenever a request finds it
    due (app/http/key_cache.py), and on SQLite even its BEGIN is a statement, so counting every
    statement of the engine counts that reading too, now and then (session 12's CI: 10 == 9)."""
    seen: list[str] = []
    task = asyncio.current_task()

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if asyncio.current_task() is task:
            seen.append(statement)

    engine = database.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
