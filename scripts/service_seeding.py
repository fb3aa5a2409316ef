"""Seeding through the services, for the scripts that need a market before they start a server
(scripts/bench session, scripts/crash): a context without a scheduler whose policy allows short
lots, and work over many items a batch of items per transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.context import AppContext
from app.db import create_database
from app.settings import load_settings
from transfer.kernel.unit_of_work import UnitOfWork

# Items per seeding transaction: large enough to amortise a transaction, small enough that one
# failing item does not roll back minutes of work.
SEED_BATCH = 250


def seed_context(url: str, admin_key: str, **overrides: Any) -> AppContext:
    """The services as the server would run them, without its scheduler; lots may be short and
    a disposal round may start at once."""
    settings = load_settings(
        {},
        database_url=url,
        admin_api_key=admin_key,
        scheduler_enabled=False,
        auction_min_duration_s=0,
        disposal_notice_s=0,
        **overrides,
    )
    return AppContext(settings=settings, database=create_database(url))


async def in_batches(
    ctx: AppContext, items: list[Any], work: Callable[[UnitOfWork, Any], Awaitable[Any]]
) -> list[Any]:
    """`work` on each item, SEED_BATCH items per transaction; the results in order."""
    out: list[Any] = []
    for start in range(0, len(items), SEED_BATCH):
        chunk = items[start : start + SEED_BATCH]

        async def run(unit: UnitOfWork, chunk: list[Any] = chunk) -> list[Any]:
            return [await work(unit, item) for item in chunk]

        out += await ctx.transact(run, actor_id=None)
    return out
