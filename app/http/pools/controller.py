"""Operation pools over HTTP: an agency's pools and what is in them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.mutation import run_mutation
from app.http.pools.schemas import (
    LineOut,
    LinePage,
    PoolIn,
    PoolOut,
    PoolPage,
    PoolSummary,
    RevenueIn,
    RevenueOut,
)
from auction.disposal import earn_outs
from auction.operation import pools, queries, revenue
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 50
MAX_ASSET_PAGE_SIZE = 500


class PoolController(Controller):
    path = "/api/v1/pools"
    tags = ["pools"]

    @post("/", guards=[requires("agency")], summary="Agency: a new operation pool")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: PoolIn
    ) -> Response[PoolSummary]:
        async def work(unit: UnitOfWork) -> PoolSummary:
            return PoolSummary.of(await pools.create_pool(unit, request.user.id, data.name, data.description))

        return await run_mutation(request, ctx, work)

    @get("/", guards=[requires("agency", "admin")], summary="Pools: an agency's own; admins see all")
    async def list_pools(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> PoolPage:
        async with ctx.database.read() as session:
            found, total = await pools.list_pools(
                session, request.user.id, request.user.roles, limit=limit, offset=offset
            )
        return PoolPage([PoolSummary.of(pool) for pool in found], total, limit, offset)

    @get("/{pool_id:int}", guards=[requires("agency", "admin")], summary="A pool with a page of its assets")
    async def get_one(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        pool_id: int,
        asset_limit: Annotated[int, Parameter(ge=1, le=MAX_ASSET_PAGE_SIZE)] = 100,
        asset_offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> PoolOut:
        async with ctx.database.read() as session:
            view = await queries.get_pool(
                session,
                pool_id,
                request.user.id,
                request.user.roles,
                asset_limit=asset_limit,
                asset_offset=asset_offset,
            )
        return PoolOut.of(view)

    @post(
        "/{pool_id:int}/revenues",
        guards=[requires("agency")],
        summary="Agency: revenue into the pool; earn-outs to the source cases, the rest to the agency",
    )
    async def book_revenue(
        self, request: Request[Actor, Any, Any], ctx: AppContext, pool_id: int, data: RevenueIn
    ) -> Response[RevenueOut]:
        spec = data.to_spec()

        async def work(unit: UnitOfWork) -> RevenueOut:
            return RevenueOut.of(
                await earn_outs.book_revenue(
                    unit, pool_id, request.user.id, spec, ctx.disposal_policy.recovery_order
                )
            )

        return await run_mutation(request, ctx, work)

    @get(
        "/{pool_id:int}/revenues/{revenue_id:int}/lines",
        guards=[requires("agency", "admin")],
        summary="A revenue's distribution: who got what, from which asset and case, and why",
    )
    async def lines(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        pool_id: int,
        revenue_id: int,
        limit: Annotated[int, Parameter(ge=1, le=MAX_ASSET_PAGE_SIZE)] = 100,
        offset: Offset = 0,
    ) -> LinePage:
        async with ctx.database.read() as session:
            pool = await pools.readable_pool(session, pool_id, request.user.id, request.user.roles)
            found, total = await revenue.revenue_lines(
                session, pool.id, revenue_id, limit=limit, offset=offset
            )
        return LinePage([LineOut.of(line) for line in found], total, limit, offset)
