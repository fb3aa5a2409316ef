from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.largest_remainder import allocate, allocate_capped

totals = st.integers(min_value=0, max_value=10**15)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40)


@given(total=totals, weights=weight_lists)
def test_parts_always_sum_exactly_to_the_total(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    assert sum(allocate(total, weights)) == total


@given(total=totals, weights=weight_lists)
def test_every_part_lies_between_floor_and_ceiling_of_its_exact_share(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    parts = allocate(total, weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, sum(weights))
        assert math.floor(exact) <= part <= math.ceil(exact)


@given(total=totals, weights=weight_lists)
def test_zero_weight_never_receives_a_unit(total: int, weights: list[int]) -> None:
    assume(sum(weights) > 0)
    parts = allocate(total, weights)
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@given(total=totals, weights=weight_lists, data=st.data())
def test_leftover_units_go_to_the_largest_remainders(
    total: int, weights: list[int], data: st.DataObject
) -> None:
    assume(sum(weights) > 0)
    tie_order = data.draw(st.permutations(range(len(weights))))
    parts = allocate(total, weights, tie_order=tie_order)
    weight_total = sum(weights)
    remainders = [total * weight % weight_total for weight in weights]
    rounded_up = [i for i, weight in enumerate(weights) if parts[i] > total * weight // weight_total]
    rounded_down = [i for i in range(len(weights)) if i not in rounded_up]
    # No entry left at its floor has a strictly larger remainder, or an equal one with precedence.
    rank = {index: position for position, index in enumerate(tie_order)}
    for up in rounded_up:
        for down in rounded_down:
            assert (remainders[up], -rank[up]) > (remainders[down], -rank[down])


def test_equal_remainders_go_to_the_lower_index_by_default() -> None:
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]


def test_tie_order_decides_who_gets_the_leftover_among_equal_remainders() -> None:
    assert allocate(1, [1, 1, 1], tie_order=[2, 0, 1]) == [0, 0, 1]
    assert allocate(2, [1, 1, 1], tie_order=[2, 0, 1]) == [1, 0, 1]


def test_largest_remainder_beats_tie_order() -> None:
    # Exact shares 0.6, 0.4: the larger remainder wins even when the other index has precedence.
    assert allocate(1, [3, 2], tie_order=[1, 0]) == [1, 0]


def test_one_hundred_fen_over_three_equal_weights_gives_34_33_33() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_zero_total_over_zero_weights_is_all_zero() -> None:
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(0, []) == []


@pytest.mark.parametrize(
    ("total", "weights", "tie_order", "message"),
    [
        (-1, [1], None, "total must not be negative, got -1"),
        (1, [1, -1], None, "weights must not be negative"),
        (1, [0, 0], None, "cannot split a positive total over weights that sum to zero"),
        (1, [], None, "cannot split a positive total over weights that sum to zero"),
        (1, [1, 1], [0, 0], "tie_order must be a permutation of the indices 0..1"),
        (1, [1, 1], [0], "tie_order must be a permutation of the indices 0..1"),
        (1, [1, 1, 1], [1, 2, 3], "tie_order must be a permutation of the indices 0..2"),
    ],
)
def test_invalid_input_is_refused_with_the_rule_it_breaks(
    total: int, weights: list[int], tie_order: list[int] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        allocate(total, weights, tie_order=tie_order)


def test_zero_over_zero_weights_is_all_zeros() -> None:
    assert allocate(0, [0, 0, 0]) == [0, 0, 0]
    assert allocate_capped(0, [0, 0], [0, 0]) == [0, 0]


def test_a_zero_weight_gets_nothing_however_much_room_its_cap_leaves() -> None:
    # Caps bound a share; they never make one: weight 0 means no part of the total.
    assert allocate_capped(0, [0, 1], [5, 0]) == [0, 0]
    assert allocate_capped(10, [0, 1, 0, 5, 0], [7, 4, 0, 6, 8]) == [0, 4, 0, 6, 0]


@pytest.mark.parametrize(
    ("total", "weights", "caps", "message"),
    [
        (1, [1, 1], [1], "caps has 1 entries but weights has 2"),
        (1, [1, 1], [1, -1], "caps must not be negative"),
        (-1, [1], [1], "total must not be negative, got -1"),
        (1, [1, -1], [1, 1], "weights must not be negative"),
        (3, [1, 1], [1, 1], "the caps of the positively weighted entries hold 2, less than 3"),
    ],
)
def test_invalid_capped_input_is_refused_with_the_rule_it_breaks(
    total: int, weights: list[int], caps: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        allocate_capped(total, weights, caps)


def test_capped_tie_order_must_be_a_permutation_too() -> None:
    with pytest.raises(ValueError, match=exactly("tie_order must be a permutation of the indices 0..1")):
        allocate_capped(1, [1, 1], [1, 1], tie_order=[1, 1])


def test_capped_entry_gets_its_cap_and_the_rest_is_redistributed_pro_rata() -> None:
    assert allocate_capped(100, [1, 1, 1], [10, 100, 100]) == [10, 45, 45]


def test_capping_can_cascade() -> None:
    # Pro rata 30 each: the first is capped at 5; then 47.5 each: the second is capped at 40.
    assert allocate_capped(90, [1, 1, 1], [5, 40, 100]) == [5, 40, 45]


def test_caps_that_do_not_bind_give_the_plain_allocation() -> None:
    assert allocate_capped(100, [1, 1, 1], [100, 100, 100]) == allocate(100, [1, 1, 1])


def test_capped_allocation_refuses_a_total_the_caps_cannot_hold() -> None:
    with pytest.raises(ValueError, match="caps"):
        allocate_capped(100, [1, 1, 0], [40, 40, 1000])


@st.composite
def capped_problems(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[int]]:
    size = draw(st.integers(min_value=1, max_value=25))
    weights = draw(st.lists(st.integers(0, 10**6), min_size=size, max_size=size))
    assume(sum(weights) > 0)
    caps = draw(st.lists(st.integers(0, 10**6), min_size=size, max_size=size))
    capacity = sum(cap for weight, cap in zip(weights, caps, strict=True) if weight > 0)
    total = draw(st.integers(0, capacity))
    tie_order = draw(st.permutations(range(size)))
    return total, weights, caps, tie_order


@given(problem=capped_problems())
def test_capped_allocation_sums_exactly_and_respects_every_cap(
    problem: tuple[int, list[int], list[int], list[int]],
) -> None:
    total, weights, caps, tie_order = problem
    parts = allocate_capped(total, weights, caps, tie_order=tie_order)
    assert sum(parts) == total
    assert all(0 <= part <= cap for part, cap in zip(parts, caps, strict=True))
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


@given(problem=capped_problems())
def test_uncapped_entries_stay_within_one_unit_of_their_pro_rata_share_of_what_caps_leave(
    problem: tuple[int, list[int], list[int], list[int]],
) -> None:
    total, weights, caps, tie_order = problem
    parts = allocate_capped(total, weights, caps, tie_order=tie_order)
    uncapped = [i for i in range(len(weights)) if weights[i] > 0 and parts[i] < caps[i]]
    if not uncapped:
        return
    left_for_uncapped = total - sum(parts[i] for i in range(len(weights)) if i not in uncapped)
    uncapped_weight = sum(weights[i] for i in uncapped)
    for i in uncapped:
        exact = Fraction(left_for_uncapped * weights[i], uncapped_weight)
        assert math.floor(exact) <= parts[i] <= math.ceil(exact)
