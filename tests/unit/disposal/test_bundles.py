from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.disposal.rules.bundles import bundle_minimum_fen, split_by_appraisal
from auction.disposal.rules.rounds import RoundLimits, round_minimum_fen


def test_a_bundle_starts_at_no_less_than_the_sum_of_its_cases_minimums() -> None:
    limits = RoundLimits()
    # Appraisals 1,000,000.03 and 500,000.03 yuan: each case's own 70 % rounds up to the fen, so the
    # bundle's floor is one fen above 70 % of the summed appraisal rounded up: no case is sold below
    # its own floor by being bundled.
    minimums_fen = [
        round_minimum_fen(1, appraisal_fen, None, limits) for appraisal_fen in (100_000_003, 50_000_003)
    ]
    assert minimums_fen == [70_000_003, 35_000_003]
    assert bundle_minimum_fen(minimums_fen) == 105_000_006
    assert round_minimum_fen(1, 150_000_006, None, limits) == 105_000_005
    assert bundle_minimum_fen(iter([70_000_000])) == 70_000_000


def test_bundle_minimum_refuses_no_case_or_a_negative_minimum() -> None:
    with pytest.raises(ValueError, match="at least one case"):
        bundle_minimum_fen([])
    with pytest.raises(ValueError, match="must not be negative"):
        bundle_minimum_fen([100, -1])


def test_proceeds_split_by_appraisal_with_the_odd_fen_to_the_largest_remainder() -> None:
    # 1,000,000.00 yuan over appraisals 3 : 2 : 1 (in any order of the mapping).
    split = split_by_appraisal(100_000_000, {12: 100_000, 7: 300_000, 9: 200_000})
    assert split == {7: 50_000_000, 9: 33_333_333, 12: 16_666_667}
    assert list(split) == [7, 9, 12]


def test_a_tied_remainder_goes_to_the_lower_case_id() -> None:
    assert split_by_appraisal(1, {5: 10, 3: 10}) == {3: 1, 5: 0}


def test_all_zero_appraisals_split_equally() -> None:
    assert split_by_appraisal(100, {1: 0, 2: 0, 3: 0}) == {1: 34, 2: 33, 3: 33}


def test_a_case_appraised_at_zero_beside_others_gets_nothing() -> None:
    assert split_by_appraisal(999, {1: 0, 2: 5}) == {1: 0, 2: 999}


def test_split_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="total_fen must not be negative"):
        split_by_appraisal(-1, {1: 1})
    with pytest.raises(ValueError, match="at least one case"):
        split_by_appraisal(1, {})
    with pytest.raises(ValueError, match="an appraisal must not be negative"):
        split_by_appraisal(1, {1: 5, 2: -1})


appraisal_maps = st.dictionaries(
    st.integers(1, 10**9),
    st.one_of(st.integers(0, 1_000), st.integers(0, 10**15)),
    min_size=1,
    max_size=15,
)


@given(total_fen=st.integers(0, 10**15), appraisals=appraisal_maps)
def test_split_sums_exactly_and_each_case_is_within_a_fen_of_its_exact_share(
    total_fen: int, appraisals: dict[int, int]
) -> None:
    split = split_by_appraisal(total_fen, appraisals)
    assert sum(split.values()) == total_fen
    assert set(split) == set(appraisals)
    weights = appraisals if any(appraisals.values()) else dict.fromkeys(appraisals, 1)
    weight_total = sum(weights.values())
    for case_id, part_fen in split.items():
        exact_fen = Fraction(total_fen * weights[case_id], weight_total)
        assert exact_fen - 1 < part_fen < exact_fen + 1


@given(total_fen=st.integers(0, 10**15), appraisals=appraisal_maps)
def test_split_is_monotone_in_appraisal_up_to_one_fen(total_fen: int, appraisals: dict[int, int]) -> None:
    split = split_by_appraisal(total_fen, appraisals)
    for higher_id, higher_fen in appraisals.items():
        for lower_id, lower_fen in appraisals.items():
            if higher_fen >= lower_fen:
                assert split[higher_id] >= split[lower_id] - 1
