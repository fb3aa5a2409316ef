"""Loading one row under its row lock: FOR UPDATE on PostgreSQL (SQLite already holds the write lock).

Changes to a trade, loan or listing, and every change to a lot other than an English bid (which
is a conditional write on the lot's sequence instead: auction.bidding), go through this, so changes
to one object are serialized while different objects proceed in parallel.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from transfer.kernel.errors import NotFound
from transfer.kernel.unit_of_work import UnitOfWork

M = TypeVar("M")


async def lock_row(unit: UnitOfWork, model: type[M], row_id: int, *, code: str, noun: str, field: str) -> M:
    primary_key: Any = model.id  # type: ignore[attr-defined]
    found = (
        await unit.session.execute(
            select(model)
            .where(primary_key == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(code, f"{noun} {row_id} does not exist", field=field)
    return found
