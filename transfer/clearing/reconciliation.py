"""The day's reconciliation: trades against their fee lines and ledger legs, ownership, the ledger.

Longer than most modules on purpose: the control totals and the trade-by-trade finders that run
where they disagree are one algorithm over one day's scope (DayScope, the keys, the slots), and
split apart each half would have to repeat the other's definitions to stay in step.

Control totals first, trade by trade only where they disagree. A day of a million trades has four
million fee lines and over a million ledger legs; matching them trade by trade (a GROUP BY per trade,
then a join) takes seconds per table. Instead each side is summed in one scan into control totals:
the plain sum of its amounts and a weighted sum, Σ key × amount modulo the prime 2^31 - 1, where the
key names the trade and the item (4 × trade id + slot). A difference confined to one or two items
always changes the totals (the plain sum, or else the weighted sum, since their keys differ), unless
it is a multiple of 2^31 - 1 fen; a wider one goes unseen only if it cancels in both sums at once.
Where the totals disagree, the same comparison runs trade by trade and names every broken trade (at
a million trades that costs a few seconds more than a clean day).

The checks:
1. trades created that day: fees are waived if and only if the waiver rule holds, judged on the fee
   totals stored with each trade, and every trade has fee lines (exact, one pass over the trades);
2. the fee lines of the day's trade ids against the totals stored on their trades (control totals).
   Lines are checked on their trade's creation day; settlement posts the stored totals, which check 3
   then matches against the ledger;
3. the day's ledger legs (the price, and the fees of each side) against the trades settled that day,
   both ways (control totals);
4. ownership: each loan traded that day has an income-right register summing to the whole (exact);
5. the ledger: balances sum to zero and each balance equals its transfers' net (exact, one GROUP BY).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.clearing.statements import shanghai_day_bounds
from transfer.models import Account, LedgerTransfer
from transfer.models.loans import IncomeRight
from transfer.models.market import FeeLine, Trade
from transfer.rules.fee_waiver import is_fee_waived, waiver_window
from transfer.rules.shares import WHOLE_SHARE_PPM

MAX_BREAKS_PER_KIND = 1_000
# A prime below 2^31: a key and an amount reduced by it multiply to less than 2^62, and a day's
# reduced terms sum to less than 2^63, so SQLite's 64-bit integers never overflow.
CHECK_MODULUS = 2_147_483_647
SLOTS_PER_TRADE = 4
# Item slots in the fee-line totals (count, charged per side, waived) and the ledger-leg totals.
LINES_SLOT, SELLER_SLOT, BUYER_SLOT, WAIVED_SLOT = 0, 1, 2, 3
PRICE_SLOT = 0
TRADE_LEG_CODES = ("trade_price", "trade_fees")
FUNDS_CODES = ("funds", "withdrawal")


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


@dataclass(frozen=True, slots=True)
class ControlTotals:
    """One side's Σ amount and Σ key × amount (modulo CHECK_MODULUS)."""

    amount_fen: int
    weighted: int

    @classmethod
    def of(cls, amount_fen: Any, weighted: Any) -> ControlTotals:
        return cls(int(amount_fen or 0), int(weighted or 0) % CHECK_MODULUS)


@dataclass(frozen=True, slots=True)
class DayScope:
    day: date
    start: datetime
    end: datetime
    waiver_start: date
    waiver_years: int
    # The first and last id of the trades created that day (None when there are none): the fee
    # lines of this id range are checked, whatever day a straggler in it was created.
    created_ids: tuple[int, int] | None

    def settled(self) -> ColumnElement[bool]:
        return and_(Trade.status == "settled", Trade.settled_at >= self.start, Trade.settled_at < self.end)

    def created(self) -> ColumnElement[bool]:
        return Trade.trade_date == self.day

    def in_created_ids(self, trade_id: Any) -> ColumnElement[bool]:
        if self.created_ids is None:
            return false()
        return and_(trade_id >= self.created_ids[0], trade_id <= self.created_ids[1])

    def waiver_breached(self, charged_fen: Any, waived_fen: Any) -> ColumnElement[bool]:
        """The waiver rule (transfer.rules.fee_waiver) in SQL: charged although waived, or waived
        although chargeable."""
        window_start, window_end = waiver_window(self.waiver_start, self.waiver_years)
        waived = and_(
            Trade.is_ip_pledge.is_(True), Trade.trade_date >= window_start, Trade.trade_date < window_end
        )
        return or_(and_(waived, charged_fen > 0), and_(not_(waived), waived_fen > 0))

    def trade_breached(self) -> ColumnElement[bool]:
        """A trade created that day whose stored fee totals breach the waiver, or without fee lines."""
        charged_fen = Trade.seller_fees_charged_fen + Trade.buyer_fees_charged_fen
        return and_(
            self.created(),
            or_(self.waiver_breached(charged_fen, Trade.fees_waived_fen), Trade.fee_line_count == 0),
        )

    def waiver_break(
        self, trade_id: int, trade_date: date, is_ip_pledge: bool, charged_fen: int, waived_fen: int
    ) -> Break | None:
        """The same rule in Python, for a trade created that day."""
        if trade_date != self.day:
            return None
        waived = is_fee_waived(
            trade_date,
            is_ip_pledge=is_ip_pledge,
            waiver_start=self.waiver_start,
            waiver_years=self.waiver_years,
        )
        if waived and charged_fen > 0:
            return Break("fee_waiver_exception", f"trade:{trade_id}", "charged although waived")
        if not waived and waived_fen > 0:
            return Break("fee_waiver_exception", f"trade:{trade_id}", "waived although chargeable")
        return None


