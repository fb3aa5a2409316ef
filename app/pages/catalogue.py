"""The public catalogue: centralized sessions with their lots, then every lot, by phase (upcoming,
live, ended), filtered by collateral kind and region.

Each lot is the API's public view of its auction (app/http/auctions/views.py) and each session the
API's own (app/http/sessions/views.py), so the figures are the API's. A lot's region is the province
its collateral's borrowers are registered in (the division code of their credit codes): collateral
has no place of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from app.context import AppContext
from app.http.auctions.schemas import AuctionOut
from app.http.auctions.views import lot_collateral, public_auction
from app.http.sessions.schemas import SessionLotOut, SessionOut
from app.http.sessions.views import session_view
from app.pages.regions import PROVINCES, provinces_of, region_name
from app.pages.rendering import language, page
from app.pages.sessions import viewer_of
from auction.disposal import sessions
from auction.queries import Phase, auctions_in_phase
from transfer.registry.collateral_facts import borrower_divisions
from transfer.rules.collateral import CollateralKind

# The catalogue shows at most this many lots per phase, the most pressing first (a page of the
# API's own size, MAX_PAGE_SIZE); the kind filter applies within them.
CATALOGUE_MAX_LOTS = 200
# And at most this many sessions per phase, by their start (the API's order).
CATALOGUE_MAX_SESSIONS = 20
# A lot's own phase, from the state the public view shows.
_UPCOMING_STATES = frozenset({"scheduled"})
_LIVE_STATES = frozenset({"open", "closing"})


def _phase(value: str | None) -> Phase:
    return Phase(value) if value in {p.value for p in Phase} else Phase.LIVE


def _kind(value: str | None) -> str | None:
    return value if value in {k.value for k in CollateralKind} else None


def _region(value: str | None) -> str | None:
    return value if value in PROVINCES else None


def lot_phase(view: AuctionOut) -> str:
    if view.state in _UPCOMING_STATES:
        return Phase.UPCOMING.value
    return Phase.LIVE.value if view.state in _LIVE_STATES else Phase.ENDED.value


@dataclass(frozen=True, slots=True)
class SessionLotRow:
    lot: SessionLotOut
    phase: str
    regions: list[str]


@dataclass(frozen=True, slots=True)
class SessionRow:
    session: SessionOut
    lots: list[SessionLotRow]
    lots_by_phase: dict[str, int]


class CatalogueController(Controller):
    include_in_schema = False

    @get(["/", "/auctions"], name="catalogue")
    async def catalogue(self, request: Request[Any, Any, Any], ctx: AppContext) -> Template:
        phase = _phase(request.query_params.get("phase"))
        kind = _kind(request.query_params.get("kind"))
        region = _region(request.query_params.get("region"))
        now = ctx.clock()
        async with ctx.database.read() as session:
            auctions, total = await auctions_in_phase(session, phase, now, limit=CATALOGUE_MAX_LOTS)
            collateral = await lot_collateral(session, auctions)
            found, sessions_total = await sessions.list_sessions(
                session, phase=phase.value, now=now, limit=CATALOGUE_MAX_SESSIONS, offset=0
            )
            session_views = [await session_view(session, row, now) for row in found]
            divisions = await borrower_divisions(
                session,
                [
                    *collateral,
                    *(c.id for s in session_views for lot in s.lots for c in lot.auction.lot.collateral),
                ],
            )

        def regions(view: AuctionOut) -> list[str]:
            return provinces_of(divisions.get(item.id) for item in view.lot.collateral)

        def wanted(view: AuctionOut) -> bool:
            return (kind is None or any(c.kind == kind for c in view.lot.collateral)) and (
                region is None or region in regions(view)
            )

        # The public view whoever looks: the catalogue is the same page for everyone.
        views = [public_auction(a, collateral, now) for a in auctions]
        rows = [v for v in views if wanted(v)]
        session_rows = _session_rows(
            session_views, regions, wanted, filtered=kind is not None or region is not None
        )
        lang = language(request)
        shown_regions = provinces_of(
            [*(d for d in divisions.values()), *([region] if region is not None else [])]
        )
        return page(
            request,
            "catalogue.html.j2",
            await viewer_of(request, ctx),
            rows=rows,
            row_regions={v.id: regions(v) for v in rows},
            sessions=session_rows,
            sessions_capped=sessions_total > CATALOGUE_MAX_SESSIONS,
            sessions_cap=CATALOGUE_MAX_SESSIONS,
            phase=phase.value,
            phases=[p.value for p in Phase],
            kind=kind,
            kinds=[k.value for k in CollateralKind],
            region=region,
            regions=shown_regions,
            region_name=lambda code: region_name(code, lang),
            filter_query=_filter_query(kind, region),
            capped=total > CATALOGUE_MAX_LOTS,
            cap=CATALOGUE_MAX_LOTS,
            server_time=now.isoformat(),
        )


def _session_rows(
    views: list[SessionOut],
    regions: Callable[[AuctionOut], list[str]],
    wanted: Callable[[AuctionOut], bool],
    *,
    filtered: bool,
) -> list[SessionRow]:
    """Each session with its lots that pass the filters; a session none of whose lots pass is left
    out while a filter is on."""
    rows = []
    for view in views:
        lots = [SessionLotRow(lot, lot_phase(lot.auction), regions(lot.auction)) for lot in view.lots]
        by_phase = {p.value: sum(1 for lot in lots if lot.phase == p.value) for p in Phase}
        kept = [lot for lot in lots if wanted(lot.lot.auction)]
        if kept or not filtered:
            rows.append(SessionRow(view, kept, by_phase))
    return rows


def _filter_query(kind: str | None, region: str | None) -> str:
    """The filters as they follow the phase tabs' links."""
    return "".join(f"&{name}={value}" for name, value in (("kind", kind), ("region", region)) if value)
