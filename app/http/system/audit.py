from __future__ import annotations

import msgspec
from litestar import Controller, get

from app.context import AppContext
from app.http.auth import requires
from app.scheduler import seal_audit_events
from transfer.kernel.audit import verify_chain


class AuditVerification(msgspec.Struct):
    ok: bool
    events_checked: int
    first_broken_seq: int | None
    reason: str | None
    # Committed but not chained yet: they wait for a transaction older than theirs to end.
    pending_events: int


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/verify", guards=[requires("admin", "clearing")], summary="Re-hash the audit chain")
    async def verify(self, ctx: AppContext) -> AuditVerification:
        # Chain what has committed so far, so the answer covers every event up to now.
        await seal_audit_events(ctx)
        async with ctx.database.read() as session:
            report = await verify_chain(session)
        return AuditVerification(
            report.ok, report.events_checked, report.first_broken_seq, report.reason, report.pending_events
        )
