"""The pure rules of the auction house: no I/O, no clock, no framework; money in integer fen.

Services load a lot under its row lock, ask these functions, and store what they answer.
"""

from auction.rules.descending import (
    Acceptance,
    DescendingRules,
    acceptance_outcome,
    clock_price_fen,
    close_descending,
    close_fixed_price,
)
from auction.rules.english import (
    BidOutcome,
    EnglishBid,
    EnglishRules,
    EnglishState,
    ReplayError,
    apply_bid,
    bid_refusal,
    close_english,
    minimum_bid_fen,
    replay,
)
from auction.rules.grid import PriceGrid, is_on_grid, nearest_valid, snap_down, snap_up
from auction.rules.outcome import CloseOutcome, Sold, Unsold, UnsoldReason
from auction.rules.refusal import Refusal, RefusalReason
from auction.rules.sealed import (
    SealedBid,
    SealedKind,
    SealedRules,
    close_sealed,
    live_bids,
    sealed_bid_refusal,
)
from auction.rules.soft_close import (
    DEFAULT_EXTENSION_S,
    DEFAULT_EXTENSION_WINDOW_S,
    SoftCloseRules,
    extended_end,
    in_extension_window,
    is_open,
    timing_refusal,
)

__all__ = [
    "DEFAULT_EXTENSION_S",
    "DEFAULT_EXTENSION_WINDOW_S",
    "Acceptance",
    "BidOutcome",
    "CloseOutcome",
    "DescendingRules",
    "EnglishBid",
    "EnglishRules",
    "EnglishState",
    "PriceGrid",
    "Refusal",
    "RefusalReason",
    "ReplayError",
    "SealedBid",
    "SealedKind",
    "SealedRules",
    "SoftCloseRules",
    "Sold",
    "Unsold",
    "UnsoldReason",
    "acceptance_outcome",
    "apply_bid",
    "bid_refusal",
    "clock_price_fen",
    "close_descending",
    "close_english",
    "close_fixed_price",
    "close_sealed",
    "extended_end",
    "in_extension_window",
    "is_on_grid",
    "is_open",
    "live_bids",
    "minimum_bid_fen",
    "nearest_valid",
    "replay",
    "sealed_bid_refusal",
    "snap_down",
    "snap_up",
    "timing_refusal",
]
