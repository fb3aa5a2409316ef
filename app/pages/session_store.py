"""The page sessions' store: Litestar's `Store` over the service's own database (`web_sessions`).

Every process of the service reads and writes the same rows, so a browser logged in through one
worker is logged in on all of them, and a restart logs nobody out. Times come from the service's
clock. Two things keep the pages off SQLite's one writer on every view:

* an expiry is moved forward only once it is `RENEW_AFTER_S` old (a session may so end up to that
  much before its full lifetime after the last page), and
* the answer's write of a session nobody changed is skipped: this process remembers what it last
  read or wrote of each session, and a write equal to it, with a fresh enough expiry, is not sent.

Expired rows are deleted by the next write after `PURGE_EVERY_S` (this process's own count).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import delete, select, update

from app.context import AppContext
from app.pages.session_tables import WebSession
from transfer.kernel.bulk import conflict_insert
from transfer.kernel.unit_of_work import UnitOfWork

# House settings, not rules: how stale an expiry may get before a page moves it, and how often a
# process clears expired sessions.
RENEW_AFTER_S = 300
PURGE_EVERY_S = 600
# How many sessions a process remembers, to skip writes of unchanged ones (the oldest go first).
REMEMBERED_SESSIONS = 4_096


@dataclass(frozen=True, slots=True)
class _Known:
    data: bytes
    expires_at: datetime | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _expiry(now: datetime, expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    return now + (expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=expires_in))


def _fresh_enough(known: datetime | None, wanted: datetime | None) -> bool:
    if known is None or wanted is None:
        return known is wanted
    return known >= wanted - timedelta(seconds=RENEW_AFTER_S)


class DatabaseSessionStore(Store):
    """`context` gives the context being served (tests serve one app on a new context each time)."""

    __slots__ = ("_context", "_known", "_purged_at", "_serving")

    def __init__(self, context: Callable[[], AppContext]) -> None:
        self._context = context
        self._serving: AppContext | None = None
        self._known: dict[str, _Known] = {}
        self._purged_at: datetime | None = None

    def _ctx(self) -> AppContext:
        """The context served now; what this process remembers is of the context it was learnt on."""
        ctx = self._context()
        if ctx is not self._serving:
            self._serving, self._known, self._purged_at = ctx, {}, None
        return ctx

    def _remember(self, digest: str, known: _Known | None) -> None:
        self._known.pop(digest, None)
        if known is None:
            return
        if len(self._known) >= REMEMBERED_SESSIONS:
            self._known.pop(next(iter(self._known)))
        self._known[digest] = known

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        ctx = self._ctx()
        data = value.encode() if isinstance(value, str) else value
        now = ctx.clock()
        expires_at = _expiry(now, expires_in)
        digest = _digest(key)
        known = self._known.get(digest)
        if known is not None and known.data == data and _fresh_enough(known.expires_at, expires_at):
            return
        purge = self._purged_at is None or now - self._purged_at >= timedelta(seconds=PURGE_EVERY_S)

        async def write(unit: UnitOfWork) -> None:
            upsert = (await conflict_insert(unit.session, WebSession)).values(
                sid_sha256=digest, data=data, expires_at=expires_at
            )
            await unit.session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[WebSession.sid_sha256], set_={"data": data, "expires_at": expires_at}
                )
            )
            if purge:
                await unit.session.execute(delete(WebSession).where(WebSession.expires_at <= now))

        await ctx.transact(write, actor_id=None)
        if purge:
            self._purged_at = now
        self._remember(digest, _Known(data, expires_at))

    async def _row(self, digest: str) -> tuple[_Known | None, datetime]:
        """The session as stored, if it has not expired, and the time it was read at."""
        ctx = self._ctx()
        now = ctx.clock()
        async with ctx.database.read() as session:
            row = (
                await session.execute(
                    select(WebSession.data, WebSession.expires_at).where(WebSession.sid_sha256 == digest)
                )
            ).one_or_none()
        if row is None or (row.expires_at is not None and row.expires_at <= now):
            return None, now
        return _Known(row.data, row.expires_at), now

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        digest = _digest(key)
        known, now = await self._row(digest)
        if known is not None and renew_for is not None and known.expires_at is not None:
            wanted = _expiry(now, renew_for)
            if not _fresh_enough(known.expires_at, wanted):
                known = _Known(known.data, wanted)

                async def renew(unit: UnitOfWork) -> None:
                    await unit.session.execute(
                        update(WebSession).where(WebSession.sid_sha256 == digest).values(expires_at=wanted)
                    )

                await self._ctx().transact(renew, actor_id=None)
        self._remember(digest, known)
        return None if known is None else known.data

    async def delete(self, key: str) -> None:
        digest = _digest(key)

        async def remove(unit: UnitOfWork) -> None:
            await unit.session.execute(delete(WebSession).where(WebSession.sid_sha256 == digest))

        await self._ctx().transact(remove, actor_id=None)
        self._remember(digest, None)

    async def delete_all(self) -> None:
        async def remove_all(unit: UnitOfWork) -> None:
            await unit.session.execute(delete(WebSession))

        await self._ctx().transact(remove_all, actor_id=None)
        self._known.clear()

    async def exists(self, key: str) -> bool:
        known, _ = await self._row(_digest(key))
        return known is not None

    async def expires_in(self, key: str) -> int | None:
        known, now = await self._row(_digest(key))
        if known is None or known.expires_at is None:
            return None
        return math.ceil((known.expires_at - now).total_seconds())
