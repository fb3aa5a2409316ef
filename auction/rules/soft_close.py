"""Opening hours and soft close (延时, 网络司法拍卖规定第20条).

An auction is open on [starts_at, ends_at): a bid received exactly at `ends_at` is too late. A bid
accepted in the last window, at or after `ends_at - extension_window_s`, moves the end to
`bid time + extension_s` (never earlier than it was, never past the optional `max_end_at`). Time is
the server's receipt time, passed in; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from auction.rules.refusal import Refusal, RefusalReason

DEFAULT_EXTENSION_WINDOW_S = 300
DEFAULT_EXTENSION_S = 300


@dataclass(frozen=True, slots=True)
class SoftCloseRules:
    extension_window_s: int = DEFAULT_EXTENSION_WINDOW_S
    extension_s: int = DEFAULT_EXTENSION_S
    # The limit on extensions: a bidding war cannot keep a lot open past this instant.
    max_end_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.extension_window_s < 0:
            raise ValueError(f"extension_window_s must not be negative, got {self.extension_window_s}")
        if self.extension_s < 0:
            raise ValueError(f"extension_s must not be negative, got {self.extension_s}")
        if self.max_end_at is not None and self.max_end_at.tzinfo is None:
            raise ValueError("max_end_at must be timezone-aware")


def is_open(now: datetime, starts_at: datetime, ends_at: datetime) -> bool:
    """True on [starts_at, ends_at)."""
    _assert_aware(now, starts_at, ends_at)
    return starts_at <= now < ends_at


def timing_refusal(now: datetime, starts_at: datetime, ends_at: datetime) -> Refusal | None:
    """Why a bid received at `now` is refused for its timing (not_started, closed), or None when open."""
    _assert_aware(now, starts_at, ends_at)
    if now < starts_at:
        return Refusal(RefusalReason.NOT_STARTED)
    if now >= ends_at:
        return Refusal(RefusalReason.CLOSED)
    return None


def in_extension_window(bid_at: datetime, ends_at: datetime, rules: SoftCloseRules) -> bool:
    """True when a bid at `bid_at` (before `ends_at`) falls in the last window and so triggers soft close."""
    _assert_aware(bid_at, ends_at)
    return ends_at - timedelta(seconds=rules.extension_window_s) <= bid_at < ends_at


def extended_end(bid_at: datetime, ends_at: datetime, rules: SoftCloseRules) -> datetime:
    """The end of the auction after a bid accepted at `bid_at`; `ends_at` itself when it does not extend.

    Precondition: the bid was accepted, so `bid_at < ends_at`.
    """
    _assert_aware(bid_at, ends_at)
    assert bid_at < ends_at, "only a bid accepted while the auction is open can extend it"
    if not in_extension_window(bid_at, ends_at, rules):
        return ends_at
    new_ends_at = max(ends_at, bid_at + timedelta(seconds=rules.extension_s))
    if rules.max_end_at is not None:
        # The cap limits extensions; it never pulls an end earlier than it already is.
        new_ends_at = max(ends_at, min(new_ends_at, rules.max_end_at))
    assert new_ends_at >= ends_at
    return new_ends_at


def _assert_aware(*instants: datetime) -> None:
    # A naive datetime here means some caller lost the server's time zone: a bug, not an input error.
    assert all(instant.tzinfo is not None for instant in instants), "times must be timezone-aware"