def _key(trade_id: SQLColumnExpression[int], slot: int | SQLColumnExpression[int]) -> ColumnElement[int]:
    """The item's key: 4 × trade id + slot, in 64 bits (PostgreSQL's trade id is 32-bit)."""
    return cast(trade_id, BigInteger) * SLOTS_PER_TRADE + slot


def _weighted(key: SQLColumnExpression[int], amount_fen: SQLColumnExpression[int]) -> ColumnElement[int]:
    # Each factor reduced first: their product stays below 2^62.
    return ((key % CHECK_MODULUS) * (amount_fen % CHECK_MODULUS)) % CHECK_MODULUS


def _control_sums(
    items: Sequence[tuple[SQLColumnExpression[int], SQLColumnExpression[int]]], where: ColumnElement[bool]
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Σ amount and Σ key × amount over each row's (key, amount) items, for the rows `where` holds."""
    amount_fen = items[0][1]
    weighted = _weighted(*items[0])
    for key, amount in items[1:]:
        amount_fen = amount_fen + amount
        weighted = weighted + _weighted(key, amount)
    return func.sum(amount_fen).filter(where), func.sum(weighted).filter(where)


@dataclass(frozen=True, slots=True)
class TradeTotals:
    created: int
    settled: int
    # Trades created that day whose stored fee totals breach the waiver, or that have no fee lines.
    breaches: int
    fee_lines: ControlTotals
    legs: ControlTotals


async def _created_ids(session: AsyncSession, day: date) -> tuple[int, int] | None:
    lowest, highest = (
        await session.execute(select(func.min(Trade.id), func.max(Trade.id)).where(Trade.trade_date == day))
    ).one()
    return None if lowest is None else (int(lowest), int(highest))


async def _trade_totals(session: AsyncSession, scope: DayScope) -> TradeTotals:
    """One pass over the day's trades: counts, the exact trade-only checks, and what the fee lines
    and the ledger legs must add up to."""
    seller, buyer = Trade.seller_fees_charged_fen, Trade.buyer_fees_charged_fen
    fee_lines = _control_sums(
        [
            (_key(Trade.id, LINES_SLOT), Trade.fee_line_count),
            (_key(Trade.id, SELLER_SLOT), seller),
            (_key(Trade.id, BUYER_SLOT), buyer),
            (_key(Trade.id, WAIVED_SLOT), Trade.fees_waived_fen),
        ],
        scope.in_created_ids(Trade.id),
    )
    legs = _control_sums(
        [
            (_key(Trade.id, PRICE_SLOT), Trade.price_fen),
            (_key(Trade.id, SELLER_SLOT), seller),
            (_key(Trade.id, BUYER_SLOT), buyer),
        ],
        scope.settled(),
    )
    row = (
        await session.execute(
            select(
                func.count().filter(scope.created()),
                func.count().filter(scope.settled()),
                func.count().filter(scope.trade_breached()),
                *fee_lines,
                *legs,
            ).where(or_(scope.created(), scope.settled(), scope.in_created_ids(Trade.id)))
        )
    ).one()
    return TradeTotals(
        created=int(row[0]),
        settled=int(row[1]),
        breaches=int(row[2]),
        fee_lines=ControlTotals.of(row[3], row[4]),
        legs=ControlTotals.of(row[5], row[6]),
    )


async def _fee_line_totals(session: AsyncSession, scope: DayScope) -> ControlTotals:
    side = case((FeeLine.payer == "buyer", BUYER_SLOT), else_=SELLER_SLOT)
    in_scope = scope.in_created_ids(FeeLine.trade_id)
    sums = _control_sums(
        [
            (_key(FeeLine.trade_id, LINES_SLOT), literal(1)),
            (_key(FeeLine.trade_id, side), FeeLine.charged_fen),
            (_key(FeeLine.trade_id, WAIVED_SLOT), FeeLine.waived_fen),
        ],
        in_scope,
    )
    row = (await session.execute(select(*sums).where(in_scope))).one()
    return ControlTotals.of(*row)


def _leg_trade_id() -> ColumnElement[int]:
    # Settlement references its legs "trade:<id>"; other transfers carry no trade id.
    is_leg = LedgerTransfer.code.in_(TRADE_LEG_CODES)
    return cast(case((is_leg, func.substr(LedgerTransfer.reference, 7)), else_=None), BigInteger)


def _leg_slot() -> ColumnElement[int]:
    return case(
        (LedgerTransfer.code == "trade_price", PRICE_SLOT),
        (LedgerTransfer.id.like("%:fees:buyer"), BUYER_SLOT),
        else_=SELLER_SLOT,
    )


def _ledger_on(scope: DayScope, codes: Sequence[str]) -> ColumnElement[bool]:
    return and_(
        LedgerTransfer.created_at >= scope.start,
        LedgerTransfer.created_at < scope.end,
        LedgerTransfer.code.in_(codes),
    )


async def _ledger_leg_totals(session: AsyncSession, scope: DayScope) -> tuple[ControlTotals, int]:
    """The day's trade legs as control totals, and the day's funds records, in one pass."""
    is_leg = LedgerTransfer.code.in_(TRADE_LEG_CODES)
    sums = _control_sums([(_key(_leg_trade_id(), _leg_slot()), LedgerTransfer.amount_fen)], is_leg)
    row = (
        await session.execute(
            select(func.count().filter(LedgerTransfer.code.in_(FUNDS_CODES)), *sums).where(
                _ledger_on(scope, TRADE_LEG_CODES + FUNDS_CODES)
            )
        )
    ).one()
    return ControlTotals.of(row[1], row[2]), int(row[0])


async def _trade_breaks(session: AsyncSession, scope: DayScope) -> list[Break]:
    """Trades created that day whose stored totals breach the waiver, or that have no fee lines."""
    rows = await session.execute(
        select(
            Trade.id,
            Trade.trade_date,
            Trade.is_ip_pledge,
            Trade.seller_fees_charged_fen + Trade.buyer_fees_charged_fen,
            Trade.fees_waived_fen,
            Trade.fee_line_count,
        )
        .where(scope.trade_breached())
        .order_by(Trade.id)
        .limit(MAX_BREAKS_PER_KIND)
    )
    breaks: list[Break] = []
    for trade_id, trade_date, is_ip_pledge, charged_fen, waived_fen, line_count in rows.all():
        if line_count == 0:
            breaks.append(Break("trade_without_fee_records", f"trade:{trade_id}", "no fee lines"))
        waiver = scope.waiver_break(trade_id, trade_date, is_ip_pledge, charged_fen, waived_fen)
        if waiver is not None:
            breaks.append(waiver)
    return breaks


async def _fee_line_breaks(session: AsyncSession, scope: DayScope) -> list[Break]:
    """The fee lines of the day's trade ids against their trades' stored totals, trade by trade."""
    lines = (
        select(
            FeeLine.trade_id,
            func.count().label("lines"),
            func.sum(case((FeeLine.payer == "seller", FeeLine.charged_fen), else_=0)).label("seller"),
            func.sum(case((FeeLine.payer == "buyer", FeeLine.charged_fen), else_=0)).label("buyer"),
            func.sum(FeeLine.waived_fen).label("waived"),
        )
        .where(scope.in_created_ids(FeeLine.trade_id))
        .group_by(FeeLine.trade_id)
        .subquery()
    )
    found = (
        func.coalesce(lines.c.lines, 0),
        func.coalesce(lines.c.seller, 0),
        func.coalesce(lines.c.buyer, 0),
        func.coalesce(lines.c.waived, 0),
    )
    stored = (
        Trade.fee_line_count,
        Trade.seller_fees_charged_fen,
        Trade.buyer_fees_charged_fen,
        Trade.fees_waived_fen,
    )
    rows = await session.execute(
        select(Trade.id, Trade.trade_date, Trade.is_ip_pledge, *found, *stored)
        .outerjoin(lines, lines.c.trade_id == Trade.id)
        .where(scope.in_created_ids(Trade.id), or_(*(f != s for f, s in zip(found, stored, strict=True))))
        .order_by(Trade.id)
        .limit(MAX_BREAKS_PER_KIND)
    )
    breaks: list[Break] = []
    for trade_id, trade_date, is_ip_pledge, *sums in rows.all():
        # PostgreSQL sums bigints as numeric: back to int before any arithmetic or text.
        amounts = [int(amount) for amount in sums]
        line_count, seller_fen, buyer_fen, waived_fen = amounts[:4]
        subject = f"trade:{trade_id}"
        if line_count == 0:
            breaks.append(Break("trade_without_fee_records", subject, "no fee lines"))
            continue
        detail = f"fee lines: {_fee_totals_text(*amounts[:4])}; trade: {_fee_totals_text(*amounts[4:])}"
        breaks.append(Break("fee_lines_do_not_match_trade", subject, detail))
        waiver = scope.waiver_break(trade_id, trade_date, is_ip_pledge, seller_fen + buyer_fen, waived_fen)
        if waiver is not None:
            breaks.append(waiver)
    return breaks


def _fee_totals_text(line_count: int, seller_fen: int, buyer_fen: int, waived_fen: int) -> str:
    return (
        f"{line_count} lines, seller charged {seller_fen} fen, buyer charged {buyer_fen} fen,"
        f" waived {waived_fen} fen"
    )


async def _ledger_leg_breaks(session: AsyncSession, scope: DayScope) -> list[Break]:
    """The day's ledger legs against the trades settled that day, trade by trade, both ways."""
    trade_id, slot, amount = _leg_trade_id(), _leg_slot(), LedgerTransfer.amount_fen
    legs = (
        select(
            trade_id.label("trade_id"),
            func.sum(case((slot == PRICE_SLOT, 1), else_=0)).label("price_legs"),
            func.sum(case((slot == PRICE_SLOT, amount), else_=0)).label("price"),
            func.sum(case((slot == SELLER_SLOT, amount), else_=0)).label("seller"),
            func.sum(case((slot == BUYER_SLOT, amount), else_=0)).label("buyer"),
        )
        .where(_ledger_on(scope, TRADE_LEG_CODES))
        .group_by(trade_id)
        .subquery()
    )
    settled = (
        select(Trade.id, Trade.price_fen, Trade.seller_fees_charged_fen, Trade.buyer_fees_charged_fen)
        .where(scope.settled())
        .subquery()
    )
    leg_amounts = [func.coalesce(legs.c[name], 0) for name in ("price_legs", "price", "seller", "buyer")]
    rows = await session.execute(
        select(
            func.coalesce(settled.c.id, legs.c.trade_id),
            settled.c.id.is_not(None),
            settled.c.price_fen,
            settled.c.seller_fees_charged_fen,
            settled.c.buyer_fees_charged_fen,
            *leg_amounts,
        )
        .select_from(settled)
        .join(legs, legs.c.trade_id == settled.c.id, full=True)
        .where(
            or_(
                settled.c.id.is_(None),
                leg_amounts[0] != 1,
                leg_amounts[1] != settled.c.price_fen,
                leg_amounts[2] != settled.c.seller_fees_charged_fen,
                leg_amounts[3] != settled.c.buyer_fees_charged_fen,
            )
        )
        .order_by(func.coalesce(settled.c.id, legs.c.trade_id))
        .limit(MAX_BREAKS_PER_KIND)
    )
    breaks: list[Break] = []
    for subject_id, was_settled, price_fen, seller_fen, buyer_fen, *found in rows.all():
        price_legs, price_leg_fen, seller_leg_fen, buyer_leg_fen = (int(a) for a in found)
        subject = f"trade:{subject_id}"
        if not was_settled:
            breaks.append(
                Break("ledger_legs_without_settled_trade", subject, "trade legs but no settlement that day")
            )
            continue
        if price_legs == 0:
            breaks.append(Break("settled_trade_without_ledger_legs", subject, "no price transfer"))
        elif price_legs != 1 or price_leg_fen != price_fen:
            breaks.append(
                Break(
                    "price_leg_mismatch",
                    subject,
                    f"price {price_fen} fen, ledger {price_leg_fen} fen in {price_legs} legs",
                )
            )
        for side, charged_fen, leg_fen in (
            ("seller", seller_fen, seller_leg_fen),
            ("buyer", buyer_fen, buyer_leg_fen),
        ):
            if charged_fen != leg_fen:
                breaks.append(
                    Break(
                        "fee_leg_mismatch",
                        subject,
                        f"{side} fees charged {charged_fen} fen, ledger leg {leg_fen} fen",
                    )
                )
    return breaks


async def _ownership_breaks(session: AsyncSession, day: date) -> list[Break]:
    """The register of every loan traded that day sums to the whole."""
    traded_loans = select(Trade.loan_id).where(Trade.trade_date == day).distinct().subquery()
    unwhole = await session.execute(
        select(IncomeRight.loan_id, func.sum(IncomeRight.share_ppm))
        .where(IncomeRight.loan_id.in_(select(traded_loans.c.loan_id)))
        .group_by(IncomeRight.loan_id)
        .having(func.sum(IncomeRight.share_ppm) != WHOLE_SHARE_PPM)
        .limit(MAX_BREAKS_PER_KIND)
    )
    return [
        Break("ownership_not_whole", f"loan:{loan}", f"income rights sum to {total} ppm")
        for loan, total in unwhole.all()
    ]


async def _balance_breaks(session: AsyncSession) -> list[Break]:
    """Every balance equals its transfers' net: credits minus debits minus the balance, summed per
    account in one GROUP BY, is zero for every account (no join, so no plan can turn it into a
    nested loop over accounts)."""
    movements = union_all(
        select(
            LedgerTransfer.credit_account_id.label("account"), LedgerTransfer.amount_fen.label("amount_fen")
        ),
        select(LedgerTransfer.debit_account_id, -LedgerTransfer.amount_fen),
        select(Account.id, -Account.balance_fen),
    ).subquery()
    drift_fen = func.sum(movements.c.amount_fen)
    drifted = dict(
        (
            await session.execute(
                select(movements.c.account, drift_fen)
                .group_by(movements.c.account)
                .having(drift_fen != 0)
                .limit(MAX_BREAKS_PER_KIND)
            )
        ).all()
    )
    if not drifted:
        return []
    accounts = await session.execute(
        select(Account.id, Account.key, Account.balance_fen)
        .where(Account.id.in_(drifted))
        .order_by(Account.key)
    )
    return [
        Break(
            "balance_does_not_match_transfers",
            key,
            f"balance {balance_fen} fen, transfers net {balance_fen + int(drifted[account])} fen",
        )
        for account, key, balance_fen in accounts.all()
    ]


def _unexplained(kind: str, found: ControlTotals, expected: ControlTotals) -> Break:
    """Control totals that differ while no trade shows a difference (a leg or line outside every
    trade the day's matching looks at)."""
    return Break(
        "control_totals_differ",
        kind,
        f"{found.amount_fen} fen (check {found.weighted}) against the trades' {expected.amount_fen} fen"
        f" (check {expected.weighted})",
    )


async def reconcile(
    session: AsyncSession, day: date, *, waiver_start: date, waiver_years: int
) -> Reconciliation:
    start, end = shanghai_day_bounds(day)
    scope = DayScope(day, start, end, waiver_start, waiver_years, await _created_ids(session, day))
    trades = await _trade_totals(session, scope)
    fee_lines = await _fee_line_totals(session, scope)
    legs, funds_records = await _ledger_leg_totals(session, scope)
    ledger_sum_fen = int(
        (await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one()
    )
    breaks: list[Break] = []
    if trades.breaches:
        breaks += await _trade_breaks(session, scope)
    if fee_lines != trades.fee_lines:
        breaks += await _fee_line_breaks(session, scope) or [
            _unexplained("fee_lines", fee_lines, trades.fee_lines)
        ]
    if legs != trades.legs:
        breaks += await _ledger_leg_breaks(session, scope) or [_unexplained("trade_legs", legs, trades.legs)]
    breaks += await _ownership_breaks(session, day)
    if ledger_sum_fen != 0:
        breaks.append(Break("ledger_not_zero", "ledger", f"accounts sum to {ledger_sum_fen} fen"))
    breaks += await _balance_breaks(session)
    report = Reconciliation(day, trades.settled, trades.created, funds_records, ledger_sum_fen)
    # A trade whose stored totals and fee lines both breach the waiver is named once.
    report.breaks = list(dict.fromkeys(breaks))
    return report
