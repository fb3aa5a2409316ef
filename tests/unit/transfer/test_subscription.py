from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.subscription import (
    Subscription,
    SubscriptionOutcome,
    allocate_subscriptions,
    subscription_request_error,
)


def allocated(outcome: SubscriptionOutcome) -> dict[int, int]:
    return {a.subscription_id: a.share_ppm_allocated for a in outcome.allocations}


def test_undersubscribed_book_gives_everyone_what_they_asked_and_the_rest_stays_with_the_seller() -> None:
    outcome = allocate_subscriptions(
        500_000, 10_000, [Subscription(1, 200_000, sequence=1), Subscription(2, 100_000, sequence=2)]
    )
    assert allocated(outcome) == {1: 200_000, 2: 100_000}
    assert outcome.share_ppm_allocated == 300_000
    assert outcome.share_ppm_unallocated == 200_000
    assert not outcome.oversubscribed


def test_exactly_subscribed_book_is_not_oversubscribed() -> None:
    outcome = allocate_subscriptions(
        300_000, 10_000, [Subscription(1, 200_000, sequence=1), Subscription(2, 100_000, sequence=2)]
    )
    assert allocated(outcome) == {1: 200_000, 2: 100_000}
    assert outcome.share_ppm_unallocated == 0
    assert not outcome.oversubscribed


def test_empty_book_allocates_nothing() -> None:
    outcome = allocate_subscriptions(300_000, 10_000, [])
    assert outcome.allocations == ()
    assert outcome.share_ppm_unallocated == 300_000


def test_oversubscribed_book_is_split_pro_rata_in_whole_units() -> None:
    # 10 units offered, 15 requested (6, 6, 3): exactly 4, 4, 2 units.
    outcome = allocate_subscriptions(
        100_000,
        10_000,
        [
            Subscription(1, 60_000, sequence=1),
            Subscription(2, 60_000, sequence=2),
            Subscription(3, 30_000, sequence=3),
        ],
    )
    assert allocated(outcome) == {1: 40_000, 2: 40_000, 3: 20_000}
    assert outcome.share_ppm_allocated == 100_000
    assert outcome.oversubscribed


def test_oversubscribed_tie_goes_to_the_earlier_subscription_whatever_the_input_order() -> None:
    # 10 units over three requests of 7: 3.33 each, one leftover unit, to the earliest (sequence 5).
    outcome = allocate_subscriptions(
        100_000,
        10_000,
        [
            Subscription(1, 70_000, sequence=9),
            Subscription(2, 70_000, sequence=5),
            Subscription(3, 70_000, sequence=7),
        ],
    )
    assert allocated(outcome) == {1: 30_000, 2: 40_000, 3: 30_000}


def test_small_requests_in_a_heavily_oversubscribed_book_go_to_the_earliest() -> None:
    subscriptions = [Subscription(i, 10_000, sequence=100 - i) for i in range(20)]
    outcome = allocate_subscriptions(50_000, 10_000, subscriptions)
    assert {i for i, share_ppm in allocated(outcome).items() if share_ppm} == {15, 16, 17, 18, 19}


def test_offer_that_is_not_whole_units_leaves_the_odd_part_with_the_seller_when_oversubscribed() -> None:
    outcome = allocate_subscriptions(
        105_000, 10_000, [Subscription(1, 100_000, sequence=1), Subscription(2, 100_000, sequence=2)]
    )
    assert allocated(outcome) == {1: 50_000, 2: 50_000}
    assert outcome.share_ppm_unallocated == 5_000


def test_offer_that_is_not_whole_units_still_fills_an_undersubscribed_book_in_full() -> None:
    outcome = allocate_subscriptions(105_000, 10_000, [Subscription(1, 100_000, sequence=1)])
    assert allocated(outcome) == {1: 100_000}
    assert outcome.share_ppm_unallocated == 5_000


@pytest.mark.parametrize(
    ("share_ppm_requested", "reason"),
    [
        (0, "share_ppm must be positive"),
        (-10_000, "share_ppm must be positive"),
        (15_000, "share_ppm must be a whole multiple of the listing's min_unit_ppm (10000)"),
        (110_000, "share_ppm exceeds the 100000 ppm offered"),
    ],
)
def test_request_errors_name_the_broken_rule(share_ppm_requested: int, reason: str) -> None:
    assert (
        subscription_request_error(share_ppm_requested, share_ppm_offered=100_000, min_unit_ppm=10_000)
        == reason
    )
    with pytest.raises(ValueError, match=exactly(f"subscription 1: {reason}")):
        allocate_subscriptions(100_000, 10_000, [Subscription(1, share_ppm_requested, sequence=1)])


def test_valid_request_has_no_error() -> None:
    assert subscription_request_error(100_000, share_ppm_offered=100_000, min_unit_ppm=10_000) is None


