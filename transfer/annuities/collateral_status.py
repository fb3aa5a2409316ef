"""质物状态查询: where a right stands, for any participant (a bidder before it registers for a lot,
a bank before it lends): pledged now (to which creditor, since when), in disposal, lapsed for an
unpaid annuity or restored. Never the loan, the borrower or any figure of theirs.

Whether it is held in an operation pool, and its licences, is auction.operation's part
(auction/operation/collateral_status.py), which transfer may not import: the HTTP edge puts the
two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.annuities.schedules import LAPSED, RESTORED
from transfer.kernel.errors import DomainError
from transfer.models import Participant
from transfer.models.annuities import Annuity
from transfer.models.loans import CollateralItem, CollateralPledge, Loan
from transfer.registry.loans import MAX_REGISTRY_NUMBER_LENGTH, registry_key
from transfer.rules.collateral import ALL_KINDS, is_known_kind

NOT_PLEDGED = "not_pledged"


@dataclass(frozen=True, slots=True)
class CollateralStatus:
    kind: str
    registry_key: str
    # not_pledged | pledged | in_disposal | lapsed
    state: str
    creditor_id: int | None = None
    creditor_name: str | None = None
    pledged_since: datetime | None = None
    lapsed_on: date | None = None
    restored_on: date | None = None


async def collateral_status(session: AsyncSession, kind: str, registry_number: str) -> CollateralStatus:
    if not is_known_kind(kind):
        raise DomainError(
            "unknown_collateral_kind", f"kinds are {', '.join(sorted(ALL_KINDS))}", field="kind"
        )
    key = registry_key(registry_number)
    if not key or len(key) > MAX_REGISTRY_NUMBER_LENGTH:
        raise DomainError(
            "invalid_registry_number",
            f"must be 1 to {MAX_REGISTRY_NUMBER_LENGTH} characters besides whitespace",
            field="registry_number",
        )
    pledge = (
        await session.execute(
            select(
                CollateralPledge.collateral_id,
                CollateralPledge.pledged_at,
                CollateralItem.state,
                Participant.id,
                Participant.name,
            )
            .join(CollateralItem, CollateralItem.id == CollateralPledge.collateral_id)
            .join(Loan, Loan.id == CollateralPledge.loan_id)
            .join(Participant, Participant.id == Loan.creditor_id)
            .where(CollateralPledge.kind == kind, CollateralPledge.registry_key == key)
        )
    ).one_or_none()
    if pledge is None:
        return CollateralStatus(kind, key, NOT_PLEDGED)
    collateral_id, pledged_at, state, creditor_id, creditor_name = pledge
    lapses = (
        await session.execute(
            select(Annuity.status, Annuity.lapsed_on, Annuity.paid_on)
            .where(Annuity.collateral_id == collateral_id, Annuity.status.in_((LAPSED, RESTORED)))
            .order_by(Annuity.lapsed_on.desc())
            .limit(1)
        )
    ).one_or_none()
    lapsed_on = restored_on = None
    if lapses is not None:
        status, lapsed_on, paid_on = lapses
        restored_on = paid_on if status == RESTORED else None
    return CollateralStatus(kind, key, state, creditor_id, creditor_name, pledged_at, lapsed_on, restored_on)
