"""Helpers for service tests: run a unit of work, make participants with funds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.db import Database
from transfer import ledger
from transfer.kernel.clock import system_clock
from transfer.kernel.unit_of_work import UnitOfWork, run_in_transaction
from transfer.registry import participants

T = TypeVar("T")


async def run(
    database: Database, work: Callable[[UnitOfWork], Awaitable[T]], actor_id: int | None = None
) -> T:
    return await run_in_transaction(
        database.write, work, actor_id=actor_id, clock=system_clock, gate=database.write_gate
    )


async def new_participant(database: Database, roles: list[str], funds_fen: int = 0, name: str = "P") -> int:
    async def work(unit: UnitOfWork) -> int:
        created = await participants.create_participant(unit, name=name, roles=roles)
        if funds_fen:
            await ledger.record_funds(
                unit, created.participant.id, funds_fen, f"opening-{created.participant.id}"
            )
        return created.participant.id

    return await run(database, work)


async def balances(database: Database, participant_id: int) -> ledger.Balances:
    async with database.read() as session:
        return await ledger.balances(session, participant_id)


async def ledger_sum(database: Database) -> int:
    async with database.read() as session:
        return await ledger.ledger_sum_fen(session)
