from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.disposal.rules.rounds import (
    NextRound,
    RoundLimits,
    auto_next_round,
    check_round,
    default_start_fen,
    round_minimum_fen,
)
from transfer.kernel.errors import DomainError, ErrorKind

LIMITS = RoundLimits()
CREATED_AT = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# Round 1 of a case failed on 2025-08-05 at 10:00.
FAILED_AT = datetime(2025, 8, 5, 10, 0, tzinfo=UTC)


def test_defaults_are_the_judicial_auction_rules() -> None:
    assert (
        LIMITS.start_min_bps,
        LIMITS.round_cut_max_bps,
        LIMITS.notice_s,
        LIMITS.rerun_within_s,
        LIMITS.rerun_notice_s,
        LIMITS.max_rounds,
    ) == (7_000, 2_000, 30 * 86_400, 30 * 86_400, 15 * 86_400, 2)


def test_round_one_minimum_is_seventy_percent_of_the_appraisal_rounded_up_to_the_fen() -> None:
    assert round_minimum_fen(1, 300_000_000, None, LIMITS) == 210_000_000  # 3,000,000.00 -> 2,100,000.00
    assert round_minimum_fen(1, 1_001, None, LIMITS) == 701  # 700.7 fen -> 701
    assert round_minimum_fen(1, 0, None, LIMITS) == 0
    # The previous start means nothing in round 1.
    assert round_minimum_fen(1, 1_000, 5, LIMITS) == 700


def test_round_two_minimum_is_eighty_percent_of_round_ones_start() -> None:
    assert round_minimum_fen(2, 999_999_999, 215_000_000, LIMITS) == 172_000_000
    assert round_minimum_fen(2, 0, 1_001, LIMITS) == 801  # 800.8 fen -> 801


def test_a_configured_limit_changes_the_minimum() -> None:
    limits = RoundLimits(start_min_bps=8_000, round_cut_max_bps=1_000, max_rounds=3)
    assert round_minimum_fen(1, 100_000, None, limits) == 80_000
    assert round_minimum_fen(3, 0, 80_000, limits) == 72_000


def test_a_third_round_is_refused_naming_the_round_and_the_limit() -> None:
    with pytest.raises(DomainError) as caught:
        round_minimum_fen(3, 0, 100_000, LIMITS)
    error = caught.value
    assert (error.code, error.field, error.kind) == ("no_more_rounds", "round", ErrorKind.INVALID)
    assert "at most 2 auction rounds (IPX_DISPOSAL_MAX_ROUNDS)" in error.message
    assert error.extra == {"max_rounds": 2, "setting": "IPX_DISPOSAL_MAX_ROUNDS"}


def test_round_minimum_refuses_a_callers_bugs() -> None:
    with pytest.raises(ValueError, match="round_no must be at least 1"):
        round_minimum_fen(0, 100, None, LIMITS)
    with pytest.raises(ValueError, match="appraisal_sum_fen must not be negative"):
        round_minimum_fen(1, -1, None, LIMITS)
    with pytest.raises(ValueError, match="round 2 needs the previous round's positive start price"):
        round_minimum_fen(2, 100, None, LIMITS)
    with pytest.raises(ValueError, match="round 2 needs"):
        round_minimum_fen(2, 100, 0, LIMITS)


@pytest.mark.parametrize(
    ("minimum_fen", "increment_fen", "start_fen"),
    [
        (210_000_000, 1_000_000, 210_000_000),  # already a whole multiple
        (210_000_001, 1_000_000, 211_000_000),
        (701, 100, 800),
        (0, 500, 500),  # a start price is never zero
        (1, 1, 1),
    ],
)
def test_default_start_is_the_minimum_rounded_up_to_a_whole_increment(
    minimum_fen: int, increment_fen: int, start_fen: int
) -> None:
    assert default_start_fen(minimum_fen, increment_fen) == start_fen


def test_default_start_refuses_an_increment_that_is_not_positive() -> None:
    with pytest.raises(DomainError) as caught:
        default_start_fen(100, 0)
    assert (caught.value.code, caught.value.field) == ("increment_not_positive", "increment")
    with pytest.raises(ValueError, match="minimum_fen must not be negative"):
        default_start_fen(-1, 100)


@given(minimum_fen=st.integers(0, 10**15), increment_fen=st.integers(1, 10**9))
def test_default_start_is_the_least_positive_multiple_at_or_above_the_minimum(
    minimum_fen: int, increment_fen: int
) -> None:
    start_fen = default_start_fen(minimum_fen, increment_fen)
    assert start_fen % increment_fen == 0
    assert start_fen >= max(minimum_fen, 1)
    assert start_fen - increment_fen < max(minimum_fen, 1)


