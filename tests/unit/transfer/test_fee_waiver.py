from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.fee_schedule import DEFAULT_FEE_SCHEDULE, DEFAULT_SCHEDULE_EFFECTIVE_FROM
from transfer.rules.fee_waiver import (
    SCHEDULE_RULE,
    WAIVER_RULE,
    FeeLine,
    add_calendar_years,
    compute_fee_lines,
    is_fee_waived,
    shanghai_trade_date,
    waiver_window,
)

# DESIGN §3: IPX_FEE_WAIVER_START defaults to 2025-03-01, three years.
WAIVER_START = date(2025, 3, 1)
WAIVER_YEARS = 3
PRICE_FEN = 12_345_678_00


def lines_on(trade_date: date, *, is_ip_pledge: bool = True) -> list[FeeLine]:
    return compute_fee_lines(
        PRICE_FEN,
        trade_date,
        DEFAULT_FEE_SCHEDULE,
        is_ip_pledge=is_ip_pledge,
        waiver_start=WAIVER_START,
        waiver_years=WAIVER_YEARS,
    )


def all_waived(lines: list[FeeLine]) -> bool:
    return bool(lines) and all(
        line.charged_fen == 0 and line.waived_fen == line.gross_fen > 0 and line.rule == WAIVER_RULE
        for line in lines
    )


def all_charged(lines: list[FeeLine]) -> bool:
    return bool(lines) and all(
        line.waived_fen == 0 and line.charged_fen == line.gross_fen > 0 and line.rule == SCHEDULE_RULE
        for line in lines
    )


def test_window_of_three_years_from_1_march_2025_ends_before_1_march_2028() -> None:
    assert waiver_window(WAIVER_START, WAIVER_YEARS) == (date(2025, 3, 1), date(2028, 3, 1))


def test_day_before_the_start_is_charged() -> None:
    assert all_charged(lines_on(date(2025, 2, 28)))


def test_start_day_is_waived() -> None:
    assert all_waived(lines_on(date(2025, 3, 1)))


def test_last_day_inside_is_waived() -> None:
    # 2028 is a leap year: the last day of the window is 29 February 2028.
    assert all_waived(lines_on(date(2028, 2, 29)))


def test_first_day_after_is_charged() -> None:
    assert all_charged(lines_on(date(2028, 3, 1)))


SHANGHAI_BOUNDARY_CASES = [
    # 16:00 UTC is midnight in Shanghai (UTC+8): the trade date changes there, not at UTC midnight.
    (datetime(2025, 2, 28, 15, 59, 59, 999_999, tzinfo=UTC), date(2025, 2, 28), False),
    (datetime(2025, 2, 28, 16, 0, 0, tzinfo=UTC), date(2025, 3, 1), True),
    (datetime(2025, 3, 1, 0, 0, 0, tzinfo=UTC), date(2025, 3, 1), True),
    (datetime(2028, 2, 29, 15, 59, 59, 999_999, tzinfo=UTC), date(2028, 2, 29), True),
    (datetime(2028, 2, 29, 16, 0, 0, tzinfo=UTC), date(2028, 3, 1), False),
    # The same instants written with other offsets give the same Shanghai date.
    (datetime(2025, 3, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=8))), date(2025, 3, 1), True),
    (datetime(2025, 2, 28, 11, 0, 0, tzinfo=timezone(timedelta(hours=-5))), date(2025, 3, 1), True),
    (datetime(2025, 2, 28, 10, 59, 59, tzinfo=timezone(timedelta(hours=-5))), date(2025, 2, 28), False),
]


@pytest.mark.parametrize(("instant", "shanghai_date", "waived"), SHANGHAI_BOUNDARY_CASES)
def test_waiver_boundaries_follow_the_shanghai_calendar_date_of_the_instant(
    instant: datetime, shanghai_date: date, waived: bool
) -> None:
    trade_date = shanghai_trade_date(instant)
    assert trade_date == shanghai_date
    lines = lines_on(trade_date)
    assert all_waived(lines) if waived else all_charged(lines)


