"""Operation pools over HTTP: an agency's pools and what is in them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.mutation import run_mutation
from app.http.pools.schemas import PoolIn, PoolOut, PoolPage, PoolSummary
from auction.operation import pools, queries
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 50
MAX_ASSET_PAGE_SIZE = 500


class PoolController(Controller):
    path = "/api/v1/pools"
    tags = ["pools"]

    @post("/", guards=[requires("agency")], summary="Agency: a new operation pool")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: PoolIn
    ) -> Response[bytes]:
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
