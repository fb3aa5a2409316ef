"""The IP-pledge fee waiver (金发〔2025〕10号 item 8) and the fee lines of a trade.

For three years from the plan's issuance the center charges no fee of any kind on IP-pledge loan
transfers. A trade's fees are computed from the schedule as usual and then, when the waiver holds,
waived in full; the line keeps its gross amount so clearing can report the fees forgone (DESIGN §3,
invariant 6).

The waiver holds iff the loan is an IP-pledge loan and the trade date, on the Asia/Shanghai calendar,
lies in [waiver_start, waiver_start + waiver_years years). Years are added on the calendar. A window
starting on 29 February ends (exclusive) on 1 March of the end year, so its last day is 28 February:
the month-end stands in for the missing corresponding day, as 民法典第202条 does for periods in
years, and the waiver is never cut short by a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from transfer.rules.fee_schedule import FeeItem, Payer, gross_fee_fen, items_in_force

SHANGHAI = ZoneInfo("Asia/Shanghai")

WAIVER_RULE = "ip_pledge_waiver_2025"
SCHEDULE_RULE = "schedule"


@dataclass(frozen=True, slots=True)
class FeeLine:
    item: str
    payer: Payer
    gross_fen: int
    waived_fen: int
    charged_fen: int
    # Which rule decided the charge: WAIVER_RULE when waived, SCHEDULE_RULE when charged as scheduled.
    rule: str


def shanghai_trade_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant: the date the waiver is judged on.

    A naive datetime is refused: guessing its zone could move a trade across midnight and across the
    waiver boundary.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(SHANGHAI).date()


def add_calendar_years(start: date, years: int) -> date:
    """`start` moved by whole calendar years; 29 February lands on 1 March in a common year."""
    target_year = start.year + years
    if not 1 <= target_year <= 9999:
        raise ValueError(f"{start} plus {years} years is outside the calendar")
    try:
        return start.replace(year=target_year)
    except ValueError:
        # Only 29 February has no counterpart in a common year.
        assert (start.month, start.day) == (2, 29)
        return date(target_year, 3, 1)


def waiver_window(start: date, years: int) -> tuple[date, date]:
    """The waiver window as (start, end_exclusive)."""
    if years < 0:
        raise ValueError(f"waiver years must not be negative, got {years}")
    return start, add_calendar_years(start, years)


def is_fee_waived(trade_date: date, *, is_ip_pledge: bool, waiver_start: date, waiver_years: int) -> bool:
    window_start, window_end_exclusive = waiver_window(waiver_start, waiver_years)
    return is_ip_pledge and window_start <= trade_date < window_end_exclusive


def compute_fee_lines(
    price_fen: int,
    trade_date: date,
    schedule: Sequence[FeeItem],
    *,
    is_ip_pledge: bool,
    waiver_start: date,
    waiver_years: int,
) -> list[FeeLine]:
    """One line per (item in force, payer), in schedule order; waived in full when the waiver holds.

    `trade_date` is the Shanghai calendar date (see shanghai_trade_date).
    """
    waived = is_fee_waived(
        trade_date, is_ip_pledge=is_ip_pledge, waiver_start=waiver_start, waiver_years=waiver_years
    )
    lines: list[FeeLine] = []
    for fee_item in items_in_force(schedule, trade_date):
        gross_fen = gross_fee_fen(fee_item, price_fen)
        waived_fen = gross_fen if waived else 0
        for payer in fee_item.payers:
            lines.append(
                FeeLine(
                    item=fee_item.item,
                    payer=payer,
                    gross_fen=gross_fen,
                    waived_fen=waived_fen,
                    charged_fen=gross_fen - waived_fen,
                    rule=WAIVER_RULE if waived else SCHEDULE_RULE,
                )
            )

    assert all(line.gross_fen == line.waived_fen + line.charged_fen for line in lines)
    if waived:
        assert all(line.charged_fen == 0 for line in lines)
    return lines
