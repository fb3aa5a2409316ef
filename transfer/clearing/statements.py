"""A participant's daily statement: opening balances, each movement of the day, closing balances.

The day is a calendar day in Asia/Shanghai, the center's business calendar. Opening balances are
derived from today's balances less every movement since the day began, so no snapshot is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.models import Account, LedgerTransfer
from transfer.rules.fee_waiver import SHANGHAI
from transfer.rules.working_calendar import WorkingCalendar

MAX_STATEMENT_LINES = 10_000


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    transfer_id: str
    code: str
    reference: str | None
    account: str  # "available" or "held"
    # Positive: money into the account; negative: out of it.
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Statement:
    participant_id: int
    day: date
    opening: ledger.Balances
    closing: ledger.Balances
    lines: list[StatementLine]
    truncated: bool
    # Whether the day is a working day on China's calendar (调休 included), and the first working
    # day on or after it: a movement booked on a holiday reaches the banks' books on that day.
    working_day: bool
    value_date: date


def shanghai_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    return start, start + timedelta(days=1)


async def _net_since(session: AsyncSession, account_ids: dict[int, str], since: datetime) -> dict[str, int]:
    net = dict.fromkeys(account_ids.values(), 0)
    for column, sign in ((LedgerTransfer.credit_account_id, 1), (LedgerTransfer.debit_account_id, -1)):
        rows = await session.execute(
            select(column, func.coalesce(func.sum(LedgerTransfer.amount_fen), 0))
            .where(column.in_(account_ids), LedgerTransfer.created_at >= since)
            .group_by(column)
        )
        for account_id, total in rows.all():
            net[account_ids[account_id]] += sign * int(total)
    return net


async def daily_statement(
    session: AsyncSession, participant_id: int, day: date, calendar: WorkingCalendar
) -> Statement:
    start, end = shanghai_day_bounds(day)
    accounts = {
        account_id: code
        for account_id, code in (
            await session.execute(
                select(Account.id, Account.code).where(Account.participant_id == participant_id)
            )
        ).all()
    }
    current = await ledger.balances(session, participant_id)
    since_start = await _net_since(session, accounts, start)
    since_end = await _net_since(session, accounts, end)
    opening = ledger.Balances(
        current.available_fen - since_start.get(ledger.AVAILABLE, 0),
        current.held_fen - since_start.get(ledger.HELD, 0),
    )
    closing = ledger.Balances(
        current.available_fen - since_end.get(ledger.AVAILABLE, 0),
        current.held_fen - since_end.get(ledger.HELD, 0),
    )
    rows = (
        (
            await session.execute(
                select(LedgerTransfer)
                .where(
                    or_(
                        LedgerTransfer.debit_account_id.in_(accounts),
                        LedgerTransfer.credit_account_id.in_(accounts),
                    ),
                    LedgerTransfer.created_at >= start,
                    LedgerTransfer.created_at < end,
                )
                .order_by(LedgerTransfer.created_at, LedgerTransfer.id)
                .limit(MAX_STATEMENT_LINES + 1)
            )
        )
        .scalars()
        .all()
    )
    lines: list[StatementLine] = []
    for transfer in rows[:MAX_STATEMENT_LINES]:
        # A hold moves money between the participant's own two accounts: one line per side.
        for account_id, sign in ((transfer.debit_account_id, -1), (transfer.credit_account_id, 1)):
            if account_id in accounts:
                lines.append(
                    StatementLine(
                        transfer.created_at,
                        transfer.id,
                        transfer.code,
                        transfer.reference,
                        accounts[account_id],
                        sign * transfer.amount_fen,
                    )
                )
    net_available = sum(line.amount_fen for line in lines if line.account == ledger.AVAILABLE)
    net_held = sum(line.amount_fen for line in lines if line.account == ledger.HELD)
    truncated = len(rows) > MAX_STATEMENT_LINES
    if not truncated:
        assert opening.available_fen + net_available == closing.available_fen
        assert opening.held_fen + net_held == closing.held_fen
    return Statement(
        participant_id,
        day,
        opening,
        closing,
        lines,
        truncated,
        working_day=calendar.is_working_day(day),
        value_date=calendar.on_or_next_working_day(day),
    )
