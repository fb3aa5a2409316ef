from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.rules import (
    Acceptance,
    DescendingRules,
    Refusal,
    RefusalReason,
    Sold,
    Unsold,
    UnsoldReason,
    acceptance_outcome,
    clock_price_fen,
    close_descending,
    close_fixed_price,
)
from tests.unit.exact import exactly

ALICE, BOB = 1, 2
STARTS_AT = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
# 1000 falling by 50 every minute down to 800: the floor is reached after 4 minutes.
CLOCK = DescendingRules(
    start_price_fen=1_000, decrement_fen=50, step_s=60, floor_price_fen=800, starts_at=STARTS_AT
)


def at(seconds: float) -> datetime:
    return STARTS_AT + timedelta(seconds=seconds)


def test_clock_shows_the_start_price_at_the_start() -> None:
    assert clock_price_fen(CLOCK, STARTS_AT) == 1_000


def test_clock_holds_its_price_until_the_last_microsecond_of_a_step() -> None:
    assert clock_price_fen(CLOCK, at(60) - timedelta(microseconds=1)) == 1_000


def test_clock_drops_by_one_decrement_exactly_at_the_end_of_a_step() -> None:
    assert clock_price_fen(CLOCK, at(60)) == 950
    assert clock_price_fen(CLOCK, at(120)) == 900


def test_clock_stops_at_the_floor() -> None:
    assert clock_price_fen(CLOCK, at(240)) == 800
    assert clock_price_fen(CLOCK, at(300)) == 800
    assert clock_price_fen(CLOCK, at(86_400)) == 800


def test_clock_floor_between_steps_is_not_undercut() -> None:
    rules = DescendingRules(1_000, 300, 60, 500, STARTS_AT)
    assert clock_price_fen(rules, at(60)) == 700
    assert clock_price_fen(rules, at(120)) == 500


def test_clock_price_before_the_start_is_a_caller_bug() -> None:
    with pytest.raises(AssertionError):
        clock_price_fen(CLOCK, at(-1))


def test_first_acceptor_wins_at_the_clock_price_of_their_receipt_time() -> None:
    acceptances = [Acceptance(BOB, at(130), 8), Acceptance(ALICE, at(125), 7)]
    assert close_descending(CLOCK, acceptances) == Sold(winner_id=ALICE, price_fen=900)


def test_sequence_not_timestamp_decides_who_accepted_first() -> None:
    same_instant = at(61)
    acceptances = [Acceptance(ALICE, same_instant, 4), Acceptance(BOB, same_instant, 3)]
    assert close_descending(CLOCK, acceptances) == Sold(winner_id=BOB, price_fen=950)


def test_descending_sale_without_acceptance_is_unsold() -> None:
    assert close_descending(CLOCK, []) == Unsold(UnsoldReason.NO_BIDS)


def test_acceptance_takes_the_lot_at_the_clock_price() -> None:
    outcome = acceptance_outcome(CLOCK, Acceptance(ALICE, at(200), 1), already_sold=False)
    assert outcome == Sold(winner_id=ALICE, price_fen=850)


def test_acceptance_after_someone_else_took_the_lot_is_refused() -> None:
    outcome = acceptance_outcome(CLOCK, Acceptance(BOB, at(200), 2), already_sold=True)
    assert isinstance(outcome, Refusal)
    assert outcome.reason is RefusalReason.ALREADY_SOLD


def test_fixed_price_sale_goes_to_the_first_acceptor_at_the_fixed_price() -> None:
    acceptances = [Acceptance(BOB, at(50), 2), Acceptance(ALICE, at(10), 1)]
    assert close_fixed_price(640_000, acceptances) == Sold(winner_id=ALICE, price_fen=640_000)


def test_fixed_price_sale_without_acceptance_is_unsold() -> None:
    assert close_fixed_price(640_000, []) == Unsold(UnsoldReason.NO_BIDS)


@pytest.mark.parametrize(
    ("start_price_fen", "decrement_fen", "step_s", "floor_price_fen", "message"),
    [
        (1_000, 0, 60, 800, "decrement_fen must be positive, got 0"),
        (1_000, 50, 0, 800, "step_s must be positive, got 0"),
        (1_000, 50, 60, 0, "need 0 < floor_price_fen <= start_price_fen, got 0 and 1000"),
        (1_000, 50, 60, 1_001, "need 0 < floor_price_fen <= start_price_fen, got 1001 and 1000"),
    ],
)
def test_clock_rules_refuse_nonsense_saying_which(
    start_price_fen: int, decrement_fen: int, step_s: int, floor_price_fen: int, message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        DescendingRules(start_price_fen, decrement_fen, step_s, floor_price_fen, STARTS_AT)


def test_clock_rules_refuse_a_naive_start() -> None:
    with pytest.raises(ValueError, match=exactly("starts_at must be timezone-aware")):
        DescendingRules(1_000, 50, 60, 800, datetime(2025, 6, 1, 10, 0))


def test_a_fixed_price_of_one_fen_sells_and_a_price_of_zero_is_a_caller_bug() -> None:
    acceptance = Acceptance(ALICE, STARTS_AT, sequence=1)
    assert close_fixed_price(1, [acceptance]) == Sold(winner_id=ALICE, price_fen=1)
    # Refused before anyone is looked at: an unsold lot at a price of 0 is as much a bug as a sold one.
    with pytest.raises(AssertionError):
        close_fixed_price(0, [])
    with pytest.raises(AssertionError):
        close_fixed_price(0, [acceptance])


@given(
    start_price_fen=st.integers(min_value=1, max_value=10**9),
    decrement_fen=st.integers(min_value=1, max_value=10**6),
    step_s=st.integers(min_value=1, max_value=3_600),
    floor_per_mille=st.integers(min_value=0, max_value=1_000),
    elapsed_us=st.lists(st.integers(min_value=0, max_value=10**12), min_size=2, max_size=2),
)
def test_clock_price_never_rises_stays_within_floor_and_start_and_moves_in_whole_decrements(
    start_price_fen: int, decrement_fen: int, step_s: int, floor_per_mille: int, elapsed_us: list[int]
) -> None:
    floor_price_fen = max(1, start_price_fen * floor_per_mille // 1_000)
    rules = DescendingRules(start_price_fen, decrement_fen, step_s, floor_price_fen, STARTS_AT)
    earlier_us, later_us = sorted(elapsed_us)
    earlier_fen = clock_price_fen(rules, STARTS_AT + timedelta(microseconds=earlier_us))
    later_fen = clock_price_fen(rules, STARTS_AT + timedelta(microseconds=later_us))

    assert floor_price_fen <= later_fen <= earlier_fen <= start_price_fen
    for price_fen in (earlier_fen, later_fen):
        assert price_fen == floor_price_fen or (start_price_fen - price_fen) % decrement_fen == 0
    steps_elapsed = later_us // (step_s * 1_000_000)
    assert later_fen == max(floor_price_fen, start_price_fen - steps_elapsed * decrement_fen)
