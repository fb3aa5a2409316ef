"""Descending-price (Dutch clock) and fixed-price (变卖) sales: the first acceptor wins.

Dutch clock: the price starts at `start_price_fen` and falls by `decrement_fen` at the end of every
`step_s` seconds after `starts_at`, never below `floor_price_fen`. The first acceptance (by sequence,
the server's receipt order) wins at the price on the clock at its receipt time; the floor is the
least the seller takes, so the clock never shows a price that would not sell.

Fixed price: the first acceptance wins at the fixed price.

Whether the sale is still open at the receipt time is the soft_close module's question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from auction.rules.outcome import CloseOutcome, Sold, Unsold, UnsoldReason
from auction.rules.refusal import Refusal, RefusalReason


@dataclass(frozen=True, slots=True)
class DescendingRules:
    start_price_fen: int
    decrement_fen: int
    step_s: int
    floor_price_fen: int
    starts_at: datetime

    def __post_init__(self) -> None:
        if self.decrement_fen <= 0:
            raise ValueError(f"decrement_fen must be positive, got {self.decrement_fen}")
        if self.step_s <= 0:
            raise ValueError(f"step_s must be positive, got {self.step_s}")
        if not 0 < self.floor_price_fen <= self.start_price_fen:
            raise ValueError(
                f"need 0 < floor_price_fen <= start_price_fen, got {self.floor_price_fen} and {self.start_price_fen}"
            )
        if self.starts_at.tzinfo is None:
            raise ValueError("starts_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Acceptance:
    bidder_id: int
    received_at: datetime
    # Server receipt order, strictly increasing per auction: the lowest wins.
    sequence: int


def clock_price_fen(rules: DescendingRules, at: datetime) -> int:
    """The price on the clock at `at` (>= starts_at): start - decrement * whole steps elapsed, floored."""
    assert at.tzinfo is not None, "times must be timezone-aware"
    assert at >= rules.starts_at, "the clock has no price before the sale starts"
    # timedelta // timedelta is exact integer division on microseconds: no float near a step edge.
    steps_elapsed = (at - rules.starts_at) // timedelta(seconds=rules.step_s)
    return max(rules.floor_price_fen, rules.start_price_fen - rules.decrement_fen * steps_elapsed)


def acceptance_outcome(
    rules: DescendingRules, acceptance: Acceptance, *, already_sold: bool
) -> Sold | Refusal:
    """What one acceptance gets: the lot at the clock price, or a refusal when someone was first."""
    if already_sold:
        return Refusal(RefusalReason.ALREADY_SOLD)
    return Sold(winner_id=acceptance.bidder_id, price_fen=clock_price_fen(rules, acceptance.received_at))


def close_descending(rules: DescendingRules, acceptances: Iterable[Acceptance]) -> CloseOutcome:
    """The first acceptance wins at the clock price at its receipt time; none means unsold."""
    first = _first(acceptances)
    if first is None:
        return Unsold(UnsoldReason.NO_BIDS)
    return Sold(winner_id=first.bidder_id, price_fen=clock_price_fen(rules, first.received_at))


def close_fixed_price(price_fen: int, acceptances: Iterable[Acceptance]) -> CloseOutcome:
    """The first acceptance buys at the fixed price; none means unsold."""
    assert price_fen > 0
    first = _first(acceptances)
    if first is None:
        return Unsold(UnsoldReason.NO_BIDS)
    return Sold(winner_id=first.bidder_id, price_fen=price_fen)


def _first(acceptances: Iterable[Acceptance]) -> Acceptance | None:
    return min(acceptances, key=lambda acceptance: acceptance.sequence, default=None)
