"""Sealed-bid auctions: first-price and second-price (Vickrey).

Each bidder has one live bid: a later bid replaces the earlier one, up or down, because nobody sees
the others' bids and so a change of mind harms no one. At close, the highest live amount wins; at equal
amounts the earlier live bid wins (by sequence, the server's receipt order).

* First-price: the winner pays their own bid.
* Second-price: the winner pays max(second-highest live bid, reserve, start) snapped up to the grid,
  never more than their own bid.

A winning bid under the reserve leaves the lot unsold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from auction.rules.grid import PriceGrid, is_on_grid, nearest_valid, snap_up
from auction.rules.outcome import CloseOutcome, Sold, Unsold, UnsoldReason
from auction.rules.refusal import Refusal, RefusalReason


class SealedKind(StrEnum):
    FIRST_PRICE = "sealed_first_price"
    SECOND_PRICE = "sealed_second_price"


@dataclass(frozen=True, slots=True)
class SealedRules:
    kind: SealedKind
    start_price_fen: int
    increment_fen: int
    reserve_price_fen: int | None = None

    def __post_init__(self) -> None:
        PriceGrid(self.start_price_fen, self.increment_fen)  # validates both
        if self.reserve_price_fen is not None and self.reserve_price_fen <= 0:
            raise ValueError(f"reserve_price_fen must be positive, got {self.reserve_price_fen}")

    @property
    def grid(self) -> PriceGrid:
        return PriceGrid(self.start_price_fen, self.increment_fen)


@dataclass(frozen=True, slots=True)
class SealedBid:
    bidder_id: int
    amount_fen: int
    received_at: datetime
    # Server receipt order, strictly increasing per auction; decides replacement and ties.
    sequence: int


def sealed_bid_refusal(amount_fen: int, rules: SealedRules) -> Refusal | None:
    """Why a sealed bid of `amount_fen` cannot be accepted, or None: at least the start price, on the grid."""
    if amount_fen < rules.start_price_fen:
        return Refusal(RefusalReason.BELOW_MINIMUM, minimum_fen=rules.start_price_fen)
    if not is_on_grid(rules.grid, amount_fen):
        below_fen, above_fen = nearest_valid(rules.grid, amount_fen)
        return Refusal(
            RefusalReason.OFF_GRID,
            minimum_fen=rules.start_price_fen,
            nearest_below_fen=below_fen,
            nearest_above_fen=above_fen,
        )
    return None


def live_bids(bids: Iterable[SealedBid]) -> tuple[SealedBid, ...]:
    """Each bidder's latest bid, ranked: highest amount first, earlier sequence first among equals."""
    latest: dict[int, SealedBid] = {}
    for bid in bids:
        current = latest.get(bid.bidder_id)
        if current is None or bid.sequence > current.sequence:
            latest[bid.bidder_id] = bid
    return tuple(sorted(latest.values(), key=lambda bid: (-bid.amount_fen, bid.sequence)))


def close_sealed(bids: Iterable[SealedBid], rules: SealedRules) -> CloseOutcome:
    """Open the envelopes: the winner and the price they pay, or why the lot is unsold."""
    ranked = live_bids(bids)
    if not ranked:
        return Unsold(UnsoldReason.NO_BIDS)
    winner = ranked[0]
    assert winner.amount_fen >= rules.start_price_fen
    assert is_on_grid(rules.grid, winner.amount_fen)
    if rules.reserve_price_fen is not None and winner.amount_fen < rules.reserve_price_fen:
        return Unsold(UnsoldReason.RESERVE_NOT_MET)
    if rules.kind is SealedKind.FIRST_PRICE:
        return Sold(winner_id=winner.bidder_id, price_fen=winner.amount_fen)

    runner_up_fen = ranked[1].amount_fen if len(ranked) > 1 else rules.start_price_fen
    reserve_fen = rules.reserve_price_fen if rules.reserve_price_fen is not None else rules.start_price_fen
    # Winning bids are on the grid and >= reserve and runner-up, so the cap only guards the invariant
    # that a second-price winner never pays more than they offered.
    price_fen = min(winner.amount_fen, snap_up(rules.grid, max(runner_up_fen, reserve_fen)))
    return Sold(winner_id=winner.bidder_id, price_fen=price_fen)
