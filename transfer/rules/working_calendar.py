"""China's working-day calendar as data: public holidays, the weekends moved into working days
(调休), and the years that data is known to cover.

One calendar serves the whole system (settlement dates, annuity deadlines, statements). The data
comes from a maintained package plus an operator's override file, loaded by the wiring at start
(app/working_calendar.py); this module only answers questions about the data it is given and
parses the override file's text, so it can be property-tested without I/O.

A year outside `covered_years` is answered with weekdays only: that is the best guess, never a
silent one, since the wiring warns at start for every uncovered year it will need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from transfer.rules.business_days import add_business_days, is_business_day

# The override file's two kinds of day, and the line that declares a whole year's schedule known.
HOLIDAY = "holiday"
WORKDAY = "workday"
COVERED = "covered"

# A deadline moves over a run of holidays (Spring Festival is 8 or 9 days); a longer walk means
# corrupt data, and the bound keeps a bad file from looping a year.
MAX_NON_WORKING_RUN_DAYS = 31


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()
    # Where the data came from ("chinese-calendar 1.11.0 + overrides.txt"), for logs and answers.
    source: str = "weekdays only"

    def is_working_day(self, day: date) -> bool:
        return is_business_day(day, self.holidays, working_weekends=self.working_weekends)

    def add_working_days(self, day: date, n: int) -> date:
        """T + n working days (see business_days.add_business_days)."""
        return add_business_days(day, n, self.holidays, working_weekends=self.working_weekends)

    def on_or_next_working_day(self, day: date) -> date:
        """A deadline that falls on a weekend or public holiday moves to the next working day
        (DESIGN.md section 3, "Patent annuities")."""
        moved = day
        for _ in range(MAX_NON_WORKING_RUN_DAYS + 1):
            if self.is_working_day(moved):
                return moved
            moved += timedelta(days=1)
        raise ValueError(f"no working day within {MAX_NON_WORKING_RUN_DAYS} days of {day}")

    def uncovered(self, years: Iterable[int]) -> list[int]:
        return sorted(set(years) - self.covered_years)


@dataclass(frozen=True, slots=True)
class CalendarOverrides:
    """What an operator's file says: days forced to holiday or to working day, years declared known."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()
    lines: int = field(default=0, compare=False)


class OverrideFileError(ValueError):
    pass


def parse_overrides(text: str) -> CalendarOverrides:
    """Parse an override file: one entry a line, `#` starts a comment, blank lines are skipped.

        2027-01-01 holiday     the day is a public holiday (whatever the package says)
        2027-02-07 workday     the day is a working day (a 调休 weekend, or a holiday cancelled)
        2027 covered           the file (with the package) holds 2027's whole schedule: no warning

    A wrong line raises OverrideFileError naming the line number and what is wrong.
    """
    holidays: set[date] = set()
    workdays: set[date] = set()
    covered: set[int] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise OverrideFileError(f"line {number}: expected 'YYYY-MM-DD holiday|workday' or 'YYYY covered'")
        when, what = parts[0], parts[1].lower()
        if what == COVERED:
            if not (len(when) == 4 and when.isdigit()):
                raise OverrideFileError(f"line {number}: 'covered' needs a year YYYY, got {when!r}")
            covered.add(int(when))
            continue
        if what not in (HOLIDAY, WORKDAY):
            raise OverrideFileError(
                f"line {number}: the kind must be holiday, workday or covered, got {what!r}"
            )
        try:
            day = date.fromisoformat(when)
        except ValueError:
            raise OverrideFileError(f"line {number}: not a date YYYY-MM-DD: {when!r}") from None
        if day in holidays or day in workdays:
            raise OverrideFileError(f"line {number}: {day} is listed twice")
        (holidays if what == HOLIDAY else workdays).add(day)
    return CalendarOverrides(
        frozenset(holidays), frozenset(workdays), frozenset(covered), len(text.splitlines())
    )


def with_overrides(base: WorkingCalendar, overrides: CalendarOverrides, source: str) -> WorkingCalendar:
    """The operator's word wins over the package's, day by day.

    A forced holiday stops being a working weekend; a forced working day stops being a holiday and,
    on a weekend, becomes a working weekend (a weekday needs nothing more once it is no holiday).
    """
    holidays = (base.holidays - overrides.workdays) | overrides.holidays
    working_weekends = (base.working_weekends - overrides.holidays) | {
        day for day in overrides.workdays if day.weekday() >= 5
    }
    return WorkingCalendar(
        holidays=frozenset(holidays),
        working_weekends=frozenset(working_weekends),
        covered_years=base.covered_years | overrides.covered_years,
        source=source,
    )
