"""Whose a collateral item is: the loan it secures, that loan's creditor and status (what an auction
of collateral is checked against)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Conflict, Forbidden
from transfer.models.loans import CollateralItem, Loan
from transfer.registry.loans import REPAID


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


async def refuse_others_collateral(
    session: AsyncSession,
    collateral_ids: Iterable[int],
    belongs: Callable[[CollateralOwner], bool],
    whose: str,
) -> None:
    """Refuse a lot naming collateral that does not belong (to `whose`, as `belongs` decides) or
    that secured a repaid loan (its pledge is released). An id that does not exist is refused like
    another bank's: nobody learns which ids exist."""
    owners = await collateral_owners(session, collateral_ids)
    for collateral_id in sorted(set(collateral_ids)):
        owner = owners.get(collateral_id)
        if owner is None or not belongs(owner):
            raise Forbidden(
                "not_your_collateral",
                f"collateral {collateral_id} is not collateral of {whose}",
                field="lot.collateral_ids",
            )
        if owner.loan_status == REPAID:
            raise Conflict(
                "collateral_released",
                f"collateral {collateral_id} secured loan {owner.loan_id}, which is repaid",
                field="lot.collateral_ids",
            )
