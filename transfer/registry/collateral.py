"""Whose a collateral item is: the loan it secures, that loan's creditor and status (what an auction
of collateral is checked against)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.models.loans import CollateralItem, Loan


@dataclass(frozen=True, slots=True)
class CollateralOwner:
    """Whose a collateral item is: the loan it secures, that loan's creditor and status."""

    collateral_id: int
    loan_id: int
    creditor_id: int
    loan_status: str


async def collateral_owners(
    session: AsyncSession, collateral_ids: Iterable[int]
) -> dict[int, CollateralOwner]:
    """The owners of the collateral items that exist among `collateral_ids`."""
    wanted = sorted(set(collateral_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(CollateralItem.id, Loan.id, Loan.creditor_id, Loan.status)
        .join(Loan, Loan.id == CollateralItem.loan_id)
        .where(CollateralItem.id.in_(wanted))
    )
    return {row[0]: CollateralOwner(*row) for row in rows.all()}
