"""Business-day arithmetic for settlement dates (T+N).

A business day is a weekday that is not a holiday, or a weekend day the calendar declares a working
day: China moves working days onto weekends around its long holidays (调休), so a calendar of
holidays alone would settle a day late around Spring Festival and National Day. Calendars are data
passed in; nothing here knows a year's holidays.
"""

from __future__ import annotations

from datetime import date, timedelta

SATURDAY = 5

# Settlement periods are days; a larger step is a bug in a caller, and the bound keeps the walk short.
MAX_BUSINESS_DAYS = 3_660


def is_business_day(
    day: date, holidays: frozenset[date] = frozenset(), *, working_weekends: frozenset[date] = frozenset()
) -> bool:
    if day in holidays:
        return False
    if day.weekday() >= SATURDAY:
        return day in working_weekends
    return True


def add_business_days(
    d: date,
    n: int,
    holidays: frozenset[date] = frozenset(),
    *,
    working_weekends: frozenset[date] = frozenset(),
) -> date:
    """The n-th business day after `d` (before it when n is negative); n == 0 returns `d` unchanged.

    `d` itself need not be a business day: a trade struck on a Saturday with T+1 settles on Monday.
    """
    if abs(n) > MAX_BUSINESS_DAYS:
        raise ValueError(f"n must be within ±{MAX_BUSINESS_DAYS} business days, got {n}")
    step = timedelta(days=1 if n >= 0 else -1)
    day = d
    remaining = abs(n)
    while remaining > 0:
        day += step
        if is_business_day(day, holidays, working_weekends=working_weekends):
            remaining -= 1
    return day
