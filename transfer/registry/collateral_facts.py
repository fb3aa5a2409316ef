"""The public facts of collateral items (kind, registry number, title, appraisal), read in bulk for
a catalogue page: what an auction of them shows anyone, never the right holder or the pledge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.models.loans import CollateralItem

# Ids bound per statement: far below the drivers' caps on bind parameters (asyncpg 32,767; SQLite
# 32,766 by default since 3.32), so a full catalogue page of 200 lots naming 100 items each
# (app/http/auctions: MAX_PAGE_SIZE; auction/creation.py: MAX_COLLATERAL_IDS) is two statements.
IDS_PER_STATEMENT = 10_000


@dataclass(frozen=True, slots=True)
class CollateralFacts:
    id: int
    kind: str
    registry_number: str
    title: str
    appraisal_fen: int


async def collateral_facts(
    session: AsyncSession, collateral_ids: Iterable[int]
) -> dict[int, CollateralFacts]:
    """The facts of the items that exist among `collateral_ids`, by id, in one statement per
    IDS_PER_STATEMENT distinct ids however many lots name them."""
    wanted = sorted(set(collateral_ids))
    found: dict[int, CollateralFacts] = {}
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        rows = await session.execute(
            select(
                CollateralItem.id,
                CollateralItem.kind,
                CollateralItem.registry_number,
                CollateralItem.title,
                CollateralItem.appraisal_fen,
            ).where(CollateralItem.id.in_(wanted[start : start + IDS_PER_STATEMENT]))
        )
        found.update((row.id, CollateralFacts(*row)) for row in rows.all())
    return found
