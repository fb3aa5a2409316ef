"""Risk-compensation funds over HTTP: admins make them, clearing funds and reads them, creditors enrol loans."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.compensation.schemas import (
    REPORT_HEADER,
    CompensationLineOut,
    EnrolIn,
    EnrolmentOut,
    FundDetailOut,
    FundIn,
    FundOut,
    FundPage,
    report_row,
)
from app.http.csv_stream import CsvStream
from app.http.input_bounds import Offset
from app.http.mutation import run_mutation
from app.http.participants.funds import FundsMovement
from transfer.compensation import enrolment, funds, queries
from transfer.kernel.money import format_fen, parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 100
MAX_REPORT_PAGE = 1_000


class FundedOut(msgspec.Struct):
    fund_id: int
    transfer_id: str
    amount: str
    reference: str
    balance: str


class ReportOut(msgspec.Struct):
    fund_id: int
    lines: list[CompensationLineOut]
    next_after_line_id: int | None


async def _report_csv(ctx: AppContext, fund_id: int) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_HEADER)
    async with ctx.database.read() as session:
        async for chunk in queries.report_lines(session, fund_id):
            for row in chunk:
                writer.writerow(report_row(row))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


class CompensationFundController(Controller):
    path = "/api/v1/compensation-funds"
    tags = ["compensation"]

    @post("/", guards=[requires("admin")], summary="Admin: a risk-compensation fund with its own account")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: FundIn
    ) -> Response[FundOut]:
        spec = data.to_spec()

        async def work(unit: UnitOfWork) -> FundOut:
            return FundOut.of(await funds.create_fund(unit, spec, request.user.id))

        return await run_mutation(request, ctx, work)

    @get("/", guards=[requires("admin", "clearing")], summary="Compensation funds")
    async def list_funds(
        self,
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> FundPage:
        async with ctx.database.read() as session:
            found, total = await queries.list_funds(session, limit=limit, offset=offset)
        return FundPage([FundOut.of(fund) for fund in found], total, limit, offset)

    @get(
        "/{fund_id:int}",
        guards=[requires("admin", "clearing")],
        summary="A fund: balance, advances, clearings, owed amounts, exposure, its enrolled loans",
    )
    async def get_one(
        self,
        ctx: AppContext,
        fund_id: int,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> FundDetailOut:
        async with ctx.database.read() as session:
            view = await queries.fund_view(session, fund_id, limit=limit, offset=offset)
        return FundDetailOut.of(view, limit, offset)

    @post("/{fund_id:int}/funds", guards=[requires("clearing")], summary="Clearing: money paid into a fund")
    async def fund(
        self, request: Request[Actor, Any, Any], ctx: AppContext, fund_id: int, data: FundsMovement
    ) -> Response[FundedOut]:
        amount_fen = parse_yuan(data.amount, "amount")

        async def work(unit: UnitOfWork) -> FundedOut:
            fund = await funds.get_fund(unit, fund_id)
            transfer = await funds.fund_money(unit, fund.id, amount_fen, data.reference)
            return FundedOut(
                fund_id=fund.id,
                transfer_id=transfer.id,
                amount=format_fen(transfer.amount_fen),
                reference=data.reference,
                balance=format_fen(await funds.fund_balance_fen(unit, fund, lock=False)),
            )

        return await run_mutation(request, ctx, work)

    @get(
        "/{fund_id:int}/report",
        guards=[requires("admin", "clearing")],
        summary="Every line of a fund (advances, top-ups, refunds, owed); ?format=csv for CSV",
    )
    async def report(
        self,
        ctx: AppContext,
        fund_id: int,
        output_format: Annotated[str, Parameter(query="format", pattern="^(json|csv)$")] = "json",
        after_line_id: Annotated[int, Parameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_REPORT_PAGE)] = 200,
    ) -> Any:
        async with ctx.database.read() as session:
            view = await queries.fund_view(session, fund_id, limit=1)
            if output_format == "json":
                rows = await queries.report_page(
                    session, view.fund.id, after_line_id=after_line_id, limit=limit
                )
                last = rows[-1].line.id if len(rows) == limit else None
                return ReportOut(view.fund.id, [CompensationLineOut.of(row) for row in rows], last)
        return CsvStream(_report_csv(ctx, view.fund.id), f"compensation-fund-{view.fund.id}.csv")


class LoanCompensationController(Controller):
    path = "/api/v1/loans"
    tags = ["compensation"]

    @post(
        "/{loan_id:int}/compensation",
        guards=[requires("bank")],
        summary="Creditor: enrol a performing loan in a compensation fund",
    )
    async def enrol(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, data: EnrolIn
    ) -> Response[EnrolmentOut]:
        async def work(unit: UnitOfWork) -> EnrolmentOut:
            return EnrolmentOut.of(await enrolment.enrol(unit, loan_id, request.user.id, data.fund_id))

        return await run_mutation(request, ctx, work)
