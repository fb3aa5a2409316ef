"""Licences over HTTP: an agency licenses its pool's assets; open licences are public and taken by
any market participant (bank, bidder, agency); a pledgee consents to licensing its pledged collateral."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.licenses.schemas import (
    ConsentIn,
    ConsentOut,
    LicenseIn,
    LicenseOut,
    OpenLicenseOut,
    OpenLicensePage,
    TakeIn,
)
from app.http.mutation import run_mutation
from app.http.public_reads import ANONYMOUS_READ
from auction.operation import consents, licences
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 50


class LicenseController(Controller):
    path = "/api/v1"
    tags = ["licences"]

    @post(
        "/pools/{pool_id:int}/licenses",
        guards=[requires("agency")],
        summary="Agency: license a pool asset (exclusive, sole, non-exclusive or open)",
    )
    async def grant(
        self, request: Request[Actor, Any, Any], ctx: AppContext, pool_id: int, data: LicenseIn
    ) -> Response[LicenseOut]:
        spec = data.to_spec()

        async def work(unit: UnitOfWork) -> LicenseOut:
            return LicenseOut.of(await licences.grant_licence(unit, pool_id, request.user.id, spec))

        return await run_mutation(request, ctx, work)

    @get("/open-licenses", security=ANONYMOUS_READ, summary="Published open licences (开放许可); anyone")
    async def open_licences(
        self,
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> OpenLicensePage:
        async with ctx.database.read() as session:
            rows, total = await licences.list_open_licences(session, limit=limit, offset=offset)
        return OpenLicensePage(
            [OpenLicenseOut.of(licence, item) for licence, item in rows], total, limit, offset
        )

    @post(
        "/open-licenses/{license_id:int}/take",
        summary="A market participant (bank, bidder, agency): take an open licence at its terms",
    )
    async def take(
        self, request: Request[Actor, Any, Any], ctx: AppContext, license_id: int, data: TakeIn
    ) -> Response[LicenseOut]:
        licensee = data.to_licensee()

        async def work(unit: UnitOfWork) -> LicenseOut:
            return LicenseOut.of(
                await licences.take_open_licence(unit, license_id, request.user.id, licensee)
            )

        return await run_mutation(request, ctx, work)

    @post(
        "/loans/{loan_id:int}/collateral/{cid:int}/license-consents",
        guards=[requires("bank")],
        summary="Creditor: consent, as pledgee, to licensing pledged collateral on these terms",
    )
    async def consent(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, cid: int, data: ConsentIn
    ) -> Response[ConsentOut]:
        spec = data.to_spec()

        async def work(unit: UnitOfWork) -> ConsentOut:
            return ConsentOut.of(await consents.record_consent(unit, loan_id, cid, request.user.id, spec))

        return await run_mutation(request, ctx, work)
