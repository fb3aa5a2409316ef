"""Clearing reports: fees forgone under the waiver (here), and the day's reconciliation
(transfer.clearing.reconciliation, re-exported here).

The fee-waiver report is set-based SQL (one GROUP BY over the period's fee lines and trades), so it
runs in one pass over a period whatever the number of trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.clearing.reconciliation import MAX_BREAKS_PER_KIND as MAX_BREAKS_PER_KIND
from transfer.clearing.reconciliation import Break as Break
from transfer.clearing.reconciliation import Reconciliation as Reconciliation
from transfer.clearing.reconciliation import reconcile as reconcile
from transfer.models.market import FeeLine, Trade

CSV_BATCH_SIZE = 5_000


@dataclass(frozen=True, slots=True)
class FeeTotals:
    gross_fen: int
    waived_fen: int
    charged_fen: int


@dataclass(frozen=True, slots=True)
class FeeWaiverReport:
    period_from: date
    period_to: date
    trade_count: int
    totals: FeeTotals
    by_institution: dict[int, FeeTotals]
    by_kind: dict[str, FeeTotals]
    by_item: dict[str, FeeTotals]


async def fee_waiver_report(session: AsyncSession, period_from: date, period_to: date) -> FeeWaiverReport:
    """Trades with trade_date in [period_from, period_to] (inclusive, Asia/Shanghai calendar).

    One pass over the period's fee lines, grouped by (payer, kind, item): a few thousand rows at most,
    from which every total is summed here.
    """
    in_period = and_(Trade.trade_date >= period_from, Trade.trade_date <= period_to)
    grouped = await session.execute(
        select(
            FeeLine.payer_id,
            Trade.kind,
            FeeLine.item,
            func.sum(FeeLine.gross_fen),
            func.sum(FeeLine.waived_fen),
            func.sum(FeeLine.charged_fen),
        )
        .select_from(FeeLine)
        .join(Trade, Trade.id == FeeLine.trade_id)
        .where(in_period)
        .group_by(FeeLine.payer_id, Trade.kind, FeeLine.item)
    )
    trade_count = int(
        (await session.execute(select(func.count()).select_from(Trade).where(in_period))).scalar_one()
    )
    totals = [0, 0, 0]
    by_institution: dict[int, list[int]] = {}
    by_kind: dict[str, list[int]] = {}
    by_item: dict[str, list[int]] = {}
    for payer_id, kind, item, gross, waived, charged in grouped.all():
        amounts = (int(gross), int(waived), int(charged))
        for bucket in (
            totals,
            by_institution.setdefault(int(payer_id), [0, 0, 0]),
            by_kind.setdefault(str(kind), [0, 0, 0]),
            by_item.setdefault(str(item), [0, 0, 0]),
        ):
            for index, amount in enumerate(amounts):
                bucket[index] += amount

    def as_totals(values: list[int]) -> FeeTotals:
        assert values[0] == values[1] + values[2], "gross must split into waived and charged"
        return FeeTotals(values[0], values[1], values[2])

    return FeeWaiverReport(
        period_from,
        period_to,
        trade_count,
        as_totals(totals),
        {k: as_totals(v) for k, v in by_institution.items()},
        {k: as_totals(v) for k, v in by_kind.items()},
        {k: as_totals(v) for k, v in by_item.items()},
    )


async def fee_waiver_by_month(
    session: AsyncSession, period_from: date, period_to: date
) -> dict[str, FeeTotals]:
    """The period's fees by trade month ("2026-03"), in month order: one GROUP BY trade date (a row
    per day at most), summed into months here so the SQL is the same on both databases."""
    rows = await session.execute(
        select(
            Trade.trade_date,
            func.sum(FeeLine.gross_fen),
            func.sum(FeeLine.waived_fen),
            func.sum(FeeLine.charged_fen),
        )
        .select_from(FeeLine)
        .join(Trade, Trade.id == FeeLine.trade_id)
        .where(Trade.trade_date >= period_from, Trade.trade_date <= period_to)
        .group_by(Trade.trade_date)
    )
    months: dict[str, list[int]] = {}
    for trade_date, gross, waived, charged in rows.all():
        bucket = months.setdefault(f"{trade_date:%Y-%m}", [0, 0, 0])
        for index, amount in enumerate((int(gross), int(waived), int(charged))):
            bucket[index] += amount
    return {month: FeeTotals(*months[month]) for month in sorted(months)}


async def fee_waiver_lines(
    session: AsyncSession,
    period_from: date,
    period_to: date,
    *,
    after_line_id: int = 0,
    limit: int = CSV_BATCH_SIZE,
) -> list[tuple[int, int, date, str, bool, int, str, str, int, int, int, int, str]]:
    """A page of (line id, trade id, trade date, kind, ip pledge, price, item, payer, payer id, gross,
    waived, charged, rule), in line order, for the CSV export and the paginated JSON list."""
    rows = await session.execute(
        select(
            FeeLine.id,
            Trade.id,
            Trade.trade_date,
            Trade.kind,
            Trade.is_ip_pledge,
            Trade.price_fen,
            FeeLine.item,
            FeeLine.payer,
            FeeLine.payer_id,
            FeeLine.gross_fen,
            FeeLine.waived_fen,
            FeeLine.charged_fen,
            FeeLine.rule,
        )
        .join(Trade, Trade.id == FeeLine.trade_id)
        .where(Trade.trade_date >= period_from, Trade.trade_date <= period_to, FeeLine.id > after_line_id)
        .order_by(FeeLine.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows.all()]


async def iter_fee_waiver_lines(
    session: AsyncSession, period_from: date, period_to: date
) -> AsyncIterator[tuple[object, ...]]:
    after = 0
    while True:
        batch = await fee_waiver_lines(session, period_from, period_to, after_line_id=after)
        for row in batch:
            yield row
        if len(batch) < CSV_BATCH_SIZE:
            return
        after = batch[-1][0]
