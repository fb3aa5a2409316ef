from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from auction.disposal.rules.claim_bounds import (
    MAX_DAYS,
    accrual_days,
    costs_max_fen,
    interest_max_fen,
    penalty_max_fen,
)
from transfer.kernel.money import MAX_AMOUNT_FEN

principals = st.integers(0, MAX_AMOUNT_FEN)
rates = st.integers(0, 100_000)
days = st.integers(0, MAX_DAYS)


def test_a_million_at_four_percent_for_five_days_earns_at_most_its_interest_plus_the_tolerance() -> None:
    # 1,000,000.00 × 4 % × 5 / 365 = 547.945…; +2 % = 558.904… → 558.91 (rounded up to the fen).
    assert interest_max_fen(100_000_000, 400, 5, 200) == 55_891
    # The penalty rate at 150 % of 4 %: 821.917… → 821.92.
    assert penalty_max_fen(100_000_000, 400, 5, 15_000) == 82_192
    assert costs_max_fen(100_000_000, 1_000) == 10_000_000


@given(principals, rates, days, st.integers(0, 10_000))
def test_the_interest_bound_is_the_exact_actual_365_interest_and_tolerance_rounded_up(
    principal_fen: int, rate_bps: int, span_days: int, tolerance_bps: int
) -> None:
    exact = Fraction(principal_fen * rate_bps * span_days, 365 * 10_000) * Fraction(
        10_000 + tolerance_bps, 10_000
    )
    bound_fen = interest_max_fen(principal_fen, rate_bps, span_days, tolerance_bps)
    assert exact <= bound_fen < exact + 1
    assert interest_max_fen(principal_fen, rate_bps, min(span_days + 1, MAX_DAYS), tolerance_bps) >= bound_fen


@given(principals, rates, days)
def test_the_penalty_bound_at_the_contract_rate_is_the_interest_bound_without_tolerance(
    principal_fen: int, rate_bps: int, span_days: int
) -> None:
    assert penalty_max_fen(principal_fen, rate_bps, span_days, 10_000) == interest_max_fen(
        principal_fen, rate_bps, span_days, 0
    )


@given(st.integers(-10 * MAX_DAYS, 10 * MAX_DAYS))
def test_accrual_never_runs_backwards_nor_past_a_century(span_days: int) -> None:
    assert 0 <= accrual_days(span_days) <= MAX_DAYS