@pytest.mark.parametrize(
    ("share_ppm_offered", "min_unit_ppm", "subscriptions", "message"),
    [
        (0, 1, [], "share_ppm_offered must be in (0, 1000000], got 0"),
        (1_000_001, 1, [], "share_ppm_offered must be in (0, 1000000], got 1000001"),
        (100_000, 0, [], "min_unit_ppm must be in (0, share_ppm_offered], got 0"),
        (100_000, 200_000, [], "min_unit_ppm must be in (0, share_ppm_offered], got 200000"),
        (
            100_000,
            10_000,
            [Subscription(1, 10_000, sequence=1), Subscription(1, 10_000, sequence=2)],
            "subscription_id must be unique",
        ),
        (
            100_000,
            10_000,
            [Subscription(1, 10_000, sequence=1), Subscription(2, 10_000, sequence=1)],
            "sequence must be unique: the tie-break needs a strict time order",
        ),
        (
            100_000,
            10_000,
            [Subscription(1, 10_000, sequence=1), Subscription(2, 15_000, sequence=2)],
            "subscription 2: share_ppm must be a whole multiple of the listing's min_unit_ppm (10000)",
        ),
    ],
)
def test_malformed_books_are_refused_with_the_rule_they_break(
    share_ppm_offered: int, min_unit_ppm: int, subscriptions: list[Subscription], message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        allocate_subscriptions(share_ppm_offered, min_unit_ppm, subscriptions)


@st.composite
def books(draw: st.DrawFn) -> tuple[int, int, list[Subscription]]:
    min_unit_ppm = draw(st.sampled_from([1, 7, 1_000, 10_000, 50_000]))
    share_ppm_offered = draw(st.integers(min_unit_ppm, 1_000_000))
    units_offerable = share_ppm_offered // min_unit_ppm
    units_requested = draw(st.lists(st.integers(1, min(units_offerable, 10_000)), max_size=30))
    sequences = draw(st.permutations(range(len(units_requested))))
    subscriptions = [
        Subscription(subscription_id=100 + i, share_ppm_requested=units * min_unit_ppm, sequence=sequence)
        for i, (units, sequence) in enumerate(zip(units_requested, sequences, strict=True))
    ]
    return share_ppm_offered, min_unit_ppm, subscriptions


@given(book=books())
def test_allocation_never_exceeds_a_request_and_is_always_in_whole_units(
    book: tuple[int, int, list[Subscription]],
) -> None:
    share_ppm_offered, min_unit_ppm, subscriptions = book
    outcome = allocate_subscriptions(share_ppm_offered, min_unit_ppm, subscriptions)
    for allocation in outcome.allocations:
        assert 0 <= allocation.share_ppm_allocated <= allocation.share_ppm_requested
        assert allocation.share_ppm_allocated % min_unit_ppm == 0
    assert outcome.share_ppm_allocated + outcome.share_ppm_unallocated == share_ppm_offered


@given(book=books())
def test_oversubscribed_book_allocates_every_whole_unit_offered_and_undersubscribed_fills_every_request(
    book: tuple[int, int, list[Subscription]],
) -> None:
    share_ppm_offered, min_unit_ppm, subscriptions = book
    outcome = allocate_subscriptions(share_ppm_offered, min_unit_ppm, subscriptions)
    if outcome.oversubscribed:
        assert outcome.share_ppm_allocated == share_ppm_offered // min_unit_ppm * min_unit_ppm
    else:
        assert all(a.share_ppm_allocated == a.share_ppm_requested for a in outcome.allocations)


@given(book=books())
def test_oversubscribed_allocation_is_within_one_unit_of_the_exact_pro_rata_share(
    book: tuple[int, int, list[Subscription]],
) -> None:
    share_ppm_offered, min_unit_ppm, subscriptions = book
    outcome = allocate_subscriptions(share_ppm_offered, min_unit_ppm, subscriptions)
    if not outcome.oversubscribed:
        return
    units_offered = share_ppm_offered // min_unit_ppm
    share_ppm_requested_total = sum(s.share_ppm_requested for s in subscriptions)
    for allocation in outcome.allocations:
        exact_units = Fraction(units_offered * allocation.share_ppm_requested, share_ppm_requested_total)
        units = allocation.share_ppm_allocated // min_unit_ppm
        assert math.floor(exact_units) <= units <= math.ceil(exact_units)


def test_an_offer_of_the_whole_income_right_can_be_subscribed_and_split() -> None:
    # 1,000,000 ppm is the largest offer there is; one unit as large as the offer is allowed too.
    outcome = allocate_subscriptions(
        1_000_000, 250_000, [Subscription(1, 1_000_000, sequence=1), Subscription(2, 1_000_000, sequence=2)]
    )
    assert allocated(outcome) == {1: 500_000, 2: 500_000}
    assert outcome.share_ppm_offered == 1_000_000
    assert outcome.share_ppm_unallocated == 0
    whole_unit = allocate_subscriptions(1_000_000, 1_000_000, [Subscription(7, 1_000_000, sequence=1)])
    assert allocated(whole_unit) == {7: 1_000_000}
    assert not whole_unit.oversubscribed
