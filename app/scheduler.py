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
from transfer.unit_of_work import UnitOfWork

log = structlog.get_logger("ipx.scheduler")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    run: Callable[[AppContext], Awaitable[None]]
    every_s: float


async def purge_idempotency_records(context: AppContext) -> None:
    async def work(unit: UnitOfWork) -> int:
        return await idempotency.purge_expired(unit.session, unit.now, context.settings.idempotency_ttl_s)

    purged = await context.transact(work, actor_id=None)
    if purged:
        log.info("idempotency records purged", count=purged)


def periodic_jobs(context: AppContext) -> list[PeriodicJob]:
    return [PeriodicJob("purge_idempotency_records", purge_idempotency_records, 3600.0)]


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