class _NoOffset(tzinfo):
    """A time zone that knows no offset: an instant in it is as unplaced as a naive one."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match=exactly("instant must be timezone-aware")):
        shanghai_trade_date(datetime(2025, 3, 1, 0, 0, 0))
    with pytest.raises(ValueError, match=exactly("instant must be timezone-aware")):
        shanghai_trade_date(datetime(2025, 3, 1, 0, 0, 0, tzinfo=_NoOffset()))


@given(trade_date=st.dates(min_value=DEFAULT_SCHEDULE_EFFECTIVE_FROM, max_value=date(2040, 12, 31)))
def test_non_ip_loan_is_never_waived(trade_date: date) -> None:
    assert all_charged(lines_on(trade_date, is_ip_pledge=False))


@given(
    trade_date=st.dates(min_value=DEFAULT_SCHEDULE_EFFECTIVE_FROM, max_value=date(2040, 12, 31)),
    waiver_start=st.dates(min_value=DEFAULT_SCHEDULE_EFFECTIVE_FROM, max_value=date(2040, 12, 31)),
    waiver_years=st.integers(0, 10),
    is_ip_pledge=st.booleans(),
)
def test_fee_is_waived_if_and_only_if_ip_pledge_and_trade_date_in_window(
    trade_date: date, waiver_start: date, waiver_years: int, is_ip_pledge: bool
) -> None:
    start, end_exclusive = waiver_window(waiver_start, waiver_years)
    expected = is_ip_pledge and start <= trade_date < end_exclusive
    lines = compute_fee_lines(
        PRICE_FEN,
        trade_date,
        DEFAULT_FEE_SCHEDULE,
        is_ip_pledge=is_ip_pledge,
        waiver_start=waiver_start,
        waiver_years=waiver_years,
    )
    assert all_waived(lines) if expected else all_charged(lines)


def test_default_schedule_gives_registration_listing_and_transaction_lines_for_the_right_payers() -> None:
    lines = lines_on(date(2025, 1, 15))
    assert [(line.item, line.payer, line.gross_fen) for line in lines] == [
        ("registration", "seller", 200_00),
        ("listing", "seller", 1_234_57),
        ("transaction", "seller", 2_469_14),
        ("transaction", "buyer", 2_469_14),
    ]


def test_waived_lines_keep_the_gross_amount_for_clearing_reports() -> None:
    charged = lines_on(date(2025, 2, 28))
    waived = lines_on(date(2025, 3, 1))
    assert [line.gross_fen for line in waived] == [line.gross_fen for line in charged]
    assert sum(line.waived_fen for line in waived) == sum(line.gross_fen for line in charged)


def test_window_starting_on_29_february_ends_exclusive_on_1_march_so_28_february_is_inside() -> None:
    start, end_exclusive = waiver_window(date(2024, 2, 29), 3)
    assert end_exclusive == date(2027, 3, 1)
    assert is_fee_waived(date(2027, 2, 28), is_ip_pledge=True, waiver_start=start, waiver_years=3)
    assert not is_fee_waived(date(2027, 3, 1), is_ip_pledge=True, waiver_start=start, waiver_years=3)


def test_29_february_plus_a_leap_number_of_years_keeps_29_february() -> None:
    assert add_calendar_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_zero_year_window_waives_nothing() -> None:
    assert not is_fee_waived(WAIVER_START, is_ip_pledge=True, waiver_start=WAIVER_START, waiver_years=0)


def test_negative_waiver_years_are_refused() -> None:
    with pytest.raises(ValueError, match=exactly("waiver years must not be negative, got -1")):
        waiver_window(WAIVER_START, -1)


def test_window_beyond_the_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match=exactly("9998-01-01 plus 3 years is outside the calendar")):
        waiver_window(date(9998, 1, 1), 3)


def test_trade_before_any_schedule_version_has_no_fee_lines() -> None:
    assert lines_on(DEFAULT_SCHEDULE_EFFECTIVE_FROM - timedelta(days=1), is_ip_pledge=False) == []


def test_calendar_years_reach_the_first_and_last_years_of_the_calendar() -> None:
    assert add_calendar_years(date(2000, 1, 1), -1999) == date(1, 1, 1)
    assert add_calendar_years(date(2000, 12, 31), 7999) == date(9999, 12, 31)
    assert add_calendar_years(date(9999, 12, 31), 0) == date(9999, 12, 31)


@pytest.mark.parametrize(("start", "years"), [(date(2000, 1, 1), -2000), (date(2000, 1, 1), 8000)])
def test_calendar_years_past_either_end_of_the_calendar_are_refused_by_name(start: date, years: int) -> None:
    # Year 0 and year 10000 do not exist; the refusal must say so, not fail deeper in `date`.
    with pytest.raises(ValueError, match=exactly(f"{start} plus {years} years is outside the calendar")):
        add_calendar_years(start, years)


def test_29_february_moved_into_a_common_year_is_1_march() -> None:
    assert add_calendar_years(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert add_calendar_years(date(2024, 2, 29), -1) == date(2023, 3, 1)
