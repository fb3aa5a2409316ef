"""The clearing desk: fees forgone under the waiver (by month, by institution, charted) and the day's
reconciliation with its breaks; each table also as CSV. Clearing staff only, after login.

The figures come from the services the API's clearing endpoints call (transfer.clearing.reports,
app.http.clearing.controller.reconcile_day), so the desk and the API cannot disagree.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy import select

from app.context import AppContext
from app.http.auth import Actor
from app.http.clearing.controller import ReconciliationOut, check_period, reconcile_day
from app.pages import i18n
from app.pages.charts import bar_chart
from app.pages.desk_access import listed_rows, table_csv
from app.pages.rendering import language, page, to_login
from app.pages.sessions import viewer_of
from transfer.clearing import reports
from transfer.kernel.money import format_fen
from transfer.models import Participant
from transfer.rules.fee_waiver import shanghai_trade_date

CLEARING = frozenset({"clearing"})
# The desk opens on the last twelve calendar months, this one included.
DEFAULT_MONTHS = 12

From = Annotated[date | None, Parameter(query="from")]
To = Annotated[date | None, Parameter(query="to")]
Day = Annotated[date | None, Parameter(query="date")]


@dataclass(frozen=True, slots=True)
class TotalsRow:
    label: str
    gross_fen: int
    waived_fen: int
    charged_fen: int


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _period(ctx: AppContext, period_from: date | None, period_to: date | None) -> tuple[date, date]:
    today = shanghai_trade_date(ctx.clock())
    chosen_to = period_to or today
    chosen_from = period_from or _months_back(chosen_to, DEFAULT_MONTHS)
    check_period(chosen_from, chosen_to)
    return chosen_from, chosen_to


async def _clerk(request: Request[Any, Any, Any], ctx: AppContext) -> Actor | Redirect | Template:
    viewer = await viewer_of(request, ctx)
    if viewer is None:
        return to_login(request)
    if not viewer.has_any(CLEARING):
        t = i18n.translator(language(request))
        return page(
            request, "error.html.j2", viewer, status_code=403, message=f"{t('forbidden_role')}clearing"
        )
    return viewer


async def _fee_tables(
    ctx: AppContext, period_from: date, period_to: date
) -> tuple[reports.FeeWaiverReport, list[TotalsRow], list[TotalsRow]]:
    async with ctx.database.read() as session:
        report = await reports.fee_waiver_report(session, period_from, period_to)
        months = await reports.fee_waiver_by_month(session, period_from, period_to)
        names: dict[int, str] = {}
        if report.by_institution:
            rows = await session.execute(
                select(Participant.id, Participant.name).where(
                    Participant.id.in_(list(report.by_institution))
                )
            )
            names = {int(pid): str(name) for pid, name in rows.all()}
    by_month = [TotalsRow(m, t.gross_fen, t.waived_fen, t.charged_fen) for m, t in months.items()]
    by_institution = [
        TotalsRow(names.get(pid, f"#{pid}"), t.gross_fen, t.waived_fen, t.charged_fen)
        for pid, t in sorted(report.by_institution.items(), key=lambda item: -item[1].waived_fen)
    ]
    return report, by_month, by_institution


# --- CSV: each table as a spreadsheet's CSV (desk_access.table_csv), in the page's words; amounts
# plain yuan strings. The API's own CSV (GET /api/v1/clearing/fee-waivers?format=csv) stays the
# machines' one, codes and all. ---

TOTALS_HEADER = ["gross", "waived", "charged"]
FEE_LINES_HEADER = [
    "csv_fee_line_id",
    "csv_trade_id",
    "csv_trade_date",
    "listing_kind",
    "csv_ip_pledge",
    "trade_price",
    "csv_fee_item",
    "csv_payer",
    "csv_payer_id",
    "gross",
    "waived",
    "charged",
    "csv_fee_rule",
]
RECONCILIATION_HEADER = ["date", "break_kind", "csv_break_code", "break_subject", "break_detail"]
# A spreadsheet holds 1,048,576 rows: the desk's fee lines are the period's every line up to what
# one can open (the API's CSV has no cap).
FEE_LINES_MAX_ROWS = 1_000_000


def _totals_csv(lang: str, first: str, rows: list[TotalsRow], filename: str) -> Stream:
    lines = [
        [r.label, format_fen(r.gross_fen), format_fen(r.waived_fen), format_fen(r.charged_fen)] for r in rows
    ]
    return table_csv(lang, [first, *TOTALS_HEADER], listed_rows(lines), filename)


def _label_or_code(key: str, code: str, t: Callable[..., str]) -> str:
    """A code's label when the labels have one (a fee item of a later schedule may not)."""
    return t(key) if key in i18n.LABELS else code


