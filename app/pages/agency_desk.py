"""The agency desk: an operating agency's buyout offers and commitments with what each holds; its
pools with their assets, licences and revenue by month (a table and bars); the earn-out progress of
each asset. Each table also as CSV. Participants with the agency role, after login.

The figures are the API's: the same services and presenters as GET /api/v1/pools[/{id}],
/disposals/{id}/buyout-offers and /buyout-commitments; what an offer or a commitment holds is its
ledger hold, read as it stands.

Its length is one page's three tables, each with its query, rows and CSV: splitting them would
scatter one page over several files.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.http.auth import Actor
from app.http.buyouts.schemas import CommitmentOut, OfferOut
from app.http.pools import controller as pool_controller
from app.http.pools.schemas import AssetOut, PoolOut
from app.pages import i18n
from app.pages.charts import BarChart, bar_chart
from app.pages.desk_access import PageNumber, Pager, RowPage, desk_viewer, paged_rows, pager, table_csv
from app.pages.formatting import bps_percent, share_percent, spreadsheet_time
from app.pages.rendering import language, page
from auction.operation import commitments, offers, pools, queries, revenue
from auction.operation.queries import PoolView
from auction.operation.revenue import MonthRevenue
from transfer import ledger
from transfer.kernel.errors import NotFound
from transfer.kernel.money import format_fen
from transfer.rules.fee_waiver import shanghai_trade_date

AGENCY = "agency"
# "My" pools and offers even for an agency that is also an admin (who would see every pool).
OWN_BOOK_ROLES = frozenset({AGENCY})
# Offers and commitments, newest first; the rest are on the next pages and in the CSV.
ROWS_PER_PAGE = 25
# A pool shows its assets, licences, revenue chart and earn-outs: a few pools fill a screen.
POOLS_PER_PAGE = 5
# A pool's first assets, the API's default page of them (GET /api/v1/pools/{id}); the CSV has all.
ASSETS_SHOWN = 100
# The revenue chart covers the last twelve calendar months, this one included (and any revenue
# booked with a later date).
REVENUE_MONTHS = 12
# A CSV reads the agency's whole table page after page, this many items at a time.
CSV_PAGE_ITEMS = 200


@dataclass(frozen=True, slots=True)
class HeldOffer:
    offer: OfferOut
    held_fen: int


@dataclass(frozen=True, slots=True)
class HeldCommitment:
    commitment: CommitmentOut
    held_fen: int


@dataclass(frozen=True, slots=True)
class EarnOutLine:
    asset: AssetOut
    paid_fen: int
    cap_fen: int

    @property
    def percent(self) -> int:
        """Whole percent paid of the cap, rounded down (the bar shows the exact fen)."""
        return self.paid_fen * 100 // self.cap_fen if self.cap_fen else 0


@dataclass(frozen=True, slots=True)
class PoolLine:
    pool: PoolOut
    months: list[MonthRevenue]
    revenue_chart: BarChart
    earn_outs: list[EarnOutLine]


def _offset(number: int, size: int) -> int:
    return (number - 1) * size


def revenue_since(today: date) -> date:
    index = today.year * 12 + today.month - 1 - (REVENUE_MONTHS - 1)
    return date(index // 12, index % 12 + 1, 1)


async def _offers(ctx: AppContext, agency: Actor, number: int, size: int) -> tuple[list[HeldOffer], int]:
    async with ctx.database.read() as session:
        found, total = await offers.list_agency_offers(
            session, agency.id, limit=size, offset=_offset(number, size)
        )
        held = await ledger.pending_amounts(session, [offer.hold_id for offer in found])
    return [HeldOffer(OfferOut.of(offer), held.get(offer.hold_id, 0)) for offer in found], total


async def _commitments(
    ctx: AppContext, agency: Actor, number: int, size: int
) -> tuple[list[HeldCommitment], int]:
    async with ctx.database.read() as session:
        found, total = await commitments.list_commitments(
            session, agency.id, OWN_BOOK_ROLES, limit=size, offset=_offset(number, size)
        )
        held = await ledger.pending_amounts(session, [c.hold_id for c in found if c.hold_id is not None])
    return [
        HeldCommitment(CommitmentOut.of(c), held.get(c.hold_id, 0) if c.hold_id is not None else 0)
        for c in found
    ], total


async def _pool_view(
    session: AsyncSession, agency: Actor, pool_id: int, asset_limit: int, asset_offset: int
) -> PoolView:
    return await queries.get_pool(
        session, pool_id, agency.id, OWN_BOOK_ROLES, asset_limit=asset_limit, asset_offset=asset_offset
    )


def _earn_outs(view: PoolView) -> list[EarnOutLine]:
    lines = []
    for asset_view in view.assets:
        asset = asset_view.asset
        if asset.earn_out_cap_fen is not None:
            lines.append(
                EarnOutLine(AssetOut.of(asset_view), asset.earn_out_paid_fen, asset.earn_out_cap_fen)
            )
    return lines


async def _pools(
    ctx: AppContext, agency: Actor, number: int, size: int, t: Callable[..., str]
) -> tuple[list[PoolLine], int]:
    since = revenue_since(shanghai_trade_date(ctx.clock()))
    lines = []
    async with ctx.database.read() as session:
        found, total = await pools.list_pools(
            session, agency.id, OWN_BOOK_ROLES, limit=size, offset=_offset(number, size)
        )
        for pool in found:
            view = await _pool_view(session, agency, pool.id, ASSETS_SHOWN, 0)
            months = await revenue.revenue_by_month(session, pool.id, since=since)
            chart = bar_chart(t("revenue_chart", pool_id=pool.id), [(m.month, m.amount_fen) for m in months])
            lines.append(PoolLine(PoolOut.of(view), months, chart, _earn_outs(view)))
    return lines, total


# --- CSV: one row per line of the table the desk shows, in the page's words (desk_access.table_csv);
# amounts as the API's plain yuan strings, so a spreadsheet sums them ---

OFFERS_HEADER = [
    "csv_offer_id",
    "csv_case_id",
    "csv_pool_id",
    "offer_price",
    "valid_until",
    "state",
    "held_amount",
    "csv_commitment_id",
    "earn_out_share",
    "csv_earn_out_cap",
    "csv_earn_out_until",
    "csv_created_at",
]
COMMITMENTS_HEADER = [
    "csv_commitment_id",
    "csv_pool_id",
    "kinds",
    "price_of_appraisal",
    "csv_max_price_per_case",
    "budget",
    "csv_unheld",
    "offered",
    "spent",
    "csv_released",
    "held_amount",
    "valid_until",
    "state",
]
ASSETS_HEADER = [
    "csv_pool_id",
    "csv_asset_id",
    "csv_collateral_id",
    "kind",
    "registry_number",
    "title",
    "acquisition_price",
    "acquired_at",
    "source_case",
]
LICENCES_HEADER = [
    "csv_pool_id",
    "csv_licence_id",
    "csv_asset_id",
    "licence_kind",
    "licensee",
    "territory",
    "field_of_use",
    "upfront",
    "royalty",
    "csv_starts_on",
    "csv_ends_on",
]
REVENUE_HEADER = ["csv_pool_id", "month", "revenue", "earn_out", "agency_part"]
EARN_OUTS_HEADER = [
    "csv_pool_id",
    "csv_asset_id",
    "registry_number",
    "earn_out_share",
    "paid",
    "cap",
    "until",
]
# How the page lists a commitment's collateral kinds in one cell.
_KIND_SEPARATOR = {"zh": "、", "en": ", "}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _offer_rows(found: Sequence[HeldOffer], lang: str) -> list[list[str]]:
    rows = []
    for line in found:
        o, terms = line.offer, line.offer.earn_out
        rows.append(
            [
                str(o.id),
                str(o.case_id),
                str(o.pool_id),
                o.price,
                spreadsheet_time(o.valid_until),
                i18n.term(o.state, lang),
                format_fen(line.held_fen),
                _text(o.commitment_id),
                "" if terms is None else bps_percent(terms.revenue_share_bps),
                "" if terms is None else terms.cap,
                "" if terms is None else spreadsheet_time(terms.until),
                spreadsheet_time(o.created_at),
            ]
        )
    return rows


def _commitment_rows(found: Sequence[HeldCommitment], lang: str) -> list[list[str]]:
    return [
        [
            str(c.id),
            str(c.pool_id),
            _KIND_SEPARATOR.get(lang, ", ").join(i18n.kind_name(kind, lang) for kind in c.kinds),
            bps_percent(c.price_bps_of_appraisal),
            c.max_price_per_case,
            c.budget,
            c.unheld,
            c.offered,
            c.spent,
            c.released,
            format_fen(line.held_fen),
            spreadsheet_time(c.valid_until),
            i18n.term(c.state, lang),
        ]
        for line in found
        for c in (line.commitment,)
    ]


def _asset_rows(pool: PoolOut, lang: str) -> list[list[str]]:
    return [
        [
            str(pool.id),
            str(a.id),
            str(a.collateral_id),
            i18n.kind_name(a.kind, lang),
            a.registry_number,
            a.title,
            a.acquisition_price,
            spreadsheet_time(a.acquired_at),
            str(a.source_case_id),
        ]
        for a in pool.assets
    ]


def _licence_rows(pool: PoolOut, lang: str) -> list[list[str]]:
    return [
        [
            str(pool.id),
            str(lic.id),
            str(lic.asset_id),
            i18n.term("licence:" + lic.kind, lang),
            _text(lic.licensee_name),
            lic.territory,
            lic.field,
            lic.upfront,
            bps_percent(lic.running_royalty_bps),
            lic.starts_on,
            lic.ends_on,
        ]
        for lic in pool.licenses
    ]


def _earn_out_rows(pool: PoolOut, lang: str) -> list[list[str]]:
    return [
        [
            str(pool.id),
            str(a.id),
            a.registry_number,
            bps_percent(a.earn_out.revenue_share_bps),
            a.earn_out.paid,
            a.earn_out.cap,
            spreadsheet_time(a.earn_out.until),
        ]
        for a in pool.assets
        if a.earn_out is not None
    ]


async def _every_pool(ctx: AppContext, agency: Actor) -> AsyncIterator[int]:
    number = 1
    while True:
        async with ctx.database.read() as session:
            found, total = await pools.list_pools(
                session,
                agency.id,
                OWN_BOOK_ROLES,
                limit=CSV_PAGE_ITEMS,
                offset=_offset(number, CSV_PAGE_ITEMS),
            )
        for pool in found:
            yield pool.id
        if not found or number * CSV_PAGE_ITEMS >= total:
            return
        number += 1


async def _by_asset_page(
    ctx: AppContext, agency: Actor, rows_of: Callable[[PoolOut, str], list[list[str]]], lang: str
) -> AsyncGenerator[list[str], None]:
    """Rows of every asset of every pool, a pool's assets read a page (the API's largest) at a time."""
    async for pool_id in _every_pool(ctx, agency):
        asset_offset = 0
        while True:
            async with ctx.database.read() as session:
                view = await _pool_view(
                    session, agency, pool_id, pool_controller.MAX_ASSET_PAGE_SIZE, asset_offset
                )
            for row in rows_of(PoolOut.of(view), lang):
                yield row
            asset_offset += len(view.assets)
            if not view.assets or asset_offset >= view.asset_total:
                break


async def _licences(ctx: AppContext, agency: Actor, lang: str) -> AsyncGenerator[list[str], None]:
    async for pool_id in _every_pool(ctx, agency):
        async with ctx.database.read() as session:
            # The licences come with the pool's view (its first queries.MAX_LICENCES_SHOWN); one asset
            # is read, as a view always reads some.
            view = await _pool_view(session, agency, pool_id, 1, 0)
        for row in _licence_rows(PoolOut.of(view), lang):
            yield row


async def _revenue(ctx: AppContext, agency: Actor) -> AsyncGenerator[list[str], None]:
    since = revenue_since(shanghai_trade_date(ctx.clock()))
    async for pool_id in _every_pool(ctx, agency):
        async with ctx.database.read() as session:
            months = await revenue.revenue_by_month(session, pool_id, since=since)
        for m in months:
            yield [
                str(pool_id),
                m.month,
                format_fen(m.amount_fen),
                format_fen(m.earn_out_fen),
                format_fen(m.agency_fen),
            ]


def _csv_rows(
    ctx: AppContext, agency: Actor, table: str, lang: str
) -> tuple[list[str], AsyncGenerator[list[str], None]]:
    async def offer_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _offers(ctx, agency, number, CSV_PAGE_ITEMS)
        return _offer_rows(found, lang), len(found), total

    async def commitment_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _commitments(ctx, agency, number, CSV_PAGE_ITEMS)
        return _commitment_rows(found, lang), len(found), total

    paged: dict[str, tuple[list[str], RowPage]] = {
        "offers": (OFFERS_HEADER, offer_page),
        "commitments": (COMMITMENTS_HEADER, commitment_page),
    }
    if table in paged:
        header, read_page = paged[table]
        return header, paged_rows(read_page)
    if table == "assets":
        return ASSETS_HEADER, _by_asset_page(ctx, agency, _asset_rows, lang)
    if table == "earn-outs":
        return EARN_OUTS_HEADER, _by_asset_page(ctx, agency, _earn_out_rows, lang)
    if table == "licences":
        return LICENCES_HEADER, _licences(ctx, agency, lang)
    if table == "revenue":
        return REVENUE_HEADER, _revenue(ctx, agency)
    raise NotFound("table_not_found", f"the agency desk has no table {table!r}", field="table")


class AgencyDeskController(Controller):
    path = "/desk/agency"
    include_in_schema = False

    @get("/", name="agency_desk")
    async def desk(
        self,
        request: Request[Any, Any, Any],
        ctx: AppContext,
        offers_page: PageNumber = 1,
        commitments_page: PageNumber = 1,
        pools_page: PageNumber = 1,
    ) -> Template | Redirect:
        agency = await desk_viewer(request, ctx, AGENCY)
        if not isinstance(agency, Actor):
            return agency
        lang = language(request)
        t = i18n.translator(lang)
        my_offers, offer_total = await _offers(ctx, agency, offers_page, ROWS_PER_PAGE)
        my_commitments, commitment_total = await _commitments(ctx, agency, commitments_page, ROWS_PER_PAGE)
        my_pools, pool_total = await _pools(ctx, agency, pools_page, POOLS_PER_PAGE, t)
        pagers: dict[str, Pager] = {
            "offers": pager(request, "offers_page", offers_page, offer_total, ROWS_PER_PAGE),
            "commitments": pager(
                request, "commitments_page", commitments_page, commitment_total, ROWS_PER_PAGE
            ),
            "pools": pager(request, "pools_page", pools_page, pool_total, POOLS_PER_PAGE),
        }
        return page(
            request,
            "agency.html.j2",
            agency,
            offers=my_offers,
            commitments=my_commitments,
            pools=my_pools,
            pagers=pagers,
            term=lambda value: i18n.term(value, lang),
            share=share_percent,
        )

    @get("/csv/{table:str}", name="agency_desk_csv")
    async def table(
        self, request: Request[Any, Any, Any], ctx: AppContext, table: str
    ) -> Stream | Redirect | Template:
        agency = await desk_viewer(request, ctx, AGENCY)
        if not isinstance(agency, Actor):
            return agency
        lang = language(request)
        header, rows = _csv_rows(ctx, agency, table, lang)
        return table_csv(lang, header, rows, f"agency-{table}.csv")
