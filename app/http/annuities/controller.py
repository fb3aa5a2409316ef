"""Patent annuities over HTTP: the loan's escrow, its schedule and coverage, the creditor's payment,
and a participant's alerts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.annuities.schemas import (
    AlertOut,
    AlertPage,
    EscrowIn,
    EscrowOut,
    EscrowPayoutIn,
    EscrowPayoutOut,
    LoanAnnuitiesOut,
    PayIn,
    PaymentOut,
)
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset, one_of
from app.http.mutation import run_mutation
from transfer.annuities import alerts, escrow, payments, queries
from transfer.clearing import escrow_payouts
from transfer.kernel.errors import DomainError
from transfer.kernel.money import parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.rules.fee_waiver import shanghai_trade_date

MAX_PAGE_SIZE = 200


class AnnuityController(Controller):
    path = "/api/v1/loans"
    tags = ["annuities"]

    @post(
        "/{loan_id:int}/annuity-escrow",
        guards=[requires("clearing", "bank")],
        summary="Clearing: the enterprise's annuity prepayment received; or the creditor from its funds",
    )
    async def fund_escrow(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, data: EscrowIn
    ) -> Response[EscrowOut]:
        amount_fen = parse_yuan(data.amount, "amount")
        is_clearing = "clearing" in request.user.roles

        async def work(unit: UnitOfWork) -> EscrowOut:
            return EscrowOut.of(
                await escrow.deposit(
                    unit,
                    loan_id,
                    request.user.id,
                    is_clearing=is_clearing,
                    amount_fen=amount_fen,
                    reference=data.reference,
                )
            )

        return await run_mutation(request, ctx, work)

    @post(
        "/{loan_id:int}/annuity-escrow/payout",
        status_code=200,
        guards=[requires("clearing")],
        summary="Clearing: pay the enterprise what a closed escrow holds for it (dual control above the threshold)",
    )
    async def pay_out_escrow(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, data: EscrowPayoutIn
    ) -> Response[EscrowPayoutOut]:
        above_fen = ctx.settings.dual_control_above_fen

        async def work(unit: UnitOfWork) -> EscrowPayoutOut:
            return EscrowPayoutOut.of(
                await escrow_payouts.pay_out(unit, loan_id, data.reference, request.user.id, above_fen)
            )

        return await run_mutation(request, ctx, work)

    @get("/{loan_id:int}/annuities", summary="The loan's patent annuities, escrow balance and coverage")
    async def list_annuities(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int
    ) -> LoanAnnuitiesOut:
        async with ctx.database.read() as session:
            view = await queries.loan_annuities(
                session,
                loan_id,
                viewer_id=request.user.id,
                viewer_roles=request.user.roles,
                today=shanghai_trade_date(ctx.clock()),
                policy=ctx.annuity_policy,
            )
        return LoanAnnuitiesOut.of(view)

    @post(
        "/{loan_id:int}/annuities/{annuity_id:int}/pay",
        status_code=200,
        guards=[requires("bank")],
        summary="Creditor: pay a fee (with its late fee), or restore a lapsed patent, from its funds",
    )
    async def pay(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, annuity_id: int, data: PayIn
    ) -> Response[PaymentOut]:
        policy = ctx.annuity_policy

        async def work(unit: UnitOfWork) -> PaymentOut:
            return PaymentOut.of(
                await payments.pay_by_creditor(unit, loan_id, annuity_id, request.user.id, policy)
            )

        return await run_mutation(request, ctx, work)


class AlertController(Controller):
    path = "/api/v1/participants/me/alerts"
    tags = ["participants"]

    @get("/", summary="Own alerts, newest first: annuities in danger")
    async def list_own(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        kind: Annotated[
            str | None, Parameter(query="kind", max_length=40, schema_extra=one_of(alerts.KINDS))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> AlertPage:
        if kind is not None and kind not in alerts.KINDS:
            raise DomainError("unknown_kind", f"must be one of {', '.join(alerts.KINDS)}", field="kind")
        async with ctx.database.read() as session:
            views, total = await alerts.list_alerts(
                session, request.user.id, kind=kind, limit=limit, offset=offset
            )
        return AlertPage([AlertOut.of(view) for view in views], total, limit, offset)
