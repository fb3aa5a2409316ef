"""What every handler, job and command shares: settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from app.db import Database
from app.settings import Settings
from transfer.clock import Clock, system_clock
from transfer.unit_of_work import UnitOfWork, run_in_transaction

T = TypeVar("T")


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock = field(default=system_clock)

    async def transact(self, work: Callable[[UnitOfWork], Awaitable[T]], *, actor_id: int | None) -> T:
        """Run one unit of work as one write transaction on this context's database."""
        return await run_in_transaction(
            self.database.write, work, actor_id=actor_id, clock=self.clock, gate=self.database.write_gate
        )
