"""Clearing reports: fees forgone under the waiver, and the day's reconciliation.

Both are set-based SQL (GROUP BY over fee_lines, trades, ledger_transfers and accounts), so they run
in one pass over a day or a period whatever the number of trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.models import Account, LedgerTransfer
from transfer.models.loans import IncomeRight
from transfer.models.market import FeeLine, Trade
from transfer.rules.fee_waiver import waiver_window
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.statements import shanghai_day_bounds

MAX_BREAKS_PER_KIND = 1_000
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


def _sums() -> tuple[object, object, object]:
    return (
        func.coalesce(func.sum(FeeLine.gross_fen), 0),
        func.coalesce(func.sum(FeeLine.waived_fen), 0),
        func.coalesce(func.sum(FeeLine.charged_fen), 0),
    )


async def fee_waiver_report(session: AsyncSession, period_from: date, period_to: date) -> FeeWaiverReport:
    """Trades with trade_date in [period_from, period_to] (inclusive, Asia/Shanghai calendar)."""
    in_period = and_(Trade.trade_date >= period_from, Trade.trade_date <= period_to)
    joined = select(*_sums()).select_from(FeeLine).join(Trade, Trade.id == FeeLine.trade_id).where(in_period)  # type: ignore[call-overload]
    gross, waived, charged = (await session.execute(joined)).one()
    trade_count = int(
        (await session.execute(select(func.count()).select_from(Trade).where(in_period))).scalar_one()
    )

    async def grouped(column: object) -> dict[object, FeeTotals]:
        query = (
            select(column, *_sums())  # type: ignore[call-overload]
            .select_from(FeeLine)
            .join(Trade, Trade.id == FeeLine.trade_id)
            .where(in_period)
            .group_by(column)
        )
        return {
            key: FeeTotals(int(g), int(w), int(c)) for key, g, w, c in (await session.execute(query)).all()
        }

    return FeeWaiverReport(
        period_from,
        period_to,
        trade_count,
        FeeTotals(int(gross), int(waived), int(charged)),
        {int(k): v for k, v in (await grouped(FeeLine.payer_id)).items()},  # type: ignore[call-overload]
        {str(k): v for k, v in (await grouped(Trade.kind)).items()},
        {str(k): v for k, v in (await grouped(FeeLine.item)).items()},
    )


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


@dataclass(frozen=True, slots=True)
class Break:
    kind: str
    subject: str
    detail: str


@dataclass(slots=True)
class Reconciliation:
    day: date
    trades_settled: int
    trades_created: int
    funds_records: int
    ledger_sum_fen: int
    breaks: list[Break] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.breaks


async def reconcile(
    session: AsyncSession, day: date, *, waiver_start: date, waiver_years: int
) -> Reconciliation:
    start, end = shanghai_day_bounds(day)
    settled_today = and_(Trade.status == "settled", Trade.settled_at >= start, Trade.settled_at < end)
    trades_settled = int(
        (await session.execute(select(func.count()).select_from(Trade).where(settled_today))).scalar_one()
    )
    trades_created = int(
        (
            await session.execute(select(func.count()).select_from(Trade).where(Trade.trade_date == day))
        ).scalar_one()
    )
    funds_records = int(
        (
            await session.execute(
                select(func.count())
                .select_from(LedgerTransfer)
                .where(
                    LedgerTransfer.code.in_(["funds", "withdrawal"]),
                    LedgerTransfer.created_at >= start,
                    LedgerTransfer.created_at < end,
                )
            )
        ).scalar_one()
    )
    ledger_sum_fen = int(
        (await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one()
    )
    report = Reconciliation(day, trades_settled, trades_created, funds_records, ledger_sum_fen)

    # 1. A settled trade must have its price leg, and fee legs equal to the charged fees per side.
    price_leg = literal("trade:") + func.cast(Trade.id, LedgerTransfer.id.type) + literal(":price")
    missing = await session.execute(
        select(Trade.id)
        .outerjoin(LedgerTransfer, LedgerTransfer.id == price_leg)
        .where(settled_today, LedgerTransfer.id.is_(None))
        .limit(MAX_BREAKS_PER_KIND)
    )
    report.breaks += [
        Break("settled_trade_without_ledger_legs", f"trade:{t}", "no price transfer")
        for (t,) in missing.all()
    ]
    for side in ("seller", "buyer"):
        leg = literal("trade:") + func.cast(Trade.id, LedgerTransfer.id.type) + literal(f":fees:{side}")
        charged = (
            select(FeeLine.trade_id, func.sum(FeeLine.charged_fen).label("charged"))
            .where(FeeLine.payer == side)
            .group_by(FeeLine.trade_id)
            .subquery()
        )
        mismatched = await session.execute(
            select(Trade.id, charged.c.charged, LedgerTransfer.amount_fen)
            .join(charged, charged.c.trade_id == Trade.id)
            .outerjoin(LedgerTransfer, LedgerTransfer.id == leg)
            .where(settled_today, func.coalesce(LedgerTransfer.amount_fen, 0) != charged.c.charged)
            .limit(MAX_BREAKS_PER_KIND)
        )
        report.breaks += [
            Break("fee_leg_mismatch", f"trade:{t}", f"{side} fees charged {c} fen, ledger leg {a or 0} fen")
            for t, c, a in mismatched.all()
        ]

    # 2. Fees are waived if and only if the waiver rule holds on the trade date.
    window_start, window_end = waiver_window(waiver_start, waiver_years)
    should_waive = and_(
        Trade.is_ip_pledge.is_(True), Trade.trade_date >= window_start, Trade.trade_date < window_end
    )
    fee_sums = (
        select(
            FeeLine.trade_id,
            func.sum(FeeLine.waived_fen).label("waived"),
            func.sum(FeeLine.charged_fen).label("charged"),
        )
        .group_by(FeeLine.trade_id)
        .subquery()
    )
    wrong = await session.execute(
        select(Trade.id, case((should_waive, "charged although waived"), else_="waived although chargeable"))
        .join(fee_sums, fee_sums.c.trade_id == Trade.id)
        .where(
            Trade.trade_date == day,
            ((should_waive) & (fee_sums.c.charged > 0)) | (~should_waive & (fee_sums.c.waived > 0)),
        )
        .limit(MAX_BREAKS_PER_KIND)
    )
    report.breaks += [Break("fee_waiver_exception", f"trade:{t}", reason) for t, reason in wrong.all()]
    without_fees = await session.execute(
        select(Trade.id)
        .outerjoin(fee_sums, fee_sums.c.trade_id == Trade.id)
        .where(Trade.trade_date == day, fee_sums.c.trade_id.is_(None))
        .limit(MAX_BREAKS_PER_KIND)
    )
    report.breaks += [
        Break("trade_without_fee_records", f"trade:{t}", "no fee lines") for (t,) in without_fees.all()
    ]

    # 3. Ownership: the register of every loan traded today sums to the whole.
    traded_loans = select(Trade.loan_id).where(Trade.trade_date == day).distinct().subquery()
    unwhole = await session.execute(
        select(IncomeRight.loan_id, func.sum(IncomeRight.share_ppm))
        .where(IncomeRight.loan_id.in_(select(traded_loans.c.loan_id)))
        .group_by(IncomeRight.loan_id)
        .having(func.sum(IncomeRight.share_ppm) != WHOLE_SHARE_PPM)
        .limit(MAX_BREAKS_PER_KIND)
    )
    report.breaks += [
        Break("ownership_not_whole", f"loan:{loan}", f"income rights sum to {total} ppm")
        for loan, total in unwhole.all()
    ]

    # 4. The ledger: the books sum to zero, and every balance equals its transfers.
    if ledger_sum_fen != 0:
        report.breaks.append(Break("ledger_not_zero", "ledger", f"accounts sum to {ledger_sum_fen} fen"))
    credits = select(
        LedgerTransfer.credit_account_id.label("account"), LedgerTransfer.amount_fen.label("amount")
    )
    debits = select(
        LedgerTransfer.debit_account_id.label("account"), (-LedgerTransfer.amount_fen).label("amount")
    )
    movements = credits.union_all(debits).subquery()
    net = (
        select(movements.c.account, func.sum(movements.c.amount).label("net"))
        .group_by(movements.c.account)
        .subquery()
    )
    drift = await session.execute(
        select(Account.key, Account.balance_fen, func.coalesce(net.c.net, 0))
        .outerjoin(net, net.c.account == Account.id)
        .where(Account.balance_fen != func.coalesce(net.c.net, 0))
        .limit(MAX_BREAKS_PER_KIND)
    )
    report.breaks += [
        Break("balance_does_not_match_transfers", key, f"balance {balance} fen, transfers net {net_fen} fen")
        for key, balance, net_fen in drift.all()
    ]
    return report
