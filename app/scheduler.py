"""Periodic jobs on APScheduler 3 (memory job store).

The database is the source of truth, so every job is idempotent against it: a restart loses
nothing, and jobs are safe to run on every node at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app import idempotency
from app.context import AppContext
from auction import closing
from transfer import audit, listings, settlement
from transfer.unit_of_work import UnitOfWork

log = structlog.get_logger("ipx.scheduler")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    run: Callable[[AppContext], Awaitable[object]]
    every_s: float


async def purge_idempotency_records(context: AppContext) -> None:
    async def work(unit: UnitOfWork) -> int:
        return await idempotency.purge_expired(unit.session, unit.now, context.settings.idempotency_ttl_s)

    purged = await context.transact(work, actor_id=None)
    if purged:
        log.info("idempotency records purged", count=purged)


async def seal_audit_events(context: AppContext) -> int:
    """Chain every committed event not yet sealed; returns how many were sealed."""
    total = 0
    while True:
        sealed = await context.transact(lambda unit: audit.seal_pending(unit.session), actor_id=None)
        total += sealed
        if sealed < audit.SEAL_BATCH_SIZE:
            return total


async def close_due_auctions(context: AppContext) -> None:
    """Close every auction past its end, in batches; each batch is one transaction."""
    policy = context.auction_policy
    while True:
        closed = await context.transact(lambda unit: closing.close_due(unit, policy), actor_id=None)
        if closed:
            log.info("auctions closed", count=closed)
        if closed < closing.CLOSE_BATCH_SIZE:
            return


async def default_overdue_winners(context: AppContext) -> None:
    while True:
        defaulted = await context.transact(closing.default_overdue, actor_id=None)
        if defaulted:
            log.info("winners defaulted", count=defaulted)
        if defaulted < closing.CLOSE_BATCH_SIZE:
            return


async def close_due_subscription_books(context: AppContext) -> None:
    policy = context.market_policy
    while True:
        closed = await context.transact(
            lambda unit: listings.close_due_subscriptions(unit, policy), actor_id=None
        )
        if closed:
            log.info("subscription books allocated", count=closed)
        if closed < listings.CLOSE_BATCH_SIZE:
            return


async def fail_overdue_trades(context: AppContext) -> None:
    while True:
        failed = await context.transact(settlement.fail_overdue_trades, actor_id=None)
        if failed:
            log.info("trades failed past their settlement date", count=failed)
        if failed < settlement.FAIL_BATCH_SIZE:
            return


def periodic_jobs(context: AppContext) -> list[PeriodicJob]:
    tick_s = context.settings.scheduler_tick_s
    return [
        PeriodicJob("close_due_auctions", close_due_auctions, tick_s),
        PeriodicJob("seal_audit_events", seal_audit_events, tick_s),
        PeriodicJob("default_overdue_winners", default_overdue_winners, tick_s),
        PeriodicJob("close_due_subscription_books", close_due_subscription_books, tick_s),
        PeriodicJob("fail_overdue_trades", fail_overdue_trades, 60.0),
        PeriodicJob("purge_idempotency_records", purge_idempotency_records, 3600.0),
    ]


def start_scheduler(context: AppContext, jobs: list[PeriodicJob]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:

        async def run(job: PeriodicJob = job) -> None:
            try:
                await job.run(context)
            except Exception:  # one failed tick must not stop the next one
                log.exception("scheduled job failed", job=job.name)

        # max_instances=1 and coalesce: a slow tick is never overlapped by the next one.
        scheduler.add_job(
            run,
            "interval",
            seconds=job.every_s,
            id=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    return scheduler
