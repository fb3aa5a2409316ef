"""The bank desk: a bank's loans with their collateral, IP share and annuity coverage; its listings
and trades; its disposal cases with their steps, deadline, waterfall (a table and bars) and
compensation lines; its alerts. Each table also as CSV. Participants with the bank role, after login.

The figures are the API's: the same services and presenters as GET /api/v1/loans,
/loans/{id}/annuities, /listings, /trades, /disposals and /participants/me/alerts, so the desk and
the API cannot disagree.

Its length is one page's tables, each with its query, rows and CSV, as in the agency desk.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Stream, Template

from app.context import AppContext
from app.http.annuities.schemas import AlertOut, LoanAnnuitiesOut
from app.http.auth import Actor
from app.http.disposals import controller as disposal_controller
from app.http.disposals.schemas import DisposalOut
from app.http.loans.schemas import LoanOut
from app.http.market.schemas import ListingOut, TradeOut
from app.pages import i18n
from app.pages.charts import BarChart, bar_chart
from app.pages.desk_access import PageNumber, Pager, RowPage, desk_viewer, paged_rows, pager, table_csv
from app.pages.formatting import share_percent, spreadsheet_time
from app.pages.rendering import language, page
from auction.disposal import queries as disposal_queries
from auction.disposal.queries import CaseView
from transfer.annuities import alerts
from transfer.annuities import queries as annuity_queries
from transfer.kernel.errors import NotFound
from transfer.market import queries as market_queries
from transfer.registry import loans
from transfer.rules.fee_waiver import shanghai_trade_date

BANK = "bank"
# "My" book even for a bank that is also clearing or admin: the whole market is the clearing desk's.
OWN_BOOK_ROLES = frozenset({BANK})
# Each loan on the page costs one annuity read (its schedule and escrow): a page stays a few dozen reads.
LOANS_PER_PAGE = 20
# A case shows its steps, waterfall, bars and compensation lines: a few cases fill a screen.
CASES_PER_PAGE = 5
# A waterfall bar's label is its part and its payee's name: wider than a month's.
WATERFALL_LABEL_WIDTH_PX = 300
# Listings, trades and alerts, newest first; the rest are on the next pages and in the CSV.
ROWS_PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class LoanLine:
    loan: LoanOut
    annuities: LoanAnnuitiesOut


@dataclass(frozen=True, slots=True)
class CaseLine:
    case: DisposalOut
    waterfall_total_fen: int
    waterfall_chart: BarChart


def _offset(number: int, size: int) -> int:
    return (number - 1) * size


async def _loans(ctx: AppContext, bank: Actor, number: int, size: int) -> tuple[list[LoanLine], int]:
    today = shanghai_trade_date(ctx.clock())
    async with ctx.database.read() as session:
        views, total = await loans.list_creditor_loans(
            session, bank.id, limit=size, offset=_offset(number, size)
        )
        lines = []
        for view in views:
            annuities = await annuity_queries.loan_annuities(
                session,
                view.loan.id,
                viewer_id=bank.id,
                viewer_roles=OWN_BOOK_ROLES,
                today=today,
                policy=ctx.annuity_policy,
            )
            lines.append(LoanLine(LoanOut.of(view), LoanAnnuitiesOut.of(annuities)))
    return lines, total


def case_line(view: CaseView, lang: str) -> CaseLine:
    """A case as the desk shows it: the API's answer, the waterfall's total and its bars."""
    bars = [
        (f"{i18n.term('part:' + line.part, lang)} · {line.payee_name}", line.amount_fen)
        for line in view.waterfall
    ]
    return CaseLine(
        case=DisposalOut.of(view),
        waterfall_total_fen=sum(line.amount_fen for line in view.waterfall),
        waterfall_chart=bar_chart(
            i18n.translator(lang)("waterfall_chart", case_id=view.case.id),
            bars,
            label_width_px=WATERFALL_LABEL_WIDTH_PX,
        ),
    )


async def _cases(ctx: AppContext, bank: Actor, number: int, size: int) -> tuple[Sequence[CaseView], int]:
    async with ctx.database.read() as session:
        return await disposal_queries.list_cases(
            session,
            viewer_id=bank.id,
            viewer_roles=OWN_BOOK_ROLES,
            state=None,
            limit=size,
            offset=_offset(number, size),
        )


async def _listings(ctx: AppContext, bank: Actor, number: int, size: int) -> tuple[list[ListingOut], int]:
    async with ctx.database.read() as session:
        rows, total = await market_queries.list_listings(
            session, status=None, limit=size, offset=_offset(number, size), seller_id=bank.id
        )
    return [ListingOut.of(row) for row in rows], total


async def _trades(ctx: AppContext, bank: Actor, number: int, size: int) -> tuple[list[TradeOut], int]:
    async with ctx.database.read() as session:
        rows, total = await market_queries.list_trades(
            session,
            viewer_id=bank.id,
            is_clearing=False,
            listing_id=None,
            status=None,
            limit=size,
            offset=_offset(number, size),
        )
    return [TradeOut.of(row) for row in rows], total


async def _alerts(ctx: AppContext, bank: Actor, number: int, size: int) -> tuple[list[AlertOut], int]:
    async with ctx.database.read() as session:
        views, total = await alerts.list_alerts(
            session, bank.id, kind=None, limit=size, offset=_offset(number, size)
        )
    return [AlertOut.of(view) for view in views], total


# --- CSV: one row per line of the table the desk shows, in the page's words (desk_access.table_csv);
# amounts as the API's plain yuan strings, so a spreadsheet sums them ---

LOANS_HEADER = [
    "csv_loan_id",
    "borrower",
    "csv_loan_status",
    "outstanding_principal",
    "ip_share",
    "escrow_balance",
    "annuity_coverage",
    "csv_collateral_id",
    "csv_collateral_kind",
    "registry_number",
    "title",
    "appraisal",
    "csv_collateral_state",
]
LISTINGS_HEADER = [
    "csv_listing_id",
    "csv_loan_id",
    "listing_kind",
    "listing_mode",
    "share",
    "asking_price",
    "state",
    "csv_created_at",
]
TRADES_HEADER = [
    "csv_trade_id",
    "csv_listing_id",
    "csv_loan_id",
    "listing_kind",
    "side",
    "share",
    "trade_price",
    "date",
    "state",
    "csv_settled_at",
]
STEPS_HEADER = [
    "csv_case_id",
    "csv_step_number",
    "step_kind",
    "round",
    "csv_auction_id",
    "start_price",
    "starts_at",
    "ends_at",
    "deadline",
    "final_price",
    "result",
]
WATERFALL_HEADER = ["csv_case_id", "csv_line_number", "part", "csv_payee_id", "payee", "amount_yuan", "rule"]
COMPENSATION_HEADER = [
    "csv_case_id",
    "fund",
    "line_kind",
    "csv_holder_id",
    "holder",
    "amount_yuan",
    "csv_created_at",
]
ALERTS_HEADER = [
    "csv_alert_id",
    "alert_kind",
    "csv_loan_id",
    "csv_annuity_id",
    "amount_yuan",
    "due_on",
    "raised_at",
]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _loan_rows(lines: Sequence[LoanLine], lang: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in lines:
        loan = line.loan
        figures = [
            str(loan.id),
            loan.borrower_name,
            i18n.term(loan.status, lang),
            loan.outstanding_principal,
            share_percent(loan.ip_share_ppm),
            line.annuities.escrow_balance,
            line.annuities.coverage,
        ]
        items = [
            [
                str(item.id),
                i18n.kind_name(item.kind, lang),
                item.registry_number,
                item.title,
                item.appraisal,
                i18n.term(item.state, lang),
            ]
            for item in loan.collateral
        ]
        # A loan without collateral is still a line of the book, its collateral cells empty.
        rows.extend([*figures, *cells] for cells in items or [[""] * 6])
    return rows


def _step_rows(cases: Sequence[DisposalOut], lang: str) -> list[list[str]]:
    return [
        [
            str(case.id),
            str(step.number),
            i18n.term(step.kind, lang),
            _text(step.round),
            _text(step.auction_id),
            _text(step.start_price),
            spreadsheet_time(step.starts_at),
            spreadsheet_time(step.ends_at),
            spreadsheet_time(step.deadline_at),
            _text(step.final_price),
            i18n.term(step.result, lang),
        ]
        for case in cases
        for step in case.steps
    ]


def _waterfall_rows(cases: Sequence[DisposalOut], lang: str) -> list[list[str]]:
    return [
        [
            str(case.id),
            str(w.line),
            i18n.term("part:" + w.part, lang),
            _text(w.payee_id),
            w.payee_name,
            w.amount,
            i18n.waterfall_basis(w.rule, lang),
        ]
        for case in cases
        for w in case.waterfall
    ]


def _compensation_rows(cases: Sequence[DisposalOut], lang: str) -> list[list[str]]:
    return [
        [
            str(case.id),
            c.fund_name,
            i18n.term(c.kind, lang),
            str(c.holder_id),
            c.holder_name,
            c.amount,
            spreadsheet_time(c.created_at),
        ]
        for case in cases
        for c in case.compensation
    ]


def _listing_rows(rows: Sequence[ListingOut], lang: str) -> list[list[str]]:
    return [
        [
            str(r.id),
            str(r.loan_id),
            i18n.term(r.kind, lang),
            i18n.term(r.mode, lang),
            share_percent(r.share_ppm),
            r.asking_price,
            i18n.term(r.status, lang),
            spreadsheet_time(r.created_at),
        ]
        for r in rows
    ]


def _trade_rows(rows: Sequence[TradeOut], bank_id: int, lang: str) -> list[list[str]]:
    t = i18n.translator(lang)
    return [
        [
            str(r.id),
            str(r.listing_id),
            str(r.loan_id),
            i18n.term(r.kind, lang),
            t("side_seller") if r.seller_id == bank_id else t("side_buyer"),
            share_percent(r.share_ppm),
            r.price,
            r.trade_date,
            i18n.term(r.status, lang),
            spreadsheet_time(r.settled_at),
        ]
        for r in rows
    ]


def _alert_rows(rows: Sequence[AlertOut], lang: str) -> list[list[str]]:
    return [
        [
            str(r.id),
            i18n.term(r.kind, lang),
            str(r.loan_id),
            _text(r.annuity_id),
            _text(r.amount),
            _text(r.due_on),
            spreadsheet_time(r.created_at),
        ]
        for r in rows
    ]


# A CSV reads the bank's whole table page after page; a page of this many items at a time.
CSV_PAGE_ITEMS = 200
CaseRows = Callable[[Sequence[DisposalOut], str], list[list[str]]]


def _csv_rows(
    ctx: AppContext, bank: Actor, table: str, lang: str
) -> tuple[list[str], AsyncGenerator[list[str], None]]:
    async def loan_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _loans(ctx, bank, number, LOANS_PER_PAGE)
        return _loan_rows(found, lang), len(found), total

    def case_page(rows_of: CaseRows) -> RowPage:
        async def read(number: int) -> tuple[list[list[str]], int, int]:
            # The disposal API's own page bound: a case view is its steps, waterfall and lines.
            found, total = await _cases(ctx, bank, number, disposal_controller.MAX_PAGE_SIZE)
            return rows_of([DisposalOut.of(view) for view in found], lang), len(found), total

        return read

    async def listing_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _listings(ctx, bank, number, CSV_PAGE_ITEMS)
        return _listing_rows(found, lang), len(found), total

    async def trade_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _trades(ctx, bank, number, CSV_PAGE_ITEMS)
        return _trade_rows(found, bank.id, lang), len(found), total

    async def alert_page(number: int) -> tuple[list[list[str]], int, int]:
        found, total = await _alerts(ctx, bank, number, CSV_PAGE_ITEMS)
        return _alert_rows(found, lang), len(found), total

    tables: dict[str, tuple[list[str], RowPage]] = {
        "loans": (LOANS_HEADER, loan_page),
        "listings": (LISTINGS_HEADER, listing_page),
        "trades": (TRADES_HEADER, trade_page),
        "steps": (STEPS_HEADER, case_page(_step_rows)),
        "waterfall": (WATERFALL_HEADER, case_page(_waterfall_rows)),
        "compensation": (COMPENSATION_HEADER, case_page(_compensation_rows)),
        "alerts": (ALERTS_HEADER, alert_page),
    }
    if table not in tables:
        raise NotFound("table_not_found", f"the bank desk has no table {table!r}", field="table")
    header, read_page = tables[table]
    return header, paged_rows(read_page)


class BankDeskController(Controller):
    path = "/desk/bank"
    include_in_schema = False

    @get("/", name="bank_desk")
    async def desk(
        self,
        request: Request[Any, Any, Any],
        ctx: AppContext,
        loans_page: PageNumber = 1,
        cases_page: PageNumber = 1,
        listings_page: PageNumber = 1,
        trades_page: PageNumber = 1,
        alerts_page: PageNumber = 1,
    ) -> Template | Redirect:
        bank = await desk_viewer(request, ctx, BANK)
        if not isinstance(bank, Actor):
            return bank
        lang = language(request)
        my_loans, loan_total = await _loans(ctx, bank, loans_page, LOANS_PER_PAGE)
        case_views, case_total = await _cases(ctx, bank, cases_page, CASES_PER_PAGE)
        my_listings, listing_total = await _listings(ctx, bank, listings_page, ROWS_PER_PAGE)
        my_trades, trade_total = await _trades(ctx, bank, trades_page, ROWS_PER_PAGE)
        my_alerts, alert_total = await _alerts(ctx, bank, alerts_page, ROWS_PER_PAGE)
        pagers: dict[str, Pager] = {
            "loans": pager(request, "loans_page", loans_page, loan_total, LOANS_PER_PAGE),
            "cases": pager(request, "cases_page", cases_page, case_total, CASES_PER_PAGE),
            "listings": pager(request, "listings_page", listings_page, listing_total, ROWS_PER_PAGE),
            "trades": pager(request, "trades_page", trades_page, trade_total, ROWS_PER_PAGE),
            "alerts": pager(request, "alerts_page", alerts_page, alert_total, ROWS_PER_PAGE),
        }
        return page(
            request,
            "bank.html.j2",
            bank,
            loans=my_loans,
            cases=[case_line(view, lang) for view in case_views],
            listings=my_listings,
            trades=my_trades,
            alerts=my_alerts,
            pagers=pagers,
            bank_id=bank.id,
            term=lambda value: i18n.term(value, lang),
            share=share_percent,
        )

    @get("/csv/{table:str}", name="bank_desk_csv")
    async def table(
        self, request: Request[Any, Any, Any], ctx: AppContext, table: str
    ) -> Stream | Redirect | Template:
        bank = await desk_viewer(request, ctx, BANK)
        if not isinstance(bank, Actor):
            return bank
        lang = language(request)
        header, rows = _csv_rows(ctx, bank, table, lang)
        return table_csv(lang, header, rows, f"bank-{table}.csv")
