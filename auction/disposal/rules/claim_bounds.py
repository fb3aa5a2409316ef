"""How large the creditor's claim at default may be (the secured scope, 民法典第389条, bounded by the
loan's own terms), so the pledgor's surplus (第438条) cannot be erased by a claim on the creditor's
word alone. The settings and their sources are in the README's settings table.

Interest at the contract rate on the principal (what was outstanding, at most), over the days since the loan began or
last paid interest, actual/365, plus a tolerance for day-count conventions (banks also quote a
daily rate of the yearly rate / 360) and rounding. Penalty interest at most the penalty rate (a
multiple of the contract rate) over the same days. Realization costs at most a share of the
principal outstanding at default, in total (declared at default and added later).
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS_PER_YEAR = 365
BPS = 10_000
MAX_DAYS = 365 * 100  # a century of accrual: beyond any loan; a larger span is a wrong date


@dataclass(frozen=True, slots=True)
class ClaimBounds:
    # Interest may exceed the actual/365 figure by this much (200 bps = 2 %: actual/360 is 1.4 %).
    interest_tolerance_bps: int = 200
    # The penalty rate, as basis points of the contract rate (15,000: the contract rate + 50 %).
    penalty_rate_max_bps: int = 15_000
    # Realization costs in total, as basis points of the principal outstanding at default.
    costs_max_bps: int = 1_000

    def __post_init__(self) -> None:
        assert 0 <= self.interest_tolerance_bps <= BPS
        assert 0 <= self.penalty_rate_max_bps <= 10 * BPS
        assert 0 <= self.costs_max_bps <= BPS


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def interest_max_fen(outstanding_fen: int, rate_bps: int, days: int, tolerance_bps: int) -> int:
    """The most interest `days` of accrual at `rate_bps` a year on `outstanding_fen` can have earned,
    with the tolerance, rounded up to the fen (a bound: an honest claim is never refused by a fen)."""
    assert outstanding_fen >= 0 and rate_bps >= 0 and tolerance_bps >= 0
    assert 0 <= days <= MAX_DAYS
    return _ceil_div(outstanding_fen * rate_bps * days * (BPS + tolerance_bps), DAYS_PER_YEAR * BPS * BPS)


def penalty_max_fen(outstanding_fen: int, rate_bps: int, days: int, penalty_rate_max_bps: int) -> int:
    """The most penalty interest at the penalty rate (`penalty_rate_max_bps` of the contract rate)
    over `days` on `outstanding_fen`, rounded up to the fen."""
    assert outstanding_fen >= 0 and rate_bps >= 0 and penalty_rate_max_bps >= 0
    assert 0 <= days <= MAX_DAYS
    return _ceil_div(outstanding_fen * rate_bps * penalty_rate_max_bps * days, DAYS_PER_YEAR * BPS * BPS)


def costs_max_fen(principal_fen: int, costs_max_bps: int) -> int:
    """The most realization costs a case may carry in total."""
    assert principal_fen >= 0 and 0 <= costs_max_bps <= BPS
    return principal_fen * costs_max_bps // BPS


def accrual_days(days: int) -> int:
    """Days of accrual, never negative (a start in the future accrues nothing), at most MAX_DAYS."""
    return min(max(days, 0), MAX_DAYS)