def test_round_one_within_the_limits_passes() -> None:
    check_round(1, 210_000_000, CREATED_AT + 30 * DAY, CREATED_AT, None, 210_000_000, LIMITS)


def test_round_one_below_the_minimum_names_the_minimum_in_yuan_the_bps_and_the_setting() -> None:
    with pytest.raises(DomainError) as caught:
        check_round(1, 209_999_999, CREATED_AT + 30 * DAY, CREATED_AT, None, 210_000_000, LIMITS)
    error = caught.value
    assert (error.code, error.field, error.kind) == (
        "start_price_below_minimum",
        "start_price",
        ErrorKind.INVALID,
    )
    assert error.message == (
        "start_price must be at least 2100000.00: round 1 starts at no less than 7000 bps (70 %)"
        " of the appraisal (IPX_DISPOSAL_START_MIN_BPS)"
    )
    assert error.extra == {
        "minimum": "2100000.00",
        "limit_bps": 7000,
        "setting": "IPX_DISPOSAL_START_MIN_BPS",
    }


def test_round_two_below_the_minimum_names_the_cut_and_its_setting() -> None:
    created_at = FAILED_AT + DAY
    with pytest.raises(DomainError) as caught:
        check_round(2, 171_900_000, created_at + 15 * DAY, created_at, FAILED_AT, 172_000_000, LIMITS)
    error = caught.value
    assert (error.code, error.field) == ("start_price_below_minimum", "start_price")
    assert error.message == (
        "start_price must be at least 1720000.00: round 2 cuts the previous round's start by at most"
        " 2000 bps (20 %) (IPX_DISPOSAL_ROUND_CUT_MAX_BPS)"
    )
    assert error.extra["setting"] == "IPX_DISPOSAL_ROUND_CUT_MAX_BPS"


def test_a_start_price_of_zero_is_refused_even_when_the_minimum_is_zero() -> None:
    with pytest.raises(DomainError) as caught:
        check_round(1, 0, CREATED_AT + 30 * DAY, CREATED_AT, None, 0, LIMITS)
    assert (caught.value.code, caught.value.field) == ("start_price_not_positive", "start_price")


def test_round_one_announced_a_second_short_of_thirty_days_is_refused() -> None:
    starts_at = CREATED_AT + 30 * DAY - timedelta(seconds=1)
    with pytest.raises(DomainError) as caught:
        check_round(1, 210_000_000, starts_at, CREATED_AT, None, 210_000_000, LIMITS)
    error = caught.value
    assert (error.code, error.field) == ("notice_too_short", "starts_at")
    assert error.message == (
        "starts_at must be at least 2592000 s (30 days) after round 1 is created,"
        " i.e. not before 2025-07-31T09:00:00+00:00 (IPX_DISPOSAL_NOTICE_S)"
    )
    assert error.extra == {
        "earliest": "2025-07-31T09:00:00+00:00",
        "limit_s": 2_592_000,
        "setting": "IPX_DISPOSAL_NOTICE_S",
    }


def test_round_two_needs_fifteen_days_of_notice_not_thirty() -> None:
    created_at = FAILED_AT + DAY
    check_round(2, 172_000_000, created_at + 15 * DAY, created_at, FAILED_AT, 172_000_000, LIMITS)
    with pytest.raises(DomainError) as caught:
        check_round(2, 172_000_000, created_at + 14 * DAY, created_at, FAILED_AT, 172_000_000, LIMITS)
    assert (caught.value.code, caught.value.field) == ("notice_too_short", "starts_at")
    assert "1296000 s (15 days)" in caught.value.message
    assert caught.value.extra["setting"] == "IPX_DISPOSAL_RERUN_NOTICE_S"


def test_round_two_created_exactly_thirty_days_after_the_failure_is_in_time() -> None:
    created_at = FAILED_AT + 30 * DAY
    check_round(2, 172_000_000, created_at + 15 * DAY, created_at, FAILED_AT, 172_000_000, LIMITS)


def test_round_two_created_later_than_thirty_days_after_the_failure_is_refused() -> None:
    created_at = FAILED_AT + 30 * DAY + timedelta(seconds=1)
    with pytest.raises(DomainError) as caught:
        check_round(2, 172_000_000, created_at + 15 * DAY, created_at, FAILED_AT, 172_000_000, LIMITS)
    error = caught.value
    assert (error.code, error.field) == ("rerun_too_late", "round")
    assert error.message == (
        "round 2 must be created within 2592000 s (30 days) of the previous round's failure at"
        " 2025-08-05T10:00:00+00:00, i.e. by 2025-09-04T10:00:00+00:00 (IPX_DISPOSAL_RERUN_WITHIN_S)"
    )
    assert error.extra["latest"] == "2025-09-04T10:00:00+00:00"


