"""Centralized sessions over HTTP: an admin schedules them, anyone browses them, bidders register."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.http.auth import Actor, requires
from app.http.input_bounds import Offset, one_of
from app.http.mutation import run_mutation
from app.http.public_reads import ANONYMOUS_READ
from app.http.sessions.schemas import (
    LotRegistrationOut,
    SessionIn,
    SessionOut,
    SessionPage,
    SessionRegistrationIn,
    SessionRegistrationOut,
    SessionSummaryOut,
)
from app.http.sessions.views import session_view
from auction.disposal import sessions
from auction.disposal.models import DisposalSession
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 100


def _summary(session: DisposalSession) -> SessionSummaryOut:
    return SessionSummaryOut(
        session.id,
        session.title,
        session.starts_at.isoformat(),
        session.first_lot_ends_at.isoformat(),
        session.stagger_s,
        session.lot_count,
    )


async def _session_out(db: AsyncSession, session: DisposalSession, ctx: AppContext) -> SessionOut:
    return await session_view(db, session, ctx.clock())


class SessionController(Controller):
    path = "/api/v1/sessions"
    tags = ["sessions"]

    @post(
        "/",
        guards=[requires("admin")],
        summary="Admin: a centralized session of disposal lots, ends staggered",
    )
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: SessionIn
    ) -> Response[SessionOut]:
        spec = data.to_spec()
        policy = ctx.disposal_policy
        stagger_s = ctx.settings.session_stagger_s

        async def work(unit: UnitOfWork) -> SessionOut:
            session = await sessions.create_session(unit, request.user.id, spec, policy, stagger_s)
            await unit.session.flush()
            return await _session_out(unit.session, session, ctx)

        return await run_mutation(request, ctx, work)

    @get("/", security=ANONYMOUS_READ, summary="Sessions by state (upcoming, live, ended), paginated; anyone")
    async def list_sessions(
        self,
        ctx: AppContext,
        phase: Annotated[
            str | None, Parameter(query="state", max_length=20, schema_extra=one_of(sessions.SessionPhase))
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
        offset: Offset = 0,
    ) -> SessionPage:
        async with ctx.database.read() as db:
            rows, total = await sessions.list_sessions(
                db, phase=phase, now=ctx.clock(), limit=limit, offset=offset
            )
        return SessionPage([_summary(row) for row in rows], total, limit, offset)

    @get(
        "/{session_id:int}",
        security=ANONYMOUS_READ,
        summary="A session's lots: state, price, leading paddle, end; anyone",
    )
    async def detail(self, ctx: AppContext, session_id: int) -> SessionOut:
        async with ctx.database.read() as db:
            return await _session_out(db, await sessions.get_session(db, session_id), ctx)

    @post(
        "/{session_id:int}/registrations",
        guards=[requires("bidder")],
        summary="Bidder: one paddle, a deposit per lot",
    )
    async def register(
        self, request: Request[Actor, Any, Any], ctx: AppContext, session_id: int, data: SessionRegistrationIn
    ) -> Response[SessionRegistrationOut]:
        policy = ctx.disposal_policy

        async def work(unit: UnitOfWork) -> SessionRegistrationOut:
            registered = await sessions.register_for_session(
                unit, session_id, request.user.id, data.lot_ids, policy
            )
            paddle = registered[0][1].paddle
            return SessionRegistrationOut(
                session_id,
                paddle,
                [
                    LotRegistrationOut(
                        lot.id,
                        registration.auction_id,
                        format_fen(registration.deposit_fen),
                        registration.deposit_state,
                    )
                    for lot, registration in sorted(registered, key=lambda pair: pair[0].position)
                ],
            )

        return await run_mutation(request, ctx, work)
