from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.loans.schemas import LoanCreate, LoanOut, LoanPage
from app.http.mutation import run_mutation
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import loans

MAX_PAGE_SIZE = 200


class LoanController(Controller):
    path = "/api/v1/loans"
    tags = ["loans"]

    @post(
        "/", guards=[requires("bank")], summary="Register a loan with its collateral; the caller is creditor"
    )
    async def register(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: LoanCreate
    ) -> Response[bytes]:
        spec = data.to_spec()  # money to fen before the transaction: a bad amount is a 422 at once

        async def work(unit: UnitOfWork) -> LoanOut:
            return LoanOut.of(await loans.register_loan(unit, request.user.id, spec))

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
