"""Dual control over HTTP: clearing lists the requests waiting, and a second clearing participant
approves or rejects each; the decision and what it sets moving happen in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset, multi_line_text, one_of
from app.http.mutation import run_mutation
from auction.disposal import cases, surplus
from transfer.clearing import approvals, escrow_payouts, funds_controls
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.approvals import Approval

MAX_PAGE_SIZE = 100


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class ApprovalOut(msgspec.Struct):
    id: int
    kind: str
    subject: str
    amount: str
    reference: str
    state: str
    maker_id: int
    checker_id: int | None
    reason: str | None
    created_at: str
    decided_at: str | None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalOut:
        return cls(
            id=approval.id,
            kind=approval.kind,
            subject=approval.subject,
            amount=format_fen(approval.amount_fen),
            reference=approval.reference,
            state=approval.state,
            maker_id=approval.maker_id,
            checker_id=approval.checker_id,
            reason=approval.reason,
            created_at=approval.created_at.isoformat(),
            decided_at=_iso(approval.decided_at),
        )


class ApprovalPage(msgspec.Struct):
    items: list[ApprovalOut]
    total: int
    limit: int
    offset: int


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, multi_line_text(approvals.MAX_REASON_LENGTH, min_length=1)]


async def _surplus_payout(unit: UnitOfWork, approval: Approval) -> None:
    if approval.state != approvals.APPROVED:
        return  # the money stays in the pledgor account; clearing may ask again
    case = await cases.lock_case(unit, int(approval.subject.removeprefix("disposal:")))
    await surplus.pay_approved(unit, case, approval)


# What each kind of request sets moving once decided, in the decision's transaction.
CARRY_OUT: dict[str, Callable[[UnitOfWork, Approval], Awaitable[None]]] = {
    approvals.WITHDRAWAL: funds_controls.carry_out_withdrawal,
    approvals.RECEIPT: funds_controls.carry_out_receipt,
    approvals.SURPLUS_PAYOUT: _surplus_payout,
    approvals.ESCROW_PAYOUT: escrow_payouts.carry_out,
}


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ["clearing"]

    @get("/", guards=[requires("clearing", "admin")], summary="Requests under dual control, newest first")
    async def list_approvals(
        self,
        ctx: AppContext,
        approval_state: Annotated[
            str | None, Parameter(query="state", max_length=16, schema_extra=one_of(approvals.STATES))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> ApprovalPage:
        async with ctx.database.read() as session:
            rows, total = await approvals.list_approvals(
                session, state=approval_state, limit=limit, offset=offset
            )
        return ApprovalPage([ApprovalOut.of(row) for row in rows], total, limit, offset)

    @get(
        "/{approval_id:int}", guards=[requires("clearing", "admin")], summary="One request under dual control"
    )
    async def get_one(self, ctx: AppContext, approval_id: int) -> ApprovalOut:
        async with ctx.database.read() as session:
            return ApprovalOut.of(await approvals.get_approval(session, approval_id))

    @post(
        "/{approval_id:int}/approve",
        status_code=200,
        guards=[requires("clearing")],
        summary="Clearing (not the maker): approve, and the money moves",
    )
    async def approve(
        self, request: Request[Actor, Any, Any], ctx: AppContext, approval_id: int
    ) -> Response[ApprovalOut]:
        return await self._decide(request, ctx, approval_id, approve=True, reason=None)

    @post(
        "/{approval_id:int}/reject",
        status_code=200,
        guards=[requires("clearing")],
        summary="Clearing (the maker too): reject, and a held withdrawal is released",
    )
    async def reject(
        self, request: Request[Actor, Any, Any], ctx: AppContext, approval_id: int, data: RejectIn
    ) -> Response[ApprovalOut]:
        return await self._decide(request, ctx, approval_id, approve=False, reason=data.reason)

    async def _decide(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        approval_id: int,
        *,
        approve: bool,
        reason: str | None,
    ) -> Response[ApprovalOut]:
        async def work(unit: UnitOfWork) -> ApprovalOut:
            approval = await approvals.decide(
                unit, approval_id, request.user.id, approve=approve, reason=reason
            )
            await CARRY_OUT[approval.kind](unit, approval)
            return ApprovalOut.of(approval)

        return await run_mutation(request, ctx, work)
