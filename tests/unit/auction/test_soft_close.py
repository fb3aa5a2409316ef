from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.rules import (
    DEFAULT_EXTENSION_S,
    DEFAULT_EXTENSION_WINDOW_S,
    RefusalReason,
    SoftCloseRules,
    extended_end,
    in_extension_window,
    is_open,
    timing_refusal,
)
from tests.unit.exact import exactly

STARTS_AT = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
ENDS_AT = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
DEFAULTS = SoftCloseRules()
# Window and extension differ so that a bid at the very start of the window visibly moves the end
# (with the 300/300 defaults it would move it to exactly where it already is).
WIDE = SoftCloseRules(extension_window_s=300, extension_s=600)


def seconds(count: float) -> timedelta:
    return timedelta(seconds=count)


def test_defaults_are_the_judicial_five_minutes() -> None:
    assert (DEFAULT_EXTENSION_WINDOW_S, DEFAULT_EXTENSION_S) == (300, 300)
    assert (DEFAULTS.extension_window_s, DEFAULTS.extension_s, DEFAULTS.max_end_at) == (300, 300, None)


def test_auction_is_open_from_its_start_instant() -> None:
    assert is_open(STARTS_AT, STARTS_AT, ENDS_AT)
    assert timing_refusal(STARTS_AT, STARTS_AT, ENDS_AT) is None


def test_bid_before_the_start_is_refused_as_not_started() -> None:
    now = STARTS_AT - timedelta(microseconds=1)
    assert not is_open(now, STARTS_AT, ENDS_AT)
    refusal = timing_refusal(now, STARTS_AT, ENDS_AT)
    assert refusal is not None
    assert refusal.reason is RefusalReason.NOT_STARTED


def test_bid_one_microsecond_before_the_end_is_in_time() -> None:
    now = ENDS_AT - timedelta(microseconds=1)
    assert is_open(now, STARTS_AT, ENDS_AT)
    assert timing_refusal(now, STARTS_AT, ENDS_AT) is None


def test_bid_exactly_at_the_end_is_refused_as_closed() -> None:
    assert not is_open(ENDS_AT, STARTS_AT, ENDS_AT)
    refusal = timing_refusal(ENDS_AT, STARTS_AT, ENDS_AT)
    assert refusal is not None
    assert refusal.reason is RefusalReason.CLOSED


def test_bid_exactly_at_window_start_extends_end() -> None:
    bid_at = ENDS_AT - seconds(300)
    assert in_extension_window(bid_at, ENDS_AT, WIDE)
    assert extended_end(bid_at, ENDS_AT, WIDE) == bid_at + seconds(600)


def test_bid_one_second_before_the_window_does_not_extend() -> None:
    bid_at = ENDS_AT - seconds(301)
    assert not in_extension_window(bid_at, ENDS_AT, WIDE)
    assert extended_end(bid_at, ENDS_AT, WIDE) == ENDS_AT


def test_bid_in_last_window_extends_end_to_bid_time_plus_extension() -> None:
    bid_at = ENDS_AT - seconds(100)
    assert extended_end(bid_at, ENDS_AT, DEFAULTS) == ENDS_AT + seconds(200)


def test_bid_in_the_last_second_extends_end_to_almost_a_full_extension() -> None:
    bid_at = ENDS_AT - seconds(1)
    assert extended_end(bid_at, ENDS_AT, DEFAULTS) == ENDS_AT + seconds(299)


def test_bid_at_window_start_with_equal_window_and_extension_keeps_the_end() -> None:
    assert extended_end(ENDS_AT - seconds(300), ENDS_AT, DEFAULTS) == ENDS_AT


def test_short_extension_never_pulls_the_end_earlier() -> None:
    rules = SoftCloseRules(extension_window_s=600, extension_s=60)
    assert extended_end(ENDS_AT - seconds(500), ENDS_AT, rules) == ENDS_AT


def test_extensions_chain_from_each_new_end() -> None:
    first_end = extended_end(ENDS_AT - seconds(10), ENDS_AT, DEFAULTS)
    assert first_end == ENDS_AT + seconds(290)
    second_end = extended_end(first_end - seconds(1), first_end, DEFAULTS)
    assert second_end == first_end + seconds(299)


def test_extension_stops_at_the_cap() -> None:
    rules = SoftCloseRules(max_end_at=ENDS_AT + seconds(100))
    assert extended_end(ENDS_AT - seconds(1), ENDS_AT, rules) == ENDS_AT + seconds(100)


