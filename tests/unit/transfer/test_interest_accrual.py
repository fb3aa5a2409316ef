"""The interest bound of a repayment (transfer/rules/interest_accrual.py), held to a day-by-day count."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from transfer.rules.interest_accrual import EarlierRepayment, max_interest_fen

ORIGINATED_ON = date(2026, 1, 1)
# 1,000,000.00 at 3.65 % a year: exactly 100.00 (10,000 fen) a day.
OUTSTANDING_FEN = 1_000_000_00
RATE_BPS = 365


def _bound(
    received_on: date,
    earlier: list[EarlierRepayment],
    tolerance_bps: int = 10_000,
    outstanding: int = OUTSTANDING_FEN,
) -> int:
    return max_interest_fen(
        outstanding_principal_fen=outstanding,
        rate_bps=RATE_BPS,
        originated_on=ORIGINATED_ON,
        received_on=received_on,
        earlier=earlier,
        tolerance_bps=tolerance_bps,
    )


def test_the_first_repayment_may_carry_the_interest_since_origination_times_the_tolerance() -> None:
    assert _bound(date(2026, 1, 11), []) == 10 * 10_000
    assert _bound(date(2026, 1, 11), [], tolerance_bps=15_000) == 15 * 10_000
    assert _bound(ORIGINATED_ON, []) == 0


def test_the_bound_rounds_up_to_the_fen() -> None:
    # 1 fen at 3.65 % for one day is 0.0001 fen: a bound of 1 fen, never 0 for a positive accrual.
    assert _bound(date(2026, 1, 2), [], outstanding=1) == 1


def test_a_principal_repayment_lowers_the_accrual_from_its_day_and_interest_paid_counts_against_it() -> None:
    # 10 days on 1,000,000.00, then half repaid: 10 more days at 50.00 a day; 300.00 already collected.
    earlier = [EarlierRepayment(date(2026, 1, 11), 500_000_00, 300_00)]
    assert _bound(date(2026, 1, 21), earlier, outstanding=500_000_00) == 10 * 10_000 + 10 * 5_000 - 300_00


def test_interest_collected_in_full_leaves_nothing_on_the_same_day() -> None:
    earlier = [EarlierRepayment(date(2026, 1, 11), 0, 10 * 10_000)]
    assert _bound(date(2026, 1, 11), earlier) == 0
    assert _bound(date(2026, 1, 12), earlier) == 10_000


def test_principal_repaid_in_full_still_lets_the_interest_it_accrued_be_collected() -> None:
    earlier = [EarlierRepayment(date(2026, 1, 11), OUTSTANDING_FEN, 0)]
    assert _bound(date(2026, 3, 1), earlier, outstanding=0) == 10 * 10_000


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 200_000_00), st.integers(0, 5_000_00)), max_size=6
    ),
    st.integers(0, 400),
    st.integers(10_000, 50_000),
)
def test_the_bound_equals_a_day_by_day_accrual_less_what_was_collected(
    steps: list[tuple[int, int, int]], day: int, tolerance_bps: int
) -> None:
    earlier = [EarlierRepayment(ORIGINATED_ON + timedelta(days=d), p, i) for d, p, i in steps]
    outstanding_now = OUTSTANDING_FEN
    received_on = ORIGINATED_ON + timedelta(days=day)
    accrued_numerator = 0
    for offset in range(day):
        today = ORIGINATED_ON + timedelta(days=offset)
        # Principal outstanding through `today`: now's plus what was repaid after it.
        outstanding = outstanding_now + sum(r.principal_fen for r in earlier if r.received_on > today)
        accrued_numerator += outstanding * RATE_BPS * tolerance_bps
    accrued_fen = -(-accrued_numerator // (365 * 10_000 * 10_000))
    expected = max(0, accrued_fen - sum(r.interest_fen for r in earlier))
    assert _bound(received_on, earlier, tolerance_bps, outstanding_now) == expected
