from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset
from app.http.mutation import run_mutation
from app.http.participants.funds import FundsMovement, FundsRecorded
from app.http.participants.schemas import (
    ParticipantCreate,
    ParticipantCreated,
    ParticipantOut,
    ParticipantPage,
)
from app.http.participants.statements import StatementOut
from transfer import ledger
from transfer.clearing import funds_controls
from transfer.clearing.statements import daily_statement
from transfer.kernel.money import parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import keys, participants
from transfer.rules.fee_waiver import shanghai_trade_date

MAX_PAGE_SIZE = 200


class ParticipantController(Controller):
    path = "/api/v1/participants"
    tags = ["participants"]

    @post("/", guards=[requires("admin")], summary="Create a participant; the API key is shown once")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: ParticipantCreate
    ) -> Response[ParticipantCreated]:
        async def work(unit: UnitOfWork) -> ParticipantCreated:
            created = await participants.create_participant(
                unit,
                name=data.name,
                roles=data.roles,
                credit_code=data.credit_code,
                qualified_investor=data.qualified_investor,
            )
            return ParticipantCreated(
                id=created.participant.id,
                name=created.participant.name,
                roles=sorted(created.participant.role_set),
                api_key=created.api_key,
            )

        return await run_mutation(request, ctx, work)

    @get("/", guards=[requires("admin", "clearing")], summary="List participants, paginated")
    async def list_all(
        self,
        ctx: AppContext,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
        offset: Offset = 0,
    ) -> ParticipantPage:
        async with ctx.database.read() as session:
            rows, total = await participants.list_participants(session, limit=limit, offset=offset)
            prefixes = await keys.first_key_prefixes(session, [p.id for p in rows])
        return ParticipantPage([ParticipantOut.of(p, prefixes.get(p.id)) for p in rows], total, limit, offset)

    @get("/me", summary="Own profile, roles and balances")
    async def me(self, request: Request[Actor, Any, Any], ctx: AppContext) -> ParticipantOut:
        async with ctx.database.read() as session:
            participant = await participants.get_participant(session, request.user.id)
            balances = await ledger.balances(session, participant.id)
            prefixes = await keys.first_key_prefixes(session, [participant.id])
        return ParticipantOut.of(participant, prefixes.get(participant.id), balances)

    @get("/me/statement", summary="Own daily statement (Asia/Shanghai calendar day)")
    async def statement(
        self,
        request: Request[Actor, Any, Any],
        ctx: AppContext,
        day: Annotated[date | None, Parameter(query="date")] = None,
    ) -> StatementOut:
        wanted = day or shanghai_trade_date(ctx.clock())
        async with ctx.database.read() as session:
            return StatementOut.of(await daily_statement(session, request.user.id, wanted, ctx.calendar))

    @post(
        "/{participant_id:int}/funds",
        guards=[requires("clearing")],
        summary="Record funds received (past the day's dual-control total, a second clearing participant approves)",
    )
    async def record_funds(
        self, request: Request[Actor, Any, Any], ctx: AppContext, participant_id: int, data: FundsMovement
    ) -> Response[FundsRecorded]:
        amount_fen = parse_yuan(data.amount, "amount")

        async def work(unit: UnitOfWork) -> FundsRecorded:
            transfer, approval = await funds_controls.receive_controlled(
                unit,
                request.user.id,
                participant_id,
                amount_fen,
                data.reference,
                ctx.settings.dual_control_above_fen,
            )
            return FundsRecorded.of(
                participant_id, transfer, await ledger.current_balances(unit, participant_id), approval
            )

        return await run_mutation(request, ctx, work)

    @post(
        "/{participant_id:int}/withdrawals", guards=[requires("clearing")], summary="Pay out available funds"
    )
    async def withdraw(
        self, request: Request[Actor, Any, Any], ctx: AppContext, participant_id: int, data: FundsMovement
    ) -> Response[FundsRecorded]:
        amount_fen = parse_yuan(data.amount, "amount")

        async def work(unit: UnitOfWork) -> FundsRecorded:
            transfer, approval = await funds_controls.withdraw_controlled(
                unit,
                request.user.id,
                participant_id,
                amount_fen,
                data.reference,
                ctx.settings.dual_control_above_fen,
            )
            return FundsRecorded.of(
                participant_id,
                transfer,
                await ledger.current_balances(unit, participant_id),
                approval,
            )

        return await run_mutation(request, ctx, work)

    @post(
        "/{participant_id:int}/suspend",
        status_code=200,
        guards=[requires("admin")],
        summary="Suspend a participant: every key refused; its bids, offers and holds stay",
    )
    async def suspend(
        self, request: Request[Actor, Any, Any], ctx: AppContext, participant_id: int
    ) -> Response[ParticipantOut]:
        return await self._set_suspended(request, ctx, participant_id, suspended=True)

    @post(
        "/{participant_id:int}/reinstate",
        status_code=200,
        guards=[requires("admin")],
        summary="Reinstate a suspended participant",
    )
    async def reinstate(
        self, request: Request[Actor, Any, Any], ctx: AppContext, participant_id: int
    ) -> Response[ParticipantOut]:
        return await self._set_suspended(request, ctx, participant_id, suspended=False)

    @staticmethod
    async def _set_suspended(
        request: Request[Actor, Any, Any], ctx: AppContext, participant_id: int, *, suspended: bool
    ) -> Response[ParticipantOut]:
        async def work(unit: UnitOfWork) -> ParticipantOut:
            unit.after_commit(ctx.key_cache.forget_after_commit)
            participant = await participants.set_suspended(unit, participant_id, suspended=suspended)
            prefixes = await keys.first_key_prefixes(unit.session, [participant_id])
            return ParticipantOut.of(participant, prefixes.get(participant_id))

        return await run_mutation(request, ctx, work)
