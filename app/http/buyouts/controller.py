"""Third-party buyout over HTTP: agencies' money-backed offers on cases, and the creditor's accept."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.buyouts.schemas import (
    CommitmentIn,
    CommitmentOut,
    CommitmentPage,
    OfferIn,
    OfferOut,
    OfferPage,
)
from app.http.disposals.controller import answer_case
from app.http.disposals.schemas import DisposalOut
from app.http.input_bounds import Offset
from app.http.mutation import run_mutation
from auction.disposal import buyout
from auction.operation import commitments, offers
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 50


class BuyoutOfferController(Controller):
    path = "/api/v1"
    tags = ["buyouts"]

    @post(
        "/disposals/{case_id:int}/buyout-offers",
        guards=[requires("agency")],
        summary="Agency: a money-backed offer for a case's collateral (the whole price is held)",
    )
    async def make(
        self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int, data: OfferIn
    ) -> Response[OfferOut]:
        spec = data.to_spec()
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> OfferOut:
            return OfferOut.of(await buyout.make_offer(unit, case_id, request.user.id, spec, policy))

        return await run_mutation(request, ctx, work)

    @get(
        "/disposals/{case_id:int}/buyout-offers",
        summary="A case's offers: the creditor, clearing and admins see all; an agency its own",
    )
    async def list_offers(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        case_id: int,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> OfferPage:
        async with ctx.database.read() as session:
            found, total = await buyout.list_offers(
                session, case_id, request.user.id, request.user.roles, limit=limit, offset=offset
            )
        return OfferPage([OfferOut.of(offer) for offer in found], total, limit, offset)

    @post(
        "/buyout-offers/{offer_id:int}/withdraw",
        status_code=200,
        guards=[requires("agency")],
        summary="Agency: withdraw its live offer; the hold is released",
    )
    async def withdraw(
        self, request: Request[Actor, Any, Any], ctx: AppContext, offer_id: int
    ) -> Response[OfferOut]:
        async def work(unit: UnitOfWork) -> OfferOut:
            return OfferOut.of(await offers.withdraw_offer(unit, offer_id, request.user.id))

        return await run_mutation(request, ctx, work)

    @post(
        "/buyout-offers/{offer_id:int}/accept",
        status_code=200,
        guards=[requires("bank")],
        summary="Creditor: accept an offer; the sale settles by DvP into the agency's pool",
    )
    async def accept(
        self, request: Request[Actor, Any, Any], ctx: AppContext, offer_id: int
    ) -> Response[DisposalOut]:
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> DisposalOut:
            case = await buyout.accept_offer(unit, offer_id, request.user.id, policy)
            return await answer_case(unit, case.id, request.user)

        return await run_mutation(request, ctx, work)


class CommitmentController(Controller):
    path = "/api/v1/buyout-commitments"
    tags = ["buyouts"]

    @post("/", guards=[requires("agency")], summary="Agency: a standing commitment (the budget is held)")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: CommitmentIn
    ) -> Response[CommitmentOut]:
        spec = data.to_spec()
        policy = ctx.operation_policy

        async def work(unit: UnitOfWork) -> CommitmentOut:
            return CommitmentOut.of(await commitments.create_commitment(unit, request.user.id, spec, policy))

        return await run_mutation(request, ctx, work)

    @get("/", guards=[requires("agency", "admin")], summary="Commitments: an agency's own; admins see all")
    async def list_commitments(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> CommitmentPage:
        async with ctx.database.read() as session:
            found, total = await commitments.list_commitments(
                session, request.user.id, request.user.roles, limit=limit, offset=offset
            )
        return CommitmentPage([CommitmentOut.of(c) for c in found], total, limit, offset)

    @post(
        "/{commitment_id:int}/withdraw",
        status_code=200,
        guards=[requires("agency")],
        summary="Agency: withdraw a commitment; its unheld budget is released",
    )
    async def withdraw(
        self, request: Request[Actor, Any, Any], ctx: AppContext, commitment_id: int
    ) -> Response[CommitmentOut]:
        async def work(unit: UnitOfWork) -> CommitmentOut:
            return CommitmentOut.of(
                await commitments.withdraw_commitment(unit, commitment_id, request.user.id)
            )

        return await run_mutation(request, ctx, work)