def test_a_third_round_is_refused_before_anything_else_is_looked_at() -> None:
    with pytest.raises(DomainError) as caught:
        check_round(3, 1, CREATED_AT, CREATED_AT, None, 10**9, LIMITS)
    assert (caught.value.code, caught.value.field) == ("no_more_rounds", "round")


def test_check_round_refuses_a_callers_bugs() -> None:
    with pytest.raises(ValueError, match="round 2 needs the instant the previous round failed"):
        check_round(2, 100, CREATED_AT + 15 * DAY, CREATED_AT, None, 80, LIMITS)
    with pytest.raises(ValueError, match="cannot be created before the previous round failed"):
        check_round(2, 100, FAILED_AT + 15 * DAY, FAILED_AT - DAY, FAILED_AT, 80, LIMITS)
    with pytest.raises(ValueError, match="round_no must be at least 1"):
        check_round(0, 100, CREATED_AT, CREATED_AT, None, 80, LIMITS)


def test_auto_next_round_takes_the_deepest_cut_on_the_increment_and_the_shortest_notice() -> None:
    now = FAILED_AT + timedelta(minutes=1)
    # Round 1 started at 2,150,000.00 with 10,000.00 increments: 80 % is 1,720,000.00 exactly.
    assert auto_next_round(1, 215_000_000, 1_000_000, FAILED_AT, now, LIMITS) == NextRound(
        round_no=2, start_price_fen=172_000_000, starts_at=now + 15 * DAY, minimum_fen=172_000_000
    )
    # 2,155,000.00: 80 % is 1,724,000.00, up to the increment 1,730,000.00.
    next_round = auto_next_round(1, 215_500_000, 1_000_000, FAILED_AT, now, LIMITS)
    assert next_round is not None
    assert (next_round.start_price_fen, next_round.minimum_fen) == (173_000_000, 172_400_000)


def test_auto_next_round_never_raises_the_price_for_a_coarse_increment() -> None:
    # Start 100.00, increment 1,000.00: rounding 80.00 up to the increment would be a rise.
    next_round = auto_next_round(1, 10_000, 100_000, FAILED_AT, FAILED_AT, LIMITS)
    assert next_round is not None
    assert next_round.start_price_fen == 10_000


def test_auto_next_round_after_the_last_round_is_none() -> None:
    assert auto_next_round(2, 172_000_000, 1_000_000, FAILED_AT, FAILED_AT, LIMITS) is None


def test_auto_next_round_past_the_rerun_window_is_refused() -> None:
    late = FAILED_AT + 31 * DAY
    with pytest.raises(DomainError) as caught:
        auto_next_round(1, 215_000_000, 1_000_000, FAILED_AT, late, LIMITS)
    assert (caught.value.code, caught.value.field) == ("rerun_too_late", "round")
    with pytest.raises(ValueError, match="previous_round_no must be at least 1"):
        auto_next_round(0, 215_000_000, 1_000_000, FAILED_AT, FAILED_AT, LIMITS)


@given(
    previous_start_fen=st.integers(1, 10**15),
    increment_fen=st.integers(1, 10**10),
    delay_s=st.integers(0, 30 * 86_400),
)
def test_an_automatic_round_always_passes_the_checks_and_never_rises(
    previous_start_fen: int, increment_fen: int, delay_s: int
) -> None:
    now = FAILED_AT + timedelta(seconds=delay_s)
    next_round = auto_next_round(1, previous_start_fen, increment_fen, FAILED_AT, now, LIMITS)
    assert next_round is not None
    assert next_round.minimum_fen <= next_round.start_price_fen <= previous_start_fen
    # At most a 20 % cut: 5 × start >= 4 × previous start.
    assert next_round.start_price_fen * 5 >= previous_start_fen * 4
    assert next_round.start_price_fen % increment_fen == 0 or next_round.start_price_fen == previous_start_fen
    check_round(
        2, next_round.start_price_fen, next_round.starts_at, now, FAILED_AT, next_round.minimum_fen, LIMITS
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_min_bps", 0, "start_min_bps must be between 1 and 10000"),
        ("start_min_bps", 10_001, "start_min_bps must be between 1 and 10000"),
        ("round_cut_max_bps", -1, "round_cut_max_bps must be between 0 and 9999"),
        ("round_cut_max_bps", 10_000, "round_cut_max_bps must be between 0 and 9999"),
        ("notice_s", -1, "notice_s must not be negative"),
        ("rerun_within_s", -1, "rerun_within_s must not be negative"),
        ("rerun_notice_s", -1, "rerun_notice_s must not be negative"),
        ("max_rounds", 0, "max_rounds must be at least 1"),
    ],
)
def test_limits_refuse_impossible_settings(field: str, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoundLimits(**{field: value})
