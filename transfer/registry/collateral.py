"""Whose a collateral item is: the loan it secures, that loan's creditor and status (what an auction
of collateral is checked against)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem, CollateralPledge, CollateralTransferTask, Loan
from transfer.registry.loans import DEFAULTED, REPAID

# Where a pledged right stands (CollateralItem.state).
PLEDGED = "pledged"
IN_DISPOSAL = "in_disposal"
RELEASED = "released"
DELIVERED = "delivered"


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
        if owner.loan_status == DEFAULTED:
            raise Conflict(
                "collateral_in_disposal",
                f"collateral {collateral_id} secures loan {owner.loan_id}, which is in default:"
                " it is sold by the rounds of its disposal case",
                field="lot.collateral_ids",
            )


async def set_collateral_state(unit: UnitOfWork, loan_id: int, state: str) -> None:
    await unit.session.execute(
        update(CollateralItem).where(CollateralItem.loan_id == loan_id).values(state=state)
    )


async def release_pledges(unit: UnitOfWork, loan_id: int, state: str = RELEASED) -> list[tuple[str, str]]:
    """The loan's live pledges end (the right may back a new loan); its items stay as history,
    in `state`. Returns the (kind, registry key) of every pledge released."""
    released = await unit.session.execute(
        delete(CollateralPledge)
        .where(CollateralPledge.loan_id == loan_id)
        .returning(CollateralPledge.kind, CollateralPledge.registry_key)
    )
    await set_collateral_state(unit, loan_id, state)
    return sorted((kind, key) for kind, key in released.all())


async def deliver_collateral(unit: UnitOfWork, loan_id: int, new_holder_id: int, reference: str) -> list[int]:
    """A disposed right goes to its buyer: the pledge is released and a registration task
    (著录项目变更) recorded per item. Returns the ids of the items delivered."""
    await release_pledges(unit, loan_id, DELIVERED)
    item_ids = list(
        (
            await unit.session.execute(
                select(CollateralItem.id).where(CollateralItem.loan_id == loan_id).order_by(CollateralItem.id)
            )
        ).scalars()
    )
    unit.session.add_all(
        CollateralTransferTask(
            collateral_id=item_id,
            loan_id=loan_id,
            new_holder_id=new_holder_id,
            reference=reference,
            status="to_register",
            created_at=unit.now,
        )
        for item_id in item_ids
    )
    return item_ids
