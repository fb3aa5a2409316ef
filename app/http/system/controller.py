from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get

from app.context import AppContext
from app.http.problems import problem
from app.http.public_reads import ANONYMOUS_READ

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SystemController(Controller):
    tags = ["system"]

    # Both are also excluded from authentication by path (auth.PUBLIC_PATHS): a key is never read.
    @get("/health", security=ANONYMOUS_READ, summary="Liveness and database reachability")
    async def health(self, request: Request[Any, Any, Any], ctx: AppContext) -> Response[Any]:
        try:
            await ctx.database.ping()
        except Exception as error:  # the answer must say the database is down, not crash
            return problem(
                request, 503, "database_unreachable", f"database is unreachable: {type(error).__name__}"
            )
        return Response({"status": "ok", "database": "ok"})

    @get(
        "/api/v1/clock",
        security=ANONYMOUS_READ,
        summary="Server time; countdowns run on this, never the browser's clock",
    )
    async def clock(self, ctx: AppContext) -> dict[str, str]:
        now = ctx.clock().astimezone(UTC)
        return {
            "now": now.isoformat(),
            "shanghai": now.astimezone(SHANGHAI).isoformat(),
            "shanghai_date": now.astimezone(SHANGHAI).date().isoformat(),
        }
