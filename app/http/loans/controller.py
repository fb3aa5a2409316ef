from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.loans.schemas import LoanCreate, LoanOut, LoanPage, PatentFactsIn
from app.http.mutation import run_mutation
from transfer.annuities import facts, schedules
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import loans
from transfer.rules.fee_waiver import shanghai_trade_date

MAX_PAGE_SIZE = 200


class LoanController(Controller):
    path = "/api/v1/loans"
    tags = ["loans"]

    @post(
        "/", guards=[requires("bank")], summary="Register a loan with its collateral; the caller is creditor"
    )
    async def register(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: LoanCreate
    ) -> Response[LoanOut]:
        spec = data.to_spec()  # money to fen before the transaction: a bad amount is a 422 at once
        calendar, policy = ctx.calendar, ctx.annuity_policy

        async def work(unit: UnitOfWork) -> LoanOut:
            view = await loans.register_loan(unit, request.user.id, spec)
            # Its patents' annuities from today to maturity, in the same transaction.
            await schedules.write_schedules(
                unit, view.loan, view.collateral, calendar, policy, shanghai_trade_date(unit.now)
            )
            return LoanOut.of(view)

        return await run_mutation(request, ctx, work)

    @patch(
        "/{loan_id:int}/collateral/{collateral_id:int}",
        guards=[requires("bank")],
        summary="Creditor: a pledged patent's filing date, grant date and fee reduction",
    )
    async def set_patent_facts(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        loan_id: int,
        collateral_id: int,
        data: PatentFactsIn,
    ) -> Response[LoanOut]:
        given = data.to_facts()
        if given.empty:
            raise DomainError("nothing_to_change", "give filed_on, granted_on or fee_reduction_bps")
        calendar, policy = ctx.calendar, ctx.annuity_policy

        async def work(unit: UnitOfWork) -> LoanOut:
            await facts.set_patent_facts(
                unit, loan_id, collateral_id, request.user.id, given, calendar, policy
            )
            await unit.session.flush()
            return LoanOut.of(
                await loans.get_loan(
                    unit.session, loan_id, viewer_id=request.user.id, viewer_roles=request.user.roles
                )
            )

        return await run_mutation(request, ctx, work)

    @get("/", summary="Own loans (as creditor), paginated")
    async def list_own(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> LoanPage:
        async with ctx.database.read() as session:
            views, total = await loans.list_creditor_loans(
                session, request.user.id, limit=limit, offset=offset
            )
        return LoanPage([LoanOut.of(view) for view in views], total, limit, offset)

    @get("/{loan_id:int}", summary="A loan, for its parties and the center's clearing staff")
    async def get_one(self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int) -> LoanOut:
        async with ctx.database.read() as session:
            view = await loans.get_loan(
                session, loan_id, viewer_id=request.user.id, viewer_roles=request.user.roles
            )
        return LoanOut.of(view)
