"""The clearing desk: fees forgone under the waiver (by month, by institution, charted) and the day's
reconciliation with its breaks; each table also as CSV. Clearing staff only, after login.

The figures come from the services the API's clearing endpoints call (transfer.clearing.reports,
app.http.clearing.controller.reconcile_day), so the desk and the API cannot disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Redirect, Response, Stream, Template
from sqlalchemy import select

from app.context import AppContext
from app.http.auth import Actor
from app.http.clearing.controller import check_period, fee_lines_csv, reconcile_day
from app.http.csv_stream import CsvStream
from app.pages import i18n
from app.pages.charts import bar_chart
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


def _csv(header: list[str], rows: Iterable[list[str]], filename: str) -> Response[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _totals_csv(first: str, rows: list[TotalsRow], filename: str) -> Response[bytes]:
    lines = [
        [r.label, format_fen(r.gross_fen), format_fen(r.waived_fen), format_fen(r.charged_fen)] for r in rows
    ]
    return _csv([first, "gross", "waived", "charged"], lines, filename)


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
    ) -> Response[bytes] | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        _, by_month, _ = await _fee_tables(ctx, chosen_from, chosen_to)
        return _totals_csv("month", by_month, f"fees-by-month-{chosen_from}-{chosen_to}.csv")

    @get("/by-institution.csv", name="clearing_by_institution_csv")
    async def by_institution_csv(
        self, request: Request[Any, Any, Any], ctx: AppContext, period_from: From = None, period_to: To = None
    ) -> Response[bytes] | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        _, _, by_institution = await _fee_tables(ctx, chosen_from, chosen_to)
        return _totals_csv(
            "institution", by_institution, f"fees-by-institution-{chosen_from}-{chosen_to}.csv"
        )

    @get("/fee-lines.csv", name="clearing_fee_lines_csv")
    async def fee_lines(
        self, request: Request[Any, Any, Any], ctx: AppContext, period_from: From = None, period_to: To = None
    ) -> Stream | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        chosen_from, chosen_to = _period(ctx, period_from, period_to)
        return CsvStream(
            fee_lines_csv(ctx, chosen_from, chosen_to), f"fee-lines-{chosen_from}-{chosen_to}.csv"
        )

    @get("/reconciliation.csv", name="clearing_reconciliation_csv")
    async def reconciliation_csv(
        self, request: Request[Any, Any, Any], ctx: AppContext, day: Day = None
    ) -> Response[bytes] | Redirect | Template:
        clerk = await _clerk(request, ctx)
        if not isinstance(clerk, Actor):
            return clerk
        result = await reconcile_day(ctx, day or shanghai_trade_date(ctx.clock()))
        rows = [[result.date, b.kind, b.subject, b.detail] for b in result.breaks]
        return _csv(["date", "kind", "subject", "detail"], rows, f"reconciliation-{result.date}.csv")
