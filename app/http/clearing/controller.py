from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from app.context import AppContext
from app.http.auth import requires
from app.http.csv_stream import CsvStream
from auction.reconcile import auction_breaks
from transfer.clearing import reports
from transfer.kernel.errors import DomainError
from transfer.kernel.money import format_fen
from transfer.rules.fee_waiver import shanghai_trade_date

MAX_PERIOD_DAYS = 3_660
MAX_PAGE_SIZE = 1_000
CSV_HEADER = [
    "line_id",
    "trade_id",
    "trade_date",
    "kind",
    "is_ip_pledge",
    "price",
    "item",
    "payer",
    "payer_id",
    "gross",
    "waived",
    "charged",
    "rule",
]


class TotalsOut(msgspec.Struct):
    gross: str
    waived: str
    charged: str

    @classmethod
    def of(cls, totals: reports.FeeTotals) -> TotalsOut:
        return cls(
            format_fen(totals.gross_fen), format_fen(totals.waived_fen), format_fen(totals.charged_fen)
        )


class FeeLineRow(msgspec.Struct):
    line_id: int
    trade_id: int
    trade_date: str
    kind: str
    is_ip_pledge: bool
    price: str
    item: str
    payer: str
    payer_id: int
    gross: str
    waived: str
    charged: str
    rule: str


class FeeWaiverOut(msgspec.Struct):
    period_from: str
    period_to: str
    trades: int
    totals: TotalsOut
    by_institution: dict[str, TotalsOut]
    by_kind: dict[str, TotalsOut]
    by_item: dict[str, TotalsOut]
    lines: list[FeeLineRow]
    next_after_line_id: int | None


class BreakOut(msgspec.Struct):
    kind: str
    subject: str
    detail: str


class ReconciliationOut(msgspec.Struct):
    date: str
    clean: bool
    summary: str
    trades_settled: int
    trades_created: int
    funds_records: int
    ledger_sum: str
    breaks: list[BreakOut]


def _row(values: tuple[Any, ...]) -> list[str]:
    line_id, trade_id, trade_date, kind, ip, price, item, payer, payer_id, gross, waived, charged, rule = (
        values
    )
    return [
        str(line_id),
        str(trade_id),
        trade_date.isoformat(),
        kind,
        "true" if ip else "false",
        format_fen(price),
        item,
        payer,
        str(payer_id),
        format_fen(gross),
        format_fen(waived),
        format_fen(charged),
        rule,
    ]


def _line_row(values: tuple[Any, ...]) -> FeeLineRow:
    text = dict(zip(CSV_HEADER, _row(values), strict=True))
    return FeeLineRow(
        line_id=int(values[0]),
        trade_id=int(values[1]),
        trade_date=text["trade_date"],
        kind=text["kind"],
        is_ip_pledge=bool(values[4]),
        price=text["price"],
        item=text["item"],
        payer=text["payer"],
        payer_id=int(values[8]),
        gross=text["gross"],
        waived=text["waived"],
        charged=text["charged"],
        rule=text["rule"],
    )


def check_period(period_from: date, period_to: date) -> None:
    if period_to < period_from:
        raise DomainError("period_reversed", "to must not be before from", field="to")
    if (period_to - period_from).days > MAX_PERIOD_DAYS:
        raise DomainError("period_too_long", f"a report covers at most {MAX_PERIOD_DAYS} days", field="to")


async def fee_lines_csv(ctx: AppContext, period_from: date, period_to: date) -> AsyncIterator[str]:
    """Every fee line of the period as CSV, in chunks (the API's ?format=csv and the clearing desk)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    async with ctx.database.read() as session:
        async for values in reports.iter_fee_waiver_lines(session, period_from, period_to):
            writer.writerow(_row(tuple(values)))
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


async def reconcile_day(ctx: AppContext, wanted: date) -> ReconciliationOut:
    """The day's reconciliation with the house's breaks, as the API and the clearing desk show it."""
    async with ctx.database.read() as session:
        result = await reports.reconcile(
            session,
            wanted,
            waiver_start=ctx.settings.fee_waiver_start,
            waiver_years=ctx.settings.fee_waiver_years,
        )
        result.breaks += await auction_breaks(session, ctx.clock(), ctx.settings.auction_close_lag_break_s)
    return ReconciliationOut(
        date=wanted.isoformat(),
        clean=result.clean,
        summary="clean: no breaks" if result.clean else f"{len(result.breaks)} break(s)",
        trades_settled=result.trades_settled,
        trades_created=result.trades_created,
        funds_records=result.funds_records,
        ledger_sum=format_fen(result.ledger_sum_fen),
        breaks=[BreakOut(b.kind, b.subject, b.detail) for b in result.breaks],
    )


class ClearingController(Controller):
    path = "/api/v1/clearing"
    tags = ["clearing"]
    guards = [requires("clearing")]

    @get("/fee-waivers", summary="Every trade's fee lines in a period, with totals; ?format=csv for CSV")
    async def fee_waivers(
        self,
        ctx: AppContext,
        period_from: Annotated[date, Parameter(query="from")],
        period_to: Annotated[date, Parameter(query="to")],
        output_format: Annotated[str, Parameter(query="format", pattern="^(json|csv)$")] = "json",
        after_line_id: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE)] = 200,
    ) -> Any:
        check_period(period_from, period_to)
        if output_format == "csv":
            return CsvStream(
                fee_lines_csv(ctx, period_from, period_to), f"fee-waivers-{period_from}-{period_to}.csv"
            )
        async with ctx.database.read() as session:
            report = await reports.fee_waiver_report(session, period_from, period_to)
            lines = await reports.fee_waiver_lines(
                session, period_from, period_to, after_line_id=after_line_id, limit=limit
            )
        return FeeWaiverOut(
            period_from=period_from.isoformat(),
            period_to=period_to.isoformat(),
            trades=report.trade_count,
            totals=TotalsOut.of(report.totals),
            by_institution={str(k): TotalsOut.of(v) for k, v in sorted(report.by_institution.items())},
            by_kind={k: TotalsOut.of(v) for k, v in sorted(report.by_kind.items())},
            by_item={k: TotalsOut.of(v) for k, v in sorted(report.by_item.items())},
            lines=[_line_row(tuple(line)) for line in lines],
            next_after_line_id=lines[-1][0] if len(lines) == limit else None,
        )

    @get("/reconciliation", summary="Trades vs ledger vs funds records for a day: breaks, or clean")
    async def reconciliation(
        self, ctx: AppContext, day: Annotated[date | None, Parameter(query="date")] = None
    ) -> ReconciliationOut:
        return await reconcile_day(ctx, day or shanghai_trade_date(ctx.clock()))
