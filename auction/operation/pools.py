"""Pools: an agency makes them, reads its own (admins read all), and buys rights into them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation.models import OperationPool, PoolAsset
from transfer.kernel.errors import DomainError, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
# Roles that read every pool: admins run the system.
ROLES_SEEING_ALL_POOLS = frozenset({"admin"})


@dataclass(frozen=True, slots=True)
class EarnOutTerms:
    """What the source case keeps of a bought right's revenue: a share, up to a cap, until a time."""

    revenue_share_bps: int
    cap_fen: int
    until: datetime


@dataclass(frozen=True, slots=True)
class Acquired:
    """One right a sale puts into a pool, at its part of the price (and of the earn-out's cap)."""

    collateral_id: int
    price_fen: int
    earn_out_cap_fen: int | None


POOL_REVENUE = "pool_revenue"


def pool_account_key(pool_id: int) -> str:
    return f"pool:{pool_id}:{POOL_REVENUE}"


def pool_not_found(pool_id: int, field: str) -> NotFound:
    # A stranger's pool answers like a missing one: nobody learns which pools exist.
    return NotFound("pool_not_found", f"pool {pool_id} does not exist", field=field)


def _clean(value: str | None, field: str, max_length: int, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise DomainError("text_required", f"{field} must not be empty", field=field)
        return None
    if len(cleaned) > max_length:
        raise DomainError("text_too_long", f"{field} must be at most {max_length} characters", field=field)
    return cleaned


async def create_pool(unit: UnitOfWork, agency_id: int, name: str, description: str | None) -> OperationPool:
    pool = OperationPool(
        agency_id=agency_id,
        name=_clean(name, "name", MAX_NAME_LENGTH, required=True),
        description=_clean(description, "description", MAX_DESCRIPTION_LENGTH, required=False),
        created_at=unit.now,
    )
    unit.session.add(pool)
    await unit.session.flush()
    # The pool's account: revenue passes through it to the source cases and the agency.
    unit.session.add(
        Account(
            key=pool_account_key(pool.id),
            participant_id=None,
            code=POOL_REVENUE,
            non_negative=True,
            balance_fen=0,
        )
    )
    await unit.session.flush()
    unit.record("pool.created", f"pool:{pool.id}", {"agency_id": agency_id, "name": pool.name})
    return pool


async def own_pool(unit: UnitOfWork, pool_id: int, agency_id: int, field: str) -> OperationPool:
    """The agency's own pool; another agency's answers as missing. Not locked: a pool's owner never
    changes, and offers into one pool must not queue behind each other."""
    pool = await unit.session.get(OperationPool, pool_id)
    if pool is None or pool.agency_id != agency_id:
        raise pool_not_found(pool_id, field)
    return pool


def may_read(pool: OperationPool, viewer_id: int, viewer_roles: Iterable[str]) -> bool:
    return pool.agency_id == viewer_id or bool(ROLES_SEEING_ALL_POOLS.intersection(viewer_roles))


async def readable_pool(
    session: AsyncSession, pool_id: int, viewer_id: int, viewer_roles: Iterable[str]
) -> OperationPool:
    pool = await session.get(OperationPool, pool_id)
    if pool is None or not may_read(pool, viewer_id, viewer_roles):
        raise pool_not_found(pool_id, "id")
    return pool


async def list_pools(
    session: AsyncSession, viewer_id: int, viewer_roles: Iterable[str], *, limit: int, offset: int
) -> tuple[list[OperationPool], int]:
    """The agency's own pools, newest first; an admin's page holds every pool."""
    query = select(OperationPool)
    if not ROLES_SEEING_ALL_POOLS.intersection(viewer_roles):
        query = query.where(OperationPool.agency_id == viewer_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(OperationPool.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


async def add_assets(
    unit: UnitOfWork,
    pool: OperationPool,
    source_case_id: int,
    acquired: Sequence[Acquired],
    earn_out: EarnOutTerms | None,
) -> list[PoolAsset]:
    """The rights a sale delivered to the pool's agency join the pool, each at its part of the price."""
    assets = [
        PoolAsset(
            pool_id=pool.id,
            collateral_id=item.collateral_id,
            acquisition_price_fen=item.price_fen,
            acquired_at=unit.now,
            source_case_id=source_case_id,
            earn_out_share_bps=None if earn_out is None else earn_out.revenue_share_bps,
            earn_out_cap_fen=item.earn_out_cap_fen,
            earn_out_until=None if earn_out is None else earn_out.until,
            earn_out_paid_fen=0,
        )
        for item in acquired
    ]
    unit.session.add_all(assets)
    await unit.session.flush()
    return assets