def _fee_line_row(values: tuple[Any, ...], lang: str) -> list[str]:
    line_id, trade_id, trade_date, kind, ip, price, item, payer, payer_id, gross, waived, charged, rule = (
        values
    )
    t = i18n.translator(lang)
    return [
        str(line_id),
        str(trade_id),
        trade_date.isoformat(),
        i18n.term(kind, lang),
        t("csv_yes") if ip else t("csv_no"),
        format_fen(price),
        _label_or_code(f"csv_fee_item_{item}", item, t),
        _label_or_code(f"side_{payer}", payer, t),
        str(payer_id),
        format_fen(gross),
        format_fen(waived),
        format_fen(charged),
        _label_or_code(f"csv_fee_rule_{rule}", rule, t),
    ]


async def _fee_lines(
    ctx: AppContext, period_from: date, period_to: date, lang: str
) -> AsyncGenerator[list[str], None]:
    async with ctx.database.read() as session:
        async for values in reports.iter_fee_waiver_lines(session, period_from, period_to):
            yield _fee_line_row(tuple(values), lang)


def _reconciliation_rows(result: ReconciliationOut, lang: str) -> list[list[str]]:
    if result.clean:
        # A clean day says so: a file of only a header would read like a failed export.
        return [[result.date, i18n.translator(lang)("clean"), "", "", ""]]
    return [[result.date, i18n.term(b.kind, lang), b.kind, b.subject, b.detail] for b in result.breaks]


class ClearingDeskController(Controller):
    path = "/desk/clearing"
    include_in_schema = False

    @get("/", name="clearing_desk")
    async def desk(
        self,
        request: Request[Any, Any, Any],
        ctx: AppContext,
        period_from: From = None,
        period_to: To = None,
        day: Day = None,
    ) -> Template | Redirect:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        report, by_month, by_institution = await _fee_tables(ctx, chosen_from, chosen_to)
        wanted_day = day or shanghai_trade_date(ctx.clock())
        reconciliation = await reconcile_day(ctx, wanted_day)
        t = i18n.translator(language(request))
        query = f"from={chosen_from}&to={chosen_to}"
        return page(
            request,
            "clearing.html.j2",
            clerk,
            period_from=chosen_from.isoformat(),
            period_to=chosen_to.isoformat(),
            day=wanted_day.isoformat(),
            report=report,
            by_month=by_month,
            by_institution=by_institution,
            month_chart=bar_chart(t("chart_by_month"), [(r.label, r.waived_fen) for r in by_month]),
            institution_chart=bar_chart(
                t("chart_by_institution"), [(r.label, r.waived_fen) for r in by_institution], keep_order=False
            ),
            reconciliation=reconciliation,
            period_query=query,
        )

    @get("/by-month.csv", name="clearing_by_month_csv")
    async def by_month_csv(
        self, request: Request[Any, Any, Any], ctx: AppContext, period_from: From = None, period_to: To = None
    ) -> Stream | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        _, by_month, _ = await _fee_tables(ctx, chosen_from, chosen_to)
        filename = f"fees-by-month-{chosen_from}-{chosen_to}.csv"
        return _totals_csv(language(request), "month", by_month, filename)

    @get("/by-institution.csv", name="clearing_by_institution_csv")
    async def by_institution_csv(
        self, request: Request[Any, Any, Any], ctx: AppContext, period_from: From = None, period_to: To = None
    ) -> Stream | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        _, _, by_institution = await _fee_tables(ctx, chosen_from, chosen_to)
        filename = f"fees-by-institution-{chosen_from}-{chosen_to}.csv"
        return _totals_csv(language(request), "institution", by_institution, filename)

    @get("/fee-lines.csv", name="clearing_fee_lines_csv")
    async def fee_lines(
        self, request: Request[Any, Any, Any], ctx: AppContext, period_from: From = None, period_to: To = None
    ) -> Stream | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        lang = language(request)
        return table_csv(
            lang,
            FEE_LINES_HEADER,
            _fee_lines(ctx, chosen_from, chosen_to, lang),
            f"fee-lines-{chosen_from}-{chosen_to}.csv",
            max_rows=FEE_LINES_MAX_ROWS,
        )

    @get("/reconciliation.csv", name="clearing_reconciliation_csv")
    async def reconciliation_csv(
        self, request: Request[Any, Any, Any], ctx: AppContext, day: Day = None
    ) -> Stream | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        result = await reconcile_day(ctx, day or shanghai_trade_date(ctx.clock()))
        lang = language(request)
        rows = listed_rows(_reconciliation_rows(result, lang))
        return table_csv(lang, RECONCILIATION_HEADER, rows, f"reconciliation-{result.date}.csv")
