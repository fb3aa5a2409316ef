"""Keeping one lot that cannot close from holding back every other close.

The closer closes due lots in batches, one transaction each. When a batch fails for something one
of its lots did (a rule of another context refusing, a constraint, a bug), `close_isolating` splits
it in halves until the failing lot stands alone, so the rest close at once, and sets that lot
aside: state `set_aside`, its reason and attempt count in `auction_close_failures`, an audit event.
A set-aside lot is tried again after `close_retry_s`, doubling each time, `close_max_attempts`
times at most; then it waits for an operator (an admin may cancel it). A failure of the database
itself (connection lost, lock timeout) is not a lot's fault: it is raised, and the next tick runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from auction.closing import CLOSABLE_STATES, close_auctions, due_to_close
from auction.creation import lock_auction, resolve_close_failures
from auction.models import Auction, CloseFailure
from auction.policy import AuctionPolicy, AuctionState
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork

T = TypeVar("T")
Transact = Callable[[Callable[[UnitOfWork], Awaitable[T]]], Awaitable[T]]

MAX_REASON_LENGTH = 500
RETRY_BATCH_SIZE = 100


@dataclass
class IsolatedClose:
    """What a batch closed by isolation did: how many lots closed, and which were set aside why."""

    closed: int = 0
    set_aside: list[tuple[int, str]] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.closed + len(self.set_aside)


def is_lot_failure(error: BaseException) -> bool:
    """Whether a failed close is the lots' doing (isolate it) rather than the database's (retry)."""
    if isinstance(error, OSError | TimeoutError | asyncio.TimeoutError):
        return False
    if isinstance(error, DBAPIError):
        return not (error.connection_invalidated or isinstance(error, OperationalError | InterfaceError))
    return isinstance(error, Exception)


def describe(error: BaseException) -> str:
    if isinstance(error, DomainError):
        text = f"{error.code}: {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:MAX_REASON_LENGTH]


def retry_due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Set-aside lots whose next close attempt is due (the retry job's work and the tick's probe)."""
    return and_(CloseFailure.resolved_at.is_(None), CloseFailure.retry_at <= now)


def _retry_due(failure: CloseFailure, now: datetime) -> bool:
    return failure.resolved_at is None and failure.retry_at is not None and failure.retry_at <= now


async def due_ids(unit: UnitOfWork, limit: int) -> list[int]:
    """The ids a close batch would claim now (read without locks: the closes claim them again)."""
    rows = await unit.session.execute(
        select(Auction.id).where(due_to_close(unit.now)).order_by(Auction.ends_at, Auction.id).limit(limit)
    )
    return list(rows.scalars())


async def retry_ids(unit: UnitOfWork, limit: int = RETRY_BATCH_SIZE) -> list[int]:
    rows = await unit.session.execute(
        select(CloseFailure.auction_id)
        .where(retry_due(unit.now))
        .order_by(CloseFailure.retry_at, CloseFailure.auction_id)
        .limit(limit)
    )
    return list(rows.scalars())


async def close_ids(unit: UnitOfWork, ids: Sequence[int], policy: AuctionPolicy) -> int:
    """Close those of `ids` that are still due or set aside, skipping any another closer holds."""
    lots = (
        (
            await unit.session.execute(
                select(Auction)
                .where(
                    Auction.id.in_(list(ids)),
                    or_(due_to_close(unit.now), Auction.state == AuctionState.SET_ASIDE.value),
                )
                .order_by(Auction.ends_at, Auction.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    await close_auctions(unit, lots, policy)
    await resolve_close_failures(unit, [lot.id for lot in lots])
    return len(lots)


async def set_aside(unit: UnitOfWork, auction_id: int, reason: str, policy: AuctionPolicy) -> bool:
    """Hold a lot whose close failed apart from the closer's queue, with its reason; False when
    the lot was closed meanwhile (by another closer or an operator)."""
    auction = await lock_auction(unit, auction_id)
    if auction.state not in CLOSABLE_STATES:
        return False
    failure = await unit.session.get(CloseFailure, auction_id)
    if auction.state == AuctionState.SET_ASIDE and failure is not None and not _retry_due(failure, unit.now):
        return False  # another closer set it aside first: this failure is already counted
    if failure is None:
        failure = CloseFailure(auction_id=auction_id, attempts=0, first_failed_at=unit.now)
        unit.session.add(failure)
    failure.attempts += 1
    failure.reason = reason[:MAX_REASON_LENGTH]
    failure.last_failed_at = unit.now
    failure.retry_at = (
        unit.now + timedelta(seconds=policy.close_retry_s * 2 ** (failure.attempts - 1))
        if failure.attempts < policy.close_max_attempts
        else None
    )
    auction.state = AuctionState.SET_ASIDE.value
    unit.record(
        "auction.close_set_aside",
        f"auction:{auction.id}",
        {
            "reason": failure.reason,
            "attempts": failure.attempts,
            "retry_at": failure.retry_at.isoformat() if failure.retry_at else None,
            "ends_at": auction.ends_at.isoformat(),
        },
    )
    return True


async def close_isolating(
    transact: Transact[int], ids: Sequence[int], policy: AuctionPolicy
) -> IsolatedClose:
    """Close `ids`, each failing lot set aside alone: a failed batch is halved until the lot that
    fails it stands alone, so a batch of n with one bad lot takes about 2·log2(n) transactions."""
    result = IsolatedClose()
    pending: list[Sequence[int]] = [ids] if ids else []
    while pending:
        batch = pending.pop()

        async def close(unit: UnitOfWork, lots: Sequence[int] = batch) -> int:
            return await close_ids(unit, lots, policy)

        try:
            result.closed += await transact(close)
        except Exception as error:
            if not is_lot_failure(error):
                raise
            if len(batch) > 1:
                middle = len(batch) // 2
                # Popped from the end: the earlier half (sooner ends) closes first.
                pending += [batch[middle:], batch[:middle]]
                continue
            reason = describe(error)

            async def hold(unit: UnitOfWork, lot_id: int = batch[0], why: str = reason) -> int:
                return int(await set_aside(unit, lot_id, why, policy))

            if await transact(hold):
                result.set_aside.append((batch[0], reason))
    return result
