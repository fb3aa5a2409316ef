"""Reading a pool: its assets with what each right is, what it cost, and its earn-out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation.licences import pool_licences
from auction.operation.models import OperationPool, PoolAsset, PoolLicense, PoolRevenue
from auction.operation.pools import readable_pool
from auction.operation.revenue import list_revenues
from transfer.models.loans import CollateralItem

# A pool's answer lists its first licences; more is a report's job.
MAX_LICENCES_SHOWN = 500
MAX_REVENUES_SHOWN = 100


@dataclass(frozen=True, slots=True)
class AssetView:
    asset: PoolAsset
    item: CollateralItem


@dataclass(frozen=True, slots=True)
class PoolView:
    pool: OperationPool
    assets: list[AssetView]
    asset_total: int
    licences: list[PoolLicense]
    revenues: list[PoolRevenue]


async def get_pool(
    session: AsyncSession,
    pool_id: int,
    viewer_id: int,
    viewer_roles: Iterable[str],
    *,
    asset_limit: int,
    asset_offset: int,
) -> PoolView:
    """The pool with one page of its assets, oldest first (a pool may hold thousands)."""
    pool = await readable_pool(session, pool_id, viewer_id, viewer_roles)
    total = (
        await session.execute(select(func.count()).select_from(PoolAsset).where(PoolAsset.pool_id == pool.id))
    ).scalar_one()
    rows = await session.execute(
        select(PoolAsset, CollateralItem)
        .join(CollateralItem, CollateralItem.id == PoolAsset.collateral_id)
        .where(PoolAsset.pool_id == pool.id)
        .order_by(PoolAsset.id)
        .limit(asset_limit)
        .offset(asset_offset)
    )
    licences = await pool_licences(session, pool.id, limit=MAX_LICENCES_SHOWN)
    revenues = await list_revenues(session, pool.id, limit=MAX_REVENUES_SHOWN)
    return PoolView(
        pool, [AssetView(asset, item) for asset, item in rows.all()], int(total), licences, revenues
    )
