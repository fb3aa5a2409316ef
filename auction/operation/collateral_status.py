"""The operation pool's part of 质物状态查询: whether a right is held in an operation pool (which
pool, whose, since when) and its open and exclusive or sole licences in force or to come (kind,
licensee, territory, field, dates). No price, upfront or royalty: figures are the parties' own.

The registry's part (pledged, in disposal, lapsed) is transfer.annuities.collateral_status; the
two are put together above both, at the HTTP edge (app/http/collateral).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation.models import OperationPool, PoolAsset, PoolLicense
from auction.operation.rules.licence_overlap import LicenceKind
from transfer.models import Participant
from transfer.models.loans import CollateralItem
from transfer.registry.loans import registry_key

# The licences a lender or a bidder must know of: they bind the right's use (专利法第50条).
BINDING_KINDS = (LicenceKind.EXCLUSIVE.value, LicenceKind.SOLE.value, LicenceKind.OPEN.value)
# Licences listed per right, newest first: a pool licenses an asset a handful of times.
MAX_LICENCES = 50


@dataclass(frozen=True, slots=True)
class PoolHolding:
    pool_id: int
    pool_name: str
    agency_id: int
    agency_name: str
    since: datetime


@dataclass(frozen=True, slots=True)
class LicenceFact:
    kind: str
    licensee_name: str | None  # None for an open licence: anyone may take it
    territory: str
    field_of_use: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class PoolStatus:
    holding: PoolHolding | None
    licences: list[LicenceFact]


def _stored_key(number: Any) -> ColumnElement[Any]:
    """The registry key in SQL, as near as SQL gets: spaces (ASCII and ideographic) and tabs
    dropped, upper case; the rows it finds are checked again with the registry's own rule."""
    for blank in (" ", "\t", "\u3000"):
        number = func.replace(number, blank, "")
    return func.upper(number)


async def pool_status(session: AsyncSession, kind: str, registry_number: str, today: date) -> PoolStatus:
    """The right's pool and licences; `kind` and the number are checked by the registry's part."""
    key = registry_key(registry_number)
    rows = (
        await session.execute(
            select(PoolAsset, CollateralItem.registry_number, OperationPool, Participant.name)
            .join(CollateralItem, CollateralItem.id == PoolAsset.collateral_id)
            .join(OperationPool, OperationPool.id == PoolAsset.pool_id)
            .join(Participant, Participant.id == OperationPool.agency_id)
            .where(CollateralItem.kind == kind, _stored_key(CollateralItem.registry_number) == key)
            .order_by(PoolAsset.acquired_at.desc(), PoolAsset.id.desc())
        )
    ).all()
    found = [
        (asset, pool, agency_name) for asset, number, pool, agency_name in rows if registry_key(number) == key
    ]
    if not found:
        return PoolStatus(None, [])
    # A right bought into a pool twice (sold on and bought back) is where it went last.
    asset, pool, agency_name = found[0]
    licences = (
        await session.execute(
            select(PoolLicense)
            .where(
                PoolLicense.asset_id == asset.id,
                PoolLicense.kind.in_(BINDING_KINDS),
                PoolLicense.ends_on >= today,
            )
            .order_by(PoolLicense.starts_on, PoolLicense.id)
            .limit(MAX_LICENCES)
        )
    ).scalars()
    return PoolStatus(
        PoolHolding(pool.id, pool.name, pool.agency_id, agency_name, asset.acquired_at),
        [
            LicenceFact(
                licence.kind,
                licence.licensee_name,
                licence.territory,
                licence.field_of_use,
                licence.starts_on,
                licence.ends_on,
            )
            for licence in licences
        ],
    )
