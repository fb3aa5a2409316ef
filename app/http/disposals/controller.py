"""Disposal of defaulted collateral over HTTP: the default, the case, its rounds and its money."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.disposals.schemas import (
    CostIn,
    DefaultIn,
    DisposalOut,
    DisposalPage,
    RoundIn,
    SurplusPayoutIn,
    TakeInPaymentIn,
)
from app.http.input_bounds import Offset, one_of
from app.http.mutation import run_mutation
from auction.disposal import cases, commitment_offers, queries, steps, surplus
from transfer.kernel.money import parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 50


async def answer_case(unit: UnitOfWork, case_id: int, actor: Actor) -> DisposalOut:
    await unit.session.flush()
    return DisposalOut.of(
        await queries.get_case(unit.session, case_id, viewer_id=actor.id, viewer_roles=actor.roles)
    )


class DefaultController(Controller):
    path = "/api/v1/loans"
    tags = ["disposals"]

    @post(
        "/{loan_id:int}/default",
        guards=[requires("bank")],
        summary="Creditor: declare a default; opens a disposal case",
    )
    async def declare(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, data: DefaultIn
    ) -> Response[DisposalOut]:
        spec = data.to_spec()
        auto_advance = ctx.settings.disposal_auto_advance
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> DisposalOut:
            case = await commitment_offers.declare_default(
                unit, loan_id, request.user.id, spec, auto_advance, policy
            )
            return await answer_case(unit, case.id, request.user)

        return await run_mutation(request, ctx, work)


class DisposalController(Controller):
    path = "/api/v1/disposals"
    tags = ["disposals"]

    @get("/", summary="Disposal cases: the creditor's and the holders' own; clearing and admins see all")
    async def list_cases(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        case_state: Annotated[
            str | None, Parameter(query="state", max_length=40, schema_extra=one_of(cases.CaseState))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> DisposalPage:
        wanted = queries.parse_state(case_state)
        async with ctx.database.read() as session:
            views, total = await queries.list_cases(
                session,
                viewer_id=request.user.id,
                viewer_roles=request.user.roles,
                state=wanted,
                limit=limit,
                offset=offset,
            )
        return DisposalPage([DisposalOut.of(view) for view in views], total, limit, offset)

    @get("/{case_id:int}", summary="A disposal case: claim, collateral, steps, proceeds and waterfall")
    async def get_one(self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int) -> DisposalOut:
        async with ctx.database.read() as session:
            view = await queries.get_case(
                session, case_id, viewer_id=request.user.id, viewer_roles=request.user.roles
            )
        return DisposalOut.of(view)

    @post("/{case_id:int}/costs", guards=[requires("bank")], summary="Creditor: a realization cost borne")
    async def add_cost(
        self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int, data: CostIn
    ) -> Response[DisposalOut]:
        amount_fen = parse_yuan(data.amount, "amount")
        bounds = ctx.disposal_policy.claim_bounds

        async def work(unit: UnitOfWork) -> DisposalOut:
            await cases.add_cost(
                unit, case_id, request.user.id, amount_fen, data.description, claim_bounds=bounds
            )
            return await answer_case(unit, case_id, request.user)

        return await run_mutation(request, ctx, work)

    @post(
        "/{case_id:int}/rounds", guards=[requires("bank")], summary="Creditor: the case's next auction round"
    )
    async def create_round(
        self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int, data: RoundIn
    ) -> Response[DisposalOut]:
        spec = data.to_spec()
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> DisposalOut:
            await steps.create_round(unit, case_id, request.user.id, spec, policy)
            return await answer_case(unit, case_id, request.user)

        return await run_mutation(request, ctx, work)

    @post(
        "/{case_id:int}/take-in-payment",
        status_code=200,
        guards=[requires("bank")],
        summary="Creditor: take the collateral in payment, or decline",
    )
    async def take_in_payment(
        self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int, data: TakeInPaymentIn
    ) -> Response[DisposalOut]:
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> DisposalOut:
            await steps.decide_take_in_payment(
                unit, case_id, request.user.id, data.decision == "accept", policy
            )
            return await answer_case(unit, case_id, request.user)

        return await run_mutation(request, ctx, work)

    @post(
        "/{case_id:int}/surplus-payout",
        status_code=200,
        guards=[requires("clearing")],
        summary="Clearing: pay the pledgor its surplus",
    )
    async def surplus_payout(
        self, request: Request[Actor, Any, Any], ctx: AppContext, case_id: int, data: SurplusPayoutIn
    ) -> Response[DisposalOut]:
        async def work(unit: UnitOfWork) -> DisposalOut:
            case = await cases.lock_case(unit, case_id)
            await surplus.pay_out_surplus(
                unit, case, data.reference, request.user.id, ctx.settings.dual_control_above_fen
            )
            return await answer_case(unit, case_id, request.user)

        return await run_mutation(request, ctx, work)
