"""The most interest a repayment may carry: what the loan can have accrued and not yet been paid.

Simple interest on the outstanding principal at the contract's annual rate, actual days over a
365-day year (the day count Chinese banks quote loan interest on). Over one period of constant
principal that is `outstanding × rate_bps × days / 365 / 10,000`; a repayment of principal starts a
new period. So the first repayment may carry at most the interest from origination to its
`received_on`, and each later one what the whole history accrued up to its `received_on`, widened by
the tolerance, less the interest already collected. Counting the whole history, not only the days
since the last repayment, keeps lawful patterns possible: principal and interest paid on different
days, two repayments on one day, the last interest paid after the last principal.

The accrual is widened by a tolerance multiplier (`IPX_REPAYMENT_INTEREST_TOLERANCE_BPS`, 10,000 =
exactly the accrual) for what a servicer may collect on top of contract interest (penalty interest
on overdue amounts) and for its own rounding; the README's settings table says why the default is
what it is. The bound rounds up, so an exact accrual in fen is never refused.

Integers only (DESIGN §4.1): no float ever decides whether an amount passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

DAYS_PER_YEAR = 365
BPS = 10_000
# The tolerance multiplier's limits: never below the accrual itself, never more than five times it.
TOLERANCE_MIN_BPS = BPS
TOLERANCE_MAX_BPS = 5 * BPS
# A loan's repayment history read for one bound: far beyond monthly payments over a 30-year term.
MAX_EARLIER_REPAYMENTS = 100_000


@dataclass(frozen=True, slots=True)
class EarlierRepayment:
    received_on: date
    principal_fen: int
    interest_fen: int


def max_interest_fen(
    *,
    outstanding_principal_fen: int,
    rate_bps: int,
    originated_on: date,
    received_on: date,
    earlier: Sequence[EarlierRepayment],
    tolerance_bps: int,
) -> int:
    """The most interest a repayment received on `received_on` may carry, in fen (never negative).

    `outstanding_principal_fen` is the loan's outstanding principal now, before this repayment;
    `earlier` are the loan's repayments already recorded, in any order. The principal outstanding on
    a day is today's plus every earlier repayment's principal received after that day.
    """
    assert outstanding_principal_fen >= 0 and rate_bps >= 0
    assert TOLERANCE_MIN_BPS <= tolerance_bps <= TOLERANCE_MAX_BPS
    assert len(earlier) <= MAX_EARLIER_REPAYMENTS
    assert all(r.principal_fen >= 0 and r.interest_fen >= 0 for r in earlier)
    outstanding_fen = outstanding_principal_fen + sum(r.principal_fen for r in earlier)
    principal_days = 0  # Σ outstanding × days, in fen-days
    period_start = originated_on
    for repayment in sorted(earlier, key=lambda r: r.received_on):
        if repayment.received_on >= received_on:
            break
        period_end = max(repayment.received_on, period_start)
        principal_days += outstanding_fen * (period_end - period_start).days
        period_start = period_end
        outstanding_fen -= repayment.principal_fen
    principal_days += outstanding_fen * max(0, (received_on - period_start).days)
    numerator = principal_days * rate_bps * tolerance_bps
    denominator = DAYS_PER_YEAR * BPS * BPS
    accrued_fen = -(-numerator // denominator)  # rounded up
    collected_fen = sum(r.interest_fen for r in earlier)
    return max(0, accrued_fen - collected_fen)