def test_extension_below_the_cap_is_not_affected_by_it() -> None:
    rules = SoftCloseRules(max_end_at=ENDS_AT + seconds(1000))
    assert extended_end(ENDS_AT - seconds(1), ENDS_AT, rules) == ENDS_AT + seconds(299)


def test_cap_already_reached_means_no_more_extension() -> None:
    rules = SoftCloseRules(max_end_at=ENDS_AT)
    assert extended_end(ENDS_AT - seconds(1), ENDS_AT, rules) == ENDS_AT


def test_cap_earlier_than_the_current_end_never_shortens_the_auction() -> None:
    rules = SoftCloseRules(max_end_at=ENDS_AT - seconds(60))
    assert extended_end(ENDS_AT - seconds(1), ENDS_AT, rules) == ENDS_AT


def test_bid_exactly_at_the_end_is_outside_the_extension_window() -> None:
    # The window is [ends_at - window, ends_at): at ends_at itself the lot has closed, so nothing extends.
    assert not in_extension_window(ENDS_AT, ENDS_AT, WIDE)
    assert in_extension_window(ENDS_AT - timedelta(microseconds=1), ENDS_AT, WIDE)


def test_zero_window_turns_soft_close_off() -> None:
    rules = SoftCloseRules(extension_window_s=0)
    assert extended_end(ENDS_AT - timedelta(microseconds=1), ENDS_AT, rules) == ENDS_AT


def test_extending_for_a_bid_at_or_after_the_end_is_a_caller_bug() -> None:
    with pytest.raises(AssertionError):
        extended_end(ENDS_AT, ENDS_AT, DEFAULTS)


NAIVE = datetime(2025, 6, 1, 12, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_open(NAIVE, STARTS_AT, ENDS_AT),
        lambda: is_open(ENDS_AT, NAIVE, ENDS_AT),
        lambda: is_open(STARTS_AT, STARTS_AT, NAIVE),
        lambda: timing_refusal(NAIVE, STARTS_AT, ENDS_AT),
        lambda: timing_refusal(ENDS_AT, NAIVE, ENDS_AT),
        lambda: timing_refusal(STARTS_AT, STARTS_AT, NAIVE),
        lambda: in_extension_window(NAIVE, ENDS_AT, DEFAULTS),
        lambda: in_extension_window(ENDS_AT, NAIVE, DEFAULTS),
        lambda: extended_end(NAIVE, ENDS_AT, DEFAULTS),
        lambda: extended_end(ENDS_AT, NAIVE, DEFAULTS),
    ],
)
def test_a_naive_time_in_any_position_is_a_caller_bug_caught_before_it_is_compared(
    call: Callable[[], object],
) -> None:
    # An AssertionError, not the TypeError a comparison of naive and aware times would raise later.
    with pytest.raises(AssertionError, match=exactly("times must be timezone-aware")):
        call()


def test_rules_refuse_negative_durations_and_a_naive_cap() -> None:
    with pytest.raises(ValueError, match=exactly("extension_window_s must not be negative, got -1")):
        SoftCloseRules(extension_window_s=-1)
    with pytest.raises(ValueError, match=exactly("extension_s must not be negative, got -1")):
        SoftCloseRules(extension_s=-1)
    with pytest.raises(ValueError, match=exactly("max_end_at must be timezone-aware")):
        SoftCloseRules(max_end_at=datetime(2025, 6, 3))


@given(
    seconds_before_end=st.integers(min_value=1, max_value=10_000_000).map(
        lambda us: timedelta(microseconds=us)
    ),
    window_s=st.integers(min_value=0, max_value=3_600),
    extension_s=st.integers(min_value=0, max_value=3_600),
    cap_after_end_s=st.none() | st.integers(min_value=-600, max_value=7_200),
)
def test_extended_end_follows_the_rule_for_any_bid_time(
    seconds_before_end: timedelta, window_s: int, extension_s: int, cap_after_end_s: int | None
) -> None:
    max_end_at = None if cap_after_end_s is None else ENDS_AT + seconds(cap_after_end_s)
    rules = SoftCloseRules(extension_window_s=window_s, extension_s=extension_s, max_end_at=max_end_at)
    bid_at = ENDS_AT - seconds_before_end
    new_end = extended_end(bid_at, ENDS_AT, rules)

    assert new_end >= ENDS_AT
    if seconds_before_end > seconds(window_s):
        assert new_end == ENDS_AT
        return
    uncapped = max(ENDS_AT, bid_at + seconds(extension_s))
    if max_end_at is None:
        assert new_end == uncapped
    else:
        assert new_end == max(ENDS_AT, min(uncapped, max_end_at))
