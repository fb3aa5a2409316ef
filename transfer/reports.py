"""Clearing reports: fees forgone under the waiver, and the day's reconciliation.

Both are set-based SQL (GROUP BY over fee_lines, trades, ledger_transfers and accounts), so they run
in one pass over a day or a period whatever the number of trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, and_, case, cast, func, or_, select
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

    # 1 and 2 in one pass over the day's trades: each settled trade has its price leg and fee legs
    # equal to the fees charged per side; every trade has fee lines; fees are waived if and only if
    # the waiver rule holds on the trade date.
    window_start, window_end = waiver_window(waiver_start, waiver_years)
    day_trades = (
        select(Trade.id, Trade.trade_date, Trade.is_ip_pledge, settled_today.label("settled_today"))
        .where(or_(Trade.trade_date == day, settled_today))
        .subquery()
    )
    fees = (
        select(
            FeeLine.trade_id,
            func.sum(case((FeeLine.payer == "seller", FeeLine.charged_fen), else_=0)).label("seller_charged"),
            func.sum(case((FeeLine.payer == "buyer", FeeLine.charged_fen), else_=0)).label("buyer_charged"),
            func.sum(FeeLine.waived_fen).label("waived"),
            func.sum(FeeLine.charged_fen).label("charged"),
        )
        .join(day_trades, day_trades.c.id == FeeLine.trade_id)
        .group_by(FeeLine.trade_id)
        .subquery()
    )
    # The day's trade legs in one scan (settlement writes them in the settling transaction, so on
    # the settlement day), grouped by trade: a hash join, not three index probes per trade.
    legs = (
        select(
            # "trade:123" -> 123: an integer key the planner hash-joins with trades.id.
            cast(func.substr(LedgerTransfer.reference, 7), Integer).label("trade_id"),
            func.sum(case((LedgerTransfer.code == "trade_price", 1), else_=0)).label("price_legs"),
            func.sum(
                case((LedgerTransfer.id.like("%:fees:seller"), LedgerTransfer.amount_fen), else_=0)
            ).label("seller_leg"),
            func.sum(
                case((LedgerTransfer.id.like("%:fees:buyer"), LedgerTransfer.amount_fen), else_=0)
            ).label("buyer_leg"),
        )
        .where(
            LedgerTransfer.created_at >= start,
            LedgerTransfer.created_at < end,
            LedgerTransfer.code.in_(["trade_price", "trade_fees"]),
        )
        .group_by(LedgerTransfer.reference)
        .subquery()
    )

    should_waive = and_(
        day_trades.c.is_ip_pledge.is_(True),
        day_trades.c.trade_date >= window_start,
        day_trades.c.trade_date < window_end,
    )
    settled = day_trades.c.settled_today.is_(True)
    no_price_leg = and_(settled, func.coalesce(legs.c.price_legs, 0) == 0)
    seller_mismatch = and_(
        settled, func.coalesce(legs.c.seller_leg, 0) != func.coalesce(fees.c.seller_charged, 0)
    )
    buyer_mismatch = and_(
        settled, func.coalesce(legs.c.buyer_leg, 0) != func.coalesce(fees.c.buyer_charged, 0)
    )
    no_fees = fees.c.trade_id.is_(None)
    waiver_wrong = and_(
        day_trades.c.trade_date == day,
        or_(and_(should_waive, fees.c.charged > 0), and_(~should_waive, fees.c.waived > 0)),
    )
    suspicious = await session.execute(
        select(
            day_trades.c.id,
            no_price_leg,
            seller_mismatch,
            buyer_mismatch,
            and_(day_trades.c.trade_date == day, no_fees),
            waiver_wrong,
            should_waive,
            fees.c.seller_charged,
            legs.c.seller_leg,
            fees.c.buyer_charged,
            legs.c.buyer_leg,
        )
        .select_from(day_trades)
        .outerjoin(fees, fees.c.trade_id == day_trades.c.id)
        .outerjoin(legs, legs.c.trade_id == day_trades.c.id)
        .where(
            or_(
                no_price_leg,
                seller_mismatch,
                buyer_mismatch,
                and_(day_trades.c.trade_date == day, no_fees),
                waiver_wrong,
            )
        )
        .order_by(day_trades.c.id)
        .limit(MAX_BREAKS_PER_KIND)
    )
    for row in suspicious.all():
        trade_id, missing_price, seller_off, buyer_off, missing_fees, wrong_waiver, waivable = row[:7]
        subject = f"trade:{trade_id}"
        if missing_price:
            report.breaks.append(Break("settled_trade_without_ledger_legs", subject, "no price transfer"))
        if seller_off:
            report.breaks.append(
                Break(
                    "fee_leg_mismatch",
                    subject,
                    f"seller fees charged {row[7] or 0} fen, ledger leg {row[8] or 0} fen",
                )
            )
        if buyer_off:
            report.breaks.append(
                Break(
                    "fee_leg_mismatch",
                    subject,
                    f"buyer fees charged {row[9] or 0} fen, ledger leg {row[10] or 0} fen",
                )
            )
        if missing_fees:
            report.breaks.append(Break("trade_without_fee_records", subject, "no fee lines"))
        if wrong_waiver:
            reason = "charged although waived" if waivable else "waived although chargeable"
            report.breaks.append(Break("fee_waiver_exception", subject, reason))

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
