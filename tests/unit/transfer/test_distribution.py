from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.distribution import HolderShare, distribute_repayment
from transfer.rules.shares import WHOLE_SHARE_PPM


@st.composite
def holder_sets(draw: st.DrawFn) -> list[HolderShare]:
    # Distinct cut points in (0, 1e6) split the whole into positive shares that sum exactly.
    cuts = sorted(draw(st.sets(st.integers(1, WHOLE_SHARE_PPM - 1), max_size=40)))
    bounds = [0, *cuts, WHOLE_SHARE_PPM]
    shares_ppm = [high - low for low, high in pairwise(bounds)]
    holder_ids = draw(st.permutations(range(1, len(shares_ppm) + 1)))
    return [
        HolderShare(holder_id, share_ppm) for holder_id, share_ppm in zip(holder_ids, shares_ppm, strict=True)
    ]


amounts_fen = st.integers(min_value=0, max_value=10**15)


@given(holders=holder_sets(), principal_fen=amounts_fen, interest_fen=amounts_fen)
def test_principal_and_interest_each_sum_exactly_over_random_holders(
    holders: list[HolderShare], principal_fen: int, interest_fen: int
) -> None:
    lines = distribute_repayment(principal_fen, interest_fen, holders)
    assert sum(line.principal_fen for line in lines) == principal_fen
    assert sum(line.interest_fen for line in lines) == interest_fen
    assert [line.holder_id for line in lines] == [holder.holder_id for holder in holders]


@given(holders=holder_sets(), principal_fen=amounts_fen, interest_fen=amounts_fen)
def test_each_holder_is_within_one_fen_of_their_exact_share(
    holders: list[HolderShare], principal_fen: int, interest_fen: int
) -> None:
    for line in distribute_repayment(principal_fen, interest_fen, holders):
        for paid_fen, amount_fen in ((line.principal_fen, principal_fen), (line.interest_fen, interest_fen)):
            exact = Fraction(amount_fen * line.share_ppm, WHOLE_SHARE_PPM)
            assert math.floor(exact) <= paid_fen <= math.ceil(exact)


def test_single_holder_receives_everything() -> None:
    (line,) = distribute_repayment(123_45, 6_78, [HolderShare(7, WHOLE_SHARE_PPM)])
    assert (line.holder_id, line.principal_fen, line.interest_fen, line.amount_fen) == (
        7,
        123_45,
        6_78,
        130_23,
    )


def test_odd_fen_goes_to_the_largest_remainder() -> None:
    holders = [HolderShare(1, 333_333), HolderShare(2, 333_334), HolderShare(3, 333_333)]
    lines = distribute_repayment(100, 2, holders)
    assert [line.principal_fen for line in lines] == [33, 34, 33]
    # 2 fen: remainders 0.666666, 0.666668, 0.666666 -> holder 2 first, then the earlier-listed holder 1.
    assert [line.interest_fen for line in lines] == [1, 1, 0]


@pytest.mark.parametrize(
    ("principal_fen", "interest_fen", "holders", "message"),
    [
        (-1, 0, [HolderShare(1, WHOLE_SHARE_PPM)], "principal_fen and interest_fen must not be negative"),
        (0, -1, [HolderShare(1, WHOLE_SHARE_PPM)], "principal_fen and interest_fen must not be negative"),
        (100, 0, [], "a loan always has at least one income-right holder"),
        (100, 0, [HolderShare(1, 999_999)], "shares must sum to 1000000 ppm, got 999999"),
        (
            100,
            0,
            [HolderShare(1, 500_000), HolderShare(1, 500_000)],
            "each holder must appear once; merge repeated holders' shares first",
        ),
        (
            100,
            0,
            [HolderShare(1, WHOLE_SHARE_PPM), HolderShare(2, 0)],
            "every holder's share_ppm must be positive",
        ),
    ],
)
def test_invalid_holder_sets_and_amounts_are_refused_with_the_rule_they_break(
    principal_fen: int, interest_fen: int, holders: list[HolderShare], message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        distribute_repayment(principal_fen, interest_fen, holders)
