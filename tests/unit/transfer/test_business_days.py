from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.business_days import MAX_BUSINESS_DAYS, add_business_days, is_business_day

FRIDAY = date(2025, 6, 6)
SATURDAY = date(2025, 6, 7)
SUNDAY = date(2025, 6, 8)
MONDAY = date(2025, 6, 9)


def test_friday_plus_one_business_day_is_monday() -> None:
    assert add_business_days(FRIDAY, 1) == MONDAY


def test_friday_plus_three_business_days_is_wednesday() -> None:
    assert add_business_days(FRIDAY, 3) == date(2025, 6, 11)


def test_trade_on_a_weekend_plus_one_settles_on_monday() -> None:
    assert add_business_days(SATURDAY, 1) == MONDAY
    assert add_business_days(SUNDAY, 1) == MONDAY


def test_zero_business_days_returns_the_date_unchanged_even_on_a_weekend() -> None:
    assert add_business_days(SATURDAY, 0) == SATURDAY


def test_holidays_are_skipped_like_weekends() -> None:
    # National Day week 2025: 1–8 October off; 9 October (Thursday) is the next working day.
    national_day = frozenset(date(2025, 10, day) for day in range(1, 9))
    assert add_business_days(date(2025, 9, 30), 1, national_day) == date(2025, 10, 9)


def test_weekend_declared_a_working_day_counts() -> None:
    # 28 September 2025 (a Sunday) was a make-up working day before National Day.
    working_sunday = date(2025, 9, 28)
    assert (
        add_business_days(date(2025, 9, 26), 1, working_weekends=frozenset({working_sunday}))
        == working_sunday
    )
    assert add_business_days(date(2025, 9, 26), 1) == date(2025, 9, 29)


def test_negative_n_counts_back() -> None:
    assert add_business_days(MONDAY, -1) == FRIDAY


def test_absurd_step_is_refused() -> None:
    with pytest.raises(ValueError, match=exactly("n must be within ±3660 business days, got 3661")):
        add_business_days(FRIDAY, MAX_BUSINESS_DAYS + 1)
    with pytest.raises(ValueError, match=exactly("n must be within ±3660 business days, got -3661")):
        add_business_days(FRIDAY, -(MAX_BUSINESS_DAYS + 1))


def test_the_largest_step_either_way_is_walked_in_full() -> None:
    # 3,660 business days without holidays are 732 whole weeks: Monday lands on a Monday.
    assert MAX_BUSINESS_DAYS == 3_660
    assert add_business_days(MONDAY, MAX_BUSINESS_DAYS) == MONDAY + timedelta(weeks=732) == date(2039, 6, 20)
    assert add_business_days(MONDAY, -MAX_BUSINESS_DAYS) == MONDAY - timedelta(weeks=732) == date(2011, 5, 30)


def test_a_holiday_on_a_working_weekend_day_is_still_a_holiday() -> None:
    # The holiday list wins over the make-up list: a day on both is not worked.
    assert not is_business_day(SATURDAY, frozenset({SATURDAY}), working_weekends=frozenset({SATURDAY}))
    assert is_business_day(SATURDAY, working_weekends=frozenset({SATURDAY}))
    assert not is_business_day(SUNDAY)
    assert is_business_day(FRIDAY)


holiday_sets = st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)), max_size=40)


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
    n=st.integers(1, 30),
    holidays=holiday_sets,
)
def test_result_is_a_business_day_with_exactly_n_business_days_after_the_start(
    start: date, n: int, holidays: frozenset[date]
) -> None:
    end = add_business_days(start, n, holidays)
    assert end > start
    assert is_business_day(end, holidays)
    days_between = [start + timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(is_business_day(day, holidays) for day in days_between) == n
    assert all(day.weekday() < 5 for day in days_between if is_business_day(day, holidays))


@given(start=st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)), n=st.integers(1, 30))
def test_forward_then_back_returns_to_a_business_start(start: date, n: int) -> None:
    if is_business_day(start):
        assert add_business_days(add_business_days(start, n), -n) == start
