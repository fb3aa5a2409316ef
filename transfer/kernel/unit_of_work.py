"""One service call = one database transaction = one batch of audit events.

`run_in_transaction` opens the transaction, hands the work a UnitOfWork, appends the audit events
last (see audit.append_events), commits, then runs after-commit callbacks (live events are published
only for committed state). Serialization failures and deadlocks are retried with jitter, bounded.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from transfer.kernel.audit import PendingEvent, append_events
from transfer.kernel.clock import Clock

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# PostgreSQL serialization failure and deadlock: the whole unit of work runs again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class RetryTransaction(Exception):
    """Raised by work that saw a race it can resolve by running again from the start."""


class EventSink:
    """What a transaction's work records besides its writes: audit events and live events.

    Every unit of work is one; the English bid executor gives each bid of a batch a bare one, as
    the batch's one statement writes their events itself (on the driver or through a session).
    """

    def __init__(self, actor_id: int | None, now: datetime) -> None:
        self.actor_id = actor_id
        # One clock reading per transaction: every timestamp the work writes agrees.
        self.now = now
        self.events: list[PendingEvent] = []
        # Live events (channel, payload) published only after commit, best effort.
        self.live_events: list[tuple[str, dict[str, Any]]] = []

    def record(self, type_: str, subject: str, payload: dict[str, Any]) -> None:
        self.events.append(PendingEvent(self.now, self.actor_id, type_, subject, payload))

    def take_events(self) -> list[PendingEvent]:
        """Hand the recorded events to a caller that writes them itself (they are then not
        appended again at commit)."""
        events, self.events = self.events, []
        return events

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        self.live_events.append((channel, payload))


class UnitOfWork(EventSink):
    def __init__(self, session: AsyncSession, actor_id: int | None, now: datetime) -> None:
        super().__init__(actor_id, now)
        self.session = session
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._before_commit: dict[str, Callable[[], Awaitable[None]]] = {}
        # Net balance change per ledger account, applied once just before commit (transfer.ledger).
        self.balance_deltas_fen: dict[int, int] = {}

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    def before_commit(self, name: str, callback: Callable[[], Awaitable[None]]) -> None:
        """Run once, last thing before the audit append and commit (registered once per name)."""
        self._before_commit.setdefault(name, callback)

    async def run_before_commit(self) -> None:
        for callback in list(self._before_commit.values()):
            await callback()


def bind(
    work: Callable[Concatenate[UnitOfWork, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
) -> Callable[[UnitOfWork], Awaitable[T]]:
    """`work` with its arguments after the unit fixed now: what a loop hands to a transaction
    (a lambda would see the loop's last values if it ran later, and its type is not inferred)."""
    return lambda unit: work(unit, *args, **kwargs)


@asynccontextmanager
async def _gated(gate: asyncio.Lock | None) -> AsyncIterator[None]:
    if gate is None:
        yield
        return
    async with gate:
        yield


async def retry_pause(attempt: int) -> None:
    """Jittered backoff before running a transaction again, so racing retries spread out."""
    await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))


async def run_after_commit(callbacks: list[Callable[[], Awaitable[None]]]) -> None:
    """Run what follows a commit (live events, mostly); a failure is logged, never raised: the
    change is committed and must not be reported as failed."""
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback failed")


def sqlstate_of(error: DBAPIError) -> str | None:
    original = error.orig
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(original, attribute, None)
        if isinstance(value, str):
            return value
    cause = getattr(original, "__cause__", None)
    value = getattr(cause, "sqlstate", None)
    return value if isinstance(value, str) else None


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, RetryTransaction):
        return True
    if isinstance(error, DBAPIError):
        if sqlstate_of(error) in RETRYABLE_SQLSTATES:
            return True
        # SQLite: only if a lock wait outlived busy_timeout; running again is the right answer.
        return "database is locked" in str(error.orig)
    return False


async def run_in_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    actor_id: int | None,
    clock: Clock,
    attempts: int = MAX_ATTEMPTS,
    gate: asyncio.Lock | None = None,
    publish: Callable[[list[tuple[str, dict[str, Any]]]], Awaitable[None]] | None = None,
    notify: Callable[[AsyncSession, list[tuple[str, dict[str, Any]]]], Awaitable[None]] | None = None,
) -> T:
    """gate: an in-process lock taken around each attempt. On SQLite it queues this process's
    writers in the event loop instead of in SQLite's busy handler, which polls with sleeps.

    Live events go to `publish` after the commit, or to `notify` inside the transaction, last
    before the commit (a relay whose notifications the database delivers at commit, in order)."""
    assert attempts >= 1
    for attempt in range(1, attempts + 1):
        try:
            async with _gated(gate), sessionmaker() as session, session.begin():
                unit = UnitOfWork(session, actor_id, clock())
                result = await work(unit)
                await unit.run_before_commit()
                await append_events(session, unit.events)
                if notify is not None and unit.live_events:
                    await notify(session, unit.live_events)
        except Exception as error:
            if attempt < attempts and is_retryable(error):
                await retry_pause(attempt)
                continue
            raise
        callbacks = list(unit._after_commit)
        if publish is not None and notify is None and unit.live_events:
            callbacks.append(functools.partial(publish, unit.live_events))
        await run_after_commit(callbacks)
        return result
    raise AssertionError("unreachable: the loop returns or raises")
