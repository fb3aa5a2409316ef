"""Loading China's working calendar at start: the `chinese-calendar` package, then the operator's
override file (IPX_CALENDAR_OVERRIDES_PATH), and a warning for every year it will need and lacks.

Why `chinese-calendar`: it transcribes each year's State Council notice (国务院办公厅关于节假日安排的
通知) with both the holidays and the weekend days moved into working days (调休), as two tables, and
is updated every year when the notice comes out (README, "The working calendar").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import chinese_calendar
import structlog
from chinese_calendar import constants

from app.settings import Settings, SettingsError
from transfer.rules.working_calendar import (
    OverrideFileError,
    WorkingCalendar,
    parse_overrides,
    with_overrides,
)

log = structlog.get_logger("ipx.calendar")

PACKAGE = "chinese-calendar"


def package_calendar() -> WorkingCalendar:
    holidays = frozenset(constants.holidays)
    # The package lists the moved working days; only those on a weekend change anything.
    working_weekends = frozenset(day for day in constants.workdays if day.weekday() >= 5)
    covered = frozenset(day.year for day in holidays)
    version = getattr(chinese_calendar, "__version__", "?")
    return WorkingCalendar(holidays, working_weekends, covered, f"{PACKAGE} {version}")


def read_overrides(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(
            f"IPX_CALENDAR_OVERRIDES_PATH cannot be read: {error.strerror or error}"
        ) from None


def load_calendar(settings: Settings) -> WorkingCalendar:
    """The package's calendar with the operator's file over it; a bad file is a SettingsError."""
    base = package_calendar()
    path = settings.calendar_overrides_path
    if path is None:
        return base
    try:
        overrides = parse_overrides(read_overrides(path))
    except OverrideFileError as error:
        raise SettingsError(f"IPX_CALENDAR_OVERRIDES_PATH {path}: {error}") from None
    return with_overrides(base, overrides, f"{base.source} + {Path(path).name}")


def warn_uncovered_years(calendar: WorkingCalendar, today: date, years_ahead: int) -> list[int]:
    """Warn once per year from this one to `years_ahead` later that the calendar does not know:
    its dates fall back to weekdays only until the operator adds that year's notice. Returns them."""
    missing = calendar.uncovered(range(today.year, today.year + years_ahead + 1))
    for year in missing:
        log.warning(
            "working calendar does not cover a year: weekdays only until its holidays are added",
            year=year,
            source=calendar.source,
            fix="upgrade chinese-calendar, or list the year's days in IPX_CALENDAR_OVERRIDES_PATH"
            f" and end with '{year} covered'",
        )
    return missing
