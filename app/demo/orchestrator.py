"""Seeding the demo market: the participants first, then every seed's steps in time order, each
step one transaction through the services on a clock set to its instant (app/demo/timeline.py).

Idempotent: each seed looks for what it makes by its own natural key (a registry number, a pool's
name, a session by the demo admin) and plans nothing when it finds it, so a second start changes
nothing, and a start after a crash finishes the seeds that had not run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.demo import disposal_seed, fee_history, market_seed, pool_seed, session_seed
from app.demo.participants import ADMIN_KEY, DemoIds, create_missing, demo_ids, opened_at
from app.demo.timeline import Step, context_at, in_order
from auction.disposal.models import DisposalSession, SessionLot
from auction.models import Auction
from auction.policy import RUNNING_STATES

log = structlog.get_logger("ipx.demo")


class Progress(Protocol):
    """Where the seed reports how far it is (a progress bar on a terminal)."""

    def begin(self, total: int) -> None: ...

    def advance(self, label: str) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    def begin(self, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class SeedReport:
    participants_created: int
    steps_run: int
    session_id: int | None  # the newest demo session
    room_auction_id: int | None  # a live lot of it ending soonest, for the printed room URL


Seeded = Callable[[AsyncSession, DemoIds], Awaitable[bool]]
Planner = Callable[[AppContext, DemoIds, datetime], list[Step]]


def _session_planner(context: AppContext, ids: DemoIds, now: datetime) -> list[Step]:
    return session_seed.plan(context, ids, now, number=1)


SEEDS: tuple[tuple[str, Seeded, Planner], ...] = (
    ("fee-waiver history", fee_history.seeded, fee_history.plan),
    ("operation pool", pool_seed.seeded, pool_seed.plan),
    ("disposal case in round 2", disposal_seed.seeded, disposal_seed.plan),
    ("centralized session", session_seed.seeded, _session_planner),
    ("present-day market", market_seed.seeded, market_seed.plan),
)


async def run_steps(context: AppContext, steps: list[Step], progress: Progress) -> int:
    now = context.clock()
    ordered = in_order(steps, now)
    progress.begin(len(ordered))
    for step in ordered:
        await context_at(context, step.at).transact(step.work, actor_id=step.actor_id)
        progress.advance(step.label)
    progress.end()
    return len(ordered)


async def seed_demo_market(context: AppContext, progress: Progress | None = None) -> SeedReport:
    """Seed what is missing of the demo market; see the module's docstring."""
    now = context.clock()
    created = await context_at(context, opened_at(now)).transact(create_missing, actor_id=None)
    async with context.database.read() as session:
        ids = await demo_ids(session)
        assert ids is not None, "the demo participants were just created"
        steps: list[Step] = []
        for name, seeded, planner in SEEDS:
            if await seeded(session, ids):
                log.info("demo seed found", seed=name)
                continue
            steps += planner(context, ids, now)
    ran = await run_steps(context, steps, progress or NoProgress())
    report = await _report(context, ids, created, ran)
    log.info(
        "demo market ready",
        participants_created=created,
        steps=ran,
        session_id=report.session_id,
        room_auction_id=report.room_auction_id,
    )
    return report


async def open_fresh_session(context: AppContext) -> int:
    """Another demo session like the seed's, its lots ending over the next 15 minutes; returns the
    number of steps run."""
    async with context.database.read() as session:
        ids = await demo_ids(session)
        if ids is None:
            return 0
        number = await session_seed.demo_session_count(session, ids) + 1
    steps = session_seed.plan(context, ids, context.clock(), number)
    return await run_steps(context, steps, NoProgress())


async def _report(context: AppContext, ids: DemoIds, created: int, ran: int) -> SeedReport:
    async with context.database.read() as session:
        session_id = (
            await session.execute(
                select(DisposalSession.id)
                .where(DisposalSession.created_by == ids[ADMIN_KEY])
                .order_by(DisposalSession.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        auction_id = None
        if session_id is not None:
            auction_id = (
                await session.execute(
                    select(Auction.id)
                    .join(SessionLot, SessionLot.auction_id == Auction.id)
                    .where(
                        SessionLot.session_id == session_id,
                        Auction.state.in_([state.value for state in RUNNING_STATES]),
                        Auction.ends_at > context.clock(),
                    )
                    .order_by(Auction.ends_at, Auction.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
    return SeedReport(created, ran, session_id, auction_id)
