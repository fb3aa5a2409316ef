"""The public catalogue: lots by phase (upcoming, live, ended), filtered by collateral kind.

Each row is the API's public view of the lot (app/http/auctions/views.py), collateral included, so
the figures are the API's. Centralized sessions slot in as a grouping of these rows once they exist.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from app.context import AppContext
from app.http.auctions.views import lot_collateral, public_auction
from app.pages.rendering import page
from app.pages.sessions import viewer_of
from auction.queries import Phase, auctions_in_phase
from transfer.rules.collateral import CollateralKind

# The catalogue shows at most this many lots per phase, the most pressing first (a page of the
# API's own size, MAX_PAGE_SIZE); the kind filter applies within them.
CATALOGUE_MAX_LOTS = 200


def _phase(value: str | None) -> Phase:
    return Phase(value) if value in {p.value for p in Phase} else Phase.LIVE


def _kind(value: str | None) -> str | None:
    return value if value in {k.value for k in CollateralKind} else None


class CatalogueController(Controller):
    include_in_schema = False

    @get(["/", "/auctions"], name="catalogue")
    async def catalogue(self, request: Request[Any, Any, Any], ctx: AppContext) -> Template:
        phase = _phase(request.query_params.get("phase"))
        kind = _kind(request.query_params.get("kind"))
        now = ctx.clock()
        async with ctx.database.read() as session:
            auctions, total = await auctions_in_phase(session, phase, now, limit=CATALOGUE_MAX_LOTS)
            collateral = await lot_collateral(session, auctions)
        # The public view whoever looks: the catalogue is the same page for everyone.
        views = [public_auction(a, collateral, now) for a in auctions]
        rows = [v for v in views if kind is None or any(c.kind == kind for c in v.lot.collateral)]
        return page(
            request,
            "catalogue.html.j2",
            await viewer_of(request, ctx),
            rows=rows,
            phase=phase.value,
            phases=[p.value for p in Phase],
            kind=kind,
            kinds=[k.value for k in CollateralKind],
            capped=total > CATALOGUE_MAX_LOTS,
            cap=CATALOGUE_MAX_LOTS,
            server_time=now.isoformat(),
        )
