"""The annuity schedule against hand-worked examples (DESIGN.md section 3, "Patent annuities")."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.working_calendar import package_calendar
from tests.unit.exact import exactly
from transfer.rules.annuity_fees import DESIGN, INVENTION, UTILITY, term_of
from transfer.rules.annuity_schedule import (
    AnnuityPolicy,
    AnnuityYear,
    add_months,
    anniversary,
    grace_months,
    late_fee_on,
    patent_year_on,
    restoration_deadline,
    restoration_late_fee_fen,
    schedule,
    term_ends_on,
)

CHINA = package_calendar()
POLICY = AnnuityPolicy()
WIDE = {"due_from": date(2000, 1, 1), "due_until": date(2060, 1, 1)}


def _years(
    kind: str, filed_on: date, granted_on: date | None = None, bps: int = 0, **window: date
) -> list[AnnuityYear]:
    return schedule(kind, filed_on, granted_on, bps, CHINA, **(window or WIDE))


def test_a_29_february_filing_falls_due_on_28_february_in_other_years_and_29_in_leap_years() -> None:
    years = _years(
        INVENTION,
        date(2020, 2, 29),
        date(2022, 6, 15),
        due_from=date(2023, 1, 1),
        due_until=date(2027, 12, 31),
    )
    # Granted in patent year 3 (28 Feb 2022 - 27 Feb 2023): years 1-3 were paid at grant.
    assert [(y.patent_year, y.anniversary_on, y.due_on, y.fee_fen) for y in years] == [
        (4, date(2023, 2, 28), date(2023, 2, 28), 120_000),
        (5, date(2024, 2, 29), date(2024, 2, 29), 120_000),
        (6, date(2025, 2, 28), date(2025, 2, 28), 120_000),
        # Saturday 28 Feb 2026 is a 调休 working day: the deadline does not move.
        (7, date(2026, 2, 28), date(2026, 2, 28), 200_000),
        # Sunday 28 Feb 2027 moves to Monday (2027 is weekdays-only until its notice is loaded).
        (8, date(2027, 2, 28), date(2027, 3, 1), 200_000),
    ]
    assert patent_year_on(date(2020, 2, 29), date(2021, 2, 27)) == 1
    assert patent_year_on(date(2020, 2, 29), date(2021, 2, 28)) == 2


def test_a_due_date_on_national_day_moves_to_the_first_working_day_after_the_holiday() -> None:
    years = _years(INVENTION, date(2015, 10, 1), due_from=date(2025, 1, 1), due_until=date(2026, 12, 31))
    assert [(y.patent_year, y.due_on, y.fee_fen) for y in years] == [
        (11, date(2025, 10, 9), 400_000),  # 1-8 October 2025 is the holiday
        (12, date(2026, 10, 8), 400_000),  # 1-7 October 2026
    ]


def test_a_design_filed_on_31_may_2021_runs_10_years_and_one_filed_on_1_june_2021_runs_15() -> None:
    before = _years(DESIGN, date(2021, 5, 31))
    after = _years(DESIGN, date(2021, 6, 1))
    assert term_of(DESIGN, date(2021, 5, 31)).term_years == 10
    assert term_ends_on(DESIGN, date(2021, 5, 31)) == date(2031, 5, 30)
    assert [y.patent_year for y in before] == list(range(2, 11))
    assert (before[-1].due_on, before[-1].fee_fen) == (date(2030, 5, 31), 200_000)
    assert term_ends_on(DESIGN, date(2021, 6, 1)) == date(2036, 5, 31)
    assert [y.patent_year for y in after] == list(range(2, 16))
    assert [(y.patent_year, y.due_on, y.fee_fen) for y in after[9:11]] == [
        (11, date(2031, 6, 2), 300_000),  # Sunday 1 June 2031
        (12, date(2032, 6, 1), 300_000),
    ]


def test_the_utility_model_table_and_term() -> None:
    fees = [(y.patent_year, y.fee_fen) for y in _years(UTILITY, date(2018, 4, 2))]
    assert fees == [
        (2, 60_000),
        (3, 60_000),
        (4, 90_000),
        (5, 90_000),
        (6, 120_000),
        (7, 120_000),
        (8, 120_000),
        (9, 200_000),
        (10, 200_000),
    ]


def test_a_reduction_from_grant_year_1_covers_year_10_and_not_year_11() -> None:
    years = {y.patent_year: y for y in _years(INVENTION, date(2016, 3, 15), date(2016, 11, 20), 8_500)}
    assert (years[10].due_on, years[10].fee_fen, years[10].full_fee_fen, years[10].reduced) == (
        date(2025, 3, 17),
        60_000,
        400_000,
        True,  # 15 % of 4,000.00; Saturday 15 March moves
    )
    assert (years[11].due_on, years[11].fee_fen, years[11].reduced) == (date(2026, 3, 16), 400_000, False)
    assert years[2].fee_fen == 13_500  # 15 % of 900.00


def test_a_reduction_from_grant_year_2_covers_years_10_and_11_and_not_12() -> None:
    years = {y.patent_year: y for y in _years(INVENTION, date(2016, 3, 15), date(2017, 4, 1), 7_000)}
    assert 2 not in years  # paid at grant
    assert [(n, years[n].fee_fen, years[n].reduced) for n in (10, 11, 12)] == [
        (10, 120_000, True),
        (11, 120_000, True),
        (12, 400_000, False),  # 30 % of 4,000.00
    ]


def test_a_reduction_without_a_grant_date_or_of_an_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="grant date"):
        _years(INVENTION, date(2016, 3, 15), None, 8_500)
    with pytest.raises(ValueError, match="one of"):
        _years(INVENTION, date(2016, 3, 15), date(2017, 1, 1), 5_000)


def test_grace_months_end_on_working_days_with_the_late_fee_steps_of_the_full_fee() -> None:
    months = grace_months(date(2025, 3, 10), 120_000, POLICY, CHINA)
    assert [(m.month, m.ends_on, m.late_fee_fen) for m in months] == [
        (1, date(2025, 4, 10), 0),
        (2, date(2025, 5, 12), 6_000),  # Saturday 10 May moves to Monday
        (3, date(2025, 6, 10), 12_000),
        (4, date(2025, 7, 10), 18_000),
        (5, date(2025, 8, 11), 24_000),  # Sunday 10 August
        (6, date(2025, 9, 10), 30_000),
    ]


@pytest.mark.parametrize(
    ("paid_on", "late_fee_fen"),
    [
        (date(2025, 3, 10), 0),  # on the due date
        (date(2025, 4, 10), 0),  # the last day of the first month
        (date(2025, 4, 11), 6_000),  # the first day of the second month: 5 %
        (date(2025, 5, 12), 6_000),
        (date(2025, 5, 13), 12_000),
        (date(2025, 8, 11), 24_000),
        (date(2025, 8, 12), 30_000),
        (date(2025, 9, 10), 30_000),  # the last day of grace: 25 %
        (date(2025, 9, 11), None),  # lapsed
    ],
)
def test_the_late_fee_on_every_month_boundary(paid_on: date, late_fee_fen: int | None) -> None:
    months = grace_months(date(2025, 3, 10), 120_000, POLICY, CHINA)
    assert late_fee_on(paid_on, date(2025, 3, 10), months) == late_fee_fen


def test_the_late_fee_steps_and_cap_are_settings() -> None:
    policy = AnnuityPolicy(late_fee_step_bps=1_000, late_fee_cap_bps=2_000, grace_months=4, free_months=0)
    months = grace_months(date(2025, 3, 10), 100_000, policy, CHINA)
    assert [m.late_fee_fen for m in months] == [10_000, 20_000, 20_000, 20_000]


def test_restoration_is_possible_for_two_months_after_the_lapse_notice_at_the_capped_late_fee() -> None:
    assert restoration_deadline(date(2025, 9, 10), POLICY, CHINA) == date(2025, 11, 11)
    assert restoration_late_fee_fen(120_000, POLICY) == 30_000
    assert POLICY.restoration_fee_fen == 100_000


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert anniversary(date(2020, 2, 29), 4) == date(2024, 2, 29)


@given(
    st.sampled_from([INVENTION, UTILITY, DESIGN]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 1, 1)),
    st.sampled_from([0, 7_000, 8_500]),
    st.integers(0, 3),
)
def test_every_schedule_is_ordered_within_the_term_on_working_days_and_never_above_the_table(
    kind: str, filed_on: date, bps: int, grant_after_years: int
) -> None:
    granted_on = anniversary(filed_on, grant_after_years)
    years = _years(kind, filed_on, granted_on, bps)
    grant_year = patent_year_on(filed_on, granted_on)
    assert [y.patent_year for y in years] == list(
        range(grant_year + 1, term_of(kind, filed_on).term_years + 1)
    )
    for year in years:
        assert year.anniversary_on <= year.due_on <= term_ends_on(kind, filed_on)
        assert CHINA.is_working_day(year.due_on)
        assert 0 < year.fee_fen <= year.full_fee_fen
        assert year.reduced == (bps > 0 and year.patent_year < grant_year + 10)


def test_refusals_name_the_day_the_kind_and_the_year() -> None:
    with pytest.raises(ValueError, match=exactly("2020-03-14 is before the filing date 2020-03-15")):
        patent_year_on(date(2020, 3, 15), date(2020, 3, 14))
    with pytest.raises(ValueError, match=exactly("'trademark' is not a patent kind")):
        term_of("trademark", date(2020, 3, 15))
    term = term_of(INVENTION, date(2020, 3, 15))
    with pytest.raises(ValueError, match=exactly("a invention_patent has no patent year 21 (term 20 years)")):
        term.fee_fen(21)
    with pytest.raises(
        ValueError, match=exactly("a fee reduction counts from the grant year, so it needs the grant date")
    ):
        _years(INVENTION, date(2016, 3, 15), None, 8_500)


def test_the_window_includes_a_fee_due_on_either_of_its_ends() -> None:
    # 15 March 2021 is a Monday: year 2 of a patent filed on 15 March 2020 is due that day.
    on_the_day = date(2021, 3, 15)
    years = _years(INVENTION, date(2020, 3, 15), due_from=on_the_day, due_until=on_the_day)
    assert [year.patent_year for year in years] == [2]


def test_fees_are_whole_fen_even_when_a_percentage_is_not() -> None:
    reduced = _years(INVENTION, date(2016, 3, 15), date(2017, 1, 1), 8_500)
    assert all(type(year.fee_fen) is int for year in reduced)
    assert [type(m.late_fee_fen) for m in grace_months(date(2025, 3, 10), 120_001, POLICY, CHINA)] == [
        int
    ] * 6
    # 5 % of 1,200.01 yuan is 60.0005 yuan: the late fee is rounded down to the fen.
    assert grace_months(date(2025, 3, 10), 120_001, POLICY, CHINA)[1].late_fee_fen == 6_000
    assert restoration_late_fee_fen(120_001, POLICY) == 30_000
    assert type(restoration_late_fee_fen(120_001, POLICY)) is int


def test_paying_on_the_due_date_is_never_late_even_without_a_free_month() -> None:
    strict = AnnuityPolicy(free_months=0)
    months = grace_months(date(2025, 3, 10), 120_000, strict, CHINA)
    assert months[0].late_fee_fen == 6_000
    assert late_fee_on(date(2025, 3, 10), date(2025, 3, 10), months) == 0
    assert late_fee_on(date(2025, 3, 11), date(2025, 3, 10), months) == 6_000


def test_the_policy_accepts_its_bounds_and_refuses_past_them() -> None:
    for bounds in (
        {"grace_months": 1, "free_months": 1},
        {"grace_months": 24, "free_months": 24},
        {"free_months": 0},
        {"late_fee_step_bps": 0, "late_fee_cap_bps": 0},
        {"late_fee_step_bps": 10_000, "late_fee_cap_bps": 10_000},
    ):
        policy = AnnuityPolicy(**bounds)
        assert all(getattr(policy, name) == value for name, value in bounds.items())
    for past in (
        {"grace_months": 0, "free_months": 0},
        {"grace_months": 25},
        {"grace_months": 3, "free_months": 4},
        {"free_months": -1},
        {"late_fee_step_bps": -1},
        {"late_fee_step_bps": 10_001},
        {"late_fee_cap_bps": -1},
        {"late_fee_cap_bps": 10_001},
    ):
        with pytest.raises(AssertionError):
            AnnuityPolicy(**past)
