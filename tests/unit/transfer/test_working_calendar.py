"""China's working calendar: the package's holidays and 调休 working weekends, the operator's file
over them, and the start-up warning for a year nobody covers."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from app.settings import SettingsError, load_settings
from app.working_calendar import load_calendar, package_calendar, warn_uncovered_years
from tests.unit.exact import exactly
from transfer.rules.working_calendar import (
    CalendarOverrides,
    OverrideFileError,
    WorkingCalendar,
    parse_overrides,
    with_overrides,
)

CHINA = package_calendar()


def test_t_plus_3_across_spring_festival_2026_counts_the_working_saturday_and_skips_the_holiday() -> None:
    # Thu 12 Feb; Fri 13 (1), Sat 14 is a 调休 working day (2), 15-23 Feb is the holiday, Tue 24 (3).
    assert CHINA.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert WorkingCalendar().add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 17)


def test_t_plus_3_across_national_day_2025_lands_on_the_working_saturday_after_it() -> None:
    # Tue 30 Sep; 1-8 Oct is the holiday; Thu 9 (1), Fri 10 (2), Sat 11 Oct is a working day (3).
    assert CHINA.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # Fri 26 Sep: Sun 28 Sep is a working day (1), Mon 29 (2), Tue 30 (3).
    assert CHINA.add_working_days(date(2025, 9, 26), 3) == date(2025, 9, 30)


def test_a_deadline_on_a_holiday_moves_to_the_next_working_day_and_a_working_day_stays() -> None:
    assert CHINA.on_or_next_working_day(date(2025, 10, 1)) == date(2025, 10, 9)
    assert CHINA.on_or_next_working_day(date(2025, 9, 28)) == date(2025, 9, 28)  # a working Sunday
    assert CHINA.on_or_next_working_day(date(2025, 6, 7)) == date(2025, 6, 9)  # a plain Saturday


def test_the_package_covers_the_years_it_lists_and_not_the_next_one() -> None:
    assert CHINA.uncovered(range(2004, 2027)) == []
    assert CHINA.uncovered([2027]) == [2027]


def test_the_override_file_adds_and_cancels_days_and_declares_a_year_covered(tmp_path: Path) -> None:
    path = tmp_path / "days.txt"
    path.write_text(
        "# 2027 notice, as published\n"
        "2027-02-06 holiday   # a Saturday off\n"
        "2027-02-08 holiday\n"
        "2027-02-20 workday   # a Saturday worked\n"
        "2026-10-07 workday   # the package's holiday cancelled\n"
        "\n"
        "2027 covered\n",
        encoding="utf-8",
    )
    calendar = load_calendar(load_settings({"IPX_CALENDAR_OVERRIDES_PATH": str(path)}))

    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 20))
    assert calendar.is_working_day(date(2026, 10, 7))
    assert not calendar.is_working_day(date(2026, 10, 6))  # the package's word elsewhere
    assert calendar.uncovered([2026, 2027]) == []
    assert calendar.source.endswith("+ days.txt")
    # Fri 5 Feb 2027 + 1: Sat 6 forced off, Sun 7, Mon 8 forced off, Tue 9.
    assert calendar.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 9)


def test_a_forced_holiday_on_a_working_weekend_is_a_holiday() -> None:
    overrides = CalendarOverrides(holidays=frozenset({date(2025, 9, 28)}))
    calendar = with_overrides(CHINA, overrides, "test")
    assert not calendar.is_working_day(date(2025, 9, 28))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2027-02-30 holiday\n", "line 1: not a date"),
        ("# ok\n2027-02-01 day off\n", "line 2: expected"),
        ("2027-02-01 vacation\n", "line 1: the kind must be"),
        ("27 covered\n", "line 1: 'covered' needs a year"),
        ("2027-02-01 holiday\n2027-02-01 workday\n", "line 2: 2027-02-01 is listed twice"),
    ],
)
def test_a_wrong_override_line_is_refused_with_its_number(text: str, reason: str) -> None:
    with pytest.raises(OverrideFileError, match=reason):
        parse_overrides(text)


def test_a_wrong_override_file_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("2027-13-01 holiday\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"IPX_CALENDAR_OVERRIDES_PATH .*line 1: not a date"):
        load_settings({"IPX_CALENDAR_OVERRIDES_PATH": str(path)})
    with pytest.raises(SettingsError, match="IPX_CALENDAR_OVERRIDES_PATH cannot be read"):
        load_settings({"IPX_CALENDAR_OVERRIDES_PATH": str(tmp_path / "missing.txt")})


def test_start_warns_for_each_year_ahead_the_calendar_does_not_cover() -> None:
    with capture_logs() as logs:
        missing = warn_uncovered_years(CHINA, date(2026, 12, 2), years_ahead=2)
    assert missing == [2027, 2028]
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [entry["year"] for entry in warnings] == [2027, 2028]
    assert "weekdays only" in warnings[0]["event"]
    assert "IPX_CALENDAR_OVERRIDES_PATH" in warnings[0]["fix"]


def test_start_is_silent_when_every_year_ahead_is_covered() -> None:
    with capture_logs() as logs:
        assert warn_uncovered_years(CHINA, date(2025, 3, 1), years_ahead=1) == []
    assert logs == []


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 1)), st.integers(0, 30))
def test_t_plus_n_is_a_working_day_with_n_working_days_after_the_start(start: date, n: int) -> None:
    end = CHINA.add_working_days(start, n)
    if n:
        assert CHINA.is_working_day(end)
    between = [
        day
        for day in (date.fromordinal(o) for o in range(start.toordinal() + 1, end.toordinal() + 1))
        if CHINA.is_working_day(day)
    ]
    assert len(between) == n


def test_a_comment_starts_at_the_first_hash_and_a_covered_year_does_not_end_the_file() -> None:
    parsed = parse_overrides("2027 covered\n2027-01-04 holiday # note # and more\n\n2027-02-06 workday\n")
    assert parsed == CalendarOverrides(
        frozenset({date(2027, 1, 4)}), frozenset({date(2027, 2, 6)}), frozenset({2027})
    )
    assert parsed.lines == 4


def test_a_deadline_moves_across_a_run_of_31_days_off_and_no_further() -> None:
    start = date(2027, 1, 4)  # a Monday; 31 days later is Thursday 4 February
    run_31 = WorkingCalendar(holidays=frozenset(start + timedelta(days=n) for n in range(31)))
    assert run_31.on_or_next_working_day(start) == date(2027, 2, 4)
    run_32 = WorkingCalendar(holidays=frozenset(start + timedelta(days=n) for n in range(32)))
    with pytest.raises(ValueError, match=exactly("no working day within 31 days of 2027-01-04")):
        run_32.on_or_next_working_day(start)
