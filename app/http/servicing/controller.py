from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, post

from app.context import AppContext
from app.http.auth import Actor
from app.http.input_bounds import YuanOrZero, check_date
from app.http.mutation import run_mutation
from auction.disposal.steps import after_repayment
from transfer.kernel.money import format_fen, parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import Loan
from transfer.servicing.repayments import record_repayment


class RepaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    principal: YuanOrZero
    interest: YuanOrZero
    received_on: date


class HolderLineOut(msgspec.Struct):
    holder_id: int
    share_ppm: int
    principal: str
    interest: str
    total: str


class RepaymentOut(msgspec.Struct):
    repayment_id: int
    loan_id: int
    principal: str
    interest: str
    received_on: str
    outstanding_principal: str
    holders: int
    distribution: list[HolderLineOut]


# A distribution answer lists at most this many holders; the ledger and the audit have them all.
MAX_LINES_IN_ANSWER = 1_000


class ServicingController(Controller):
    path = "/api/v1/loans"
    tags = ["servicing"]

    @post("/{loan_id:int}/repayments", summary="Servicer: a repayment, distributed to holders to the fen")
    async def repay(
        self, request: Request[Actor, Any, Any], ctx: AppContext, loan_id: int, data: RepaymentIn
    ) -> Response[RepaymentOut]:
        principal_fen = parse_yuan(data.principal, "principal", allow_zero=True)
        interest_fen = parse_yuan(data.interest, "interest", allow_zero=True)
        check_date(data.received_on, "received_on")
        policy = ctx.disposal_policy
        interest_tolerance_bps = ctx.settings.repayment_interest_tolerance_bps

        async def work(unit: UnitOfWork) -> RepaymentOut:
            recorded = await record_repayment(
                unit,
                loan_id,
                request.user.id,
                principal_fen=principal_fen,
                interest_fen=interest_fen,
                received_on=data.received_on,
                interest_tolerance_bps=interest_tolerance_bps,
                lines_limit=MAX_LINES_IN_ANSWER,
            )
            # A loan in disposal: interest lowers its claim, and a repayment in full cures the case.
            await after_repayment(unit, loan_id, interest_fen, policy)
            # Locked and updated by record_repayment: the identity map returns it, no query.
            loan = await unit.session.get(Loan, loan_id)
            assert loan is not None
            return RepaymentOut(
                recorded.repayment.id,
                loan_id,
                format_fen(principal_fen),
                format_fen(interest_fen),
                data.received_on.isoformat(),
                format_fen(loan.outstanding_principal_fen),
                recorded.holder_count,
                [
                    HolderLineOut(
                        s.holder_id,
                        s.share_ppm,
                        format_fen(s.principal_fen),
                        format_fen(s.interest_fen),
                        format_fen(s.principal_fen + s.interest_fen),
                    )
                    for s in recorded.first_lines
                ],
            )

        return await run_mutation(request, ctx, work)
