"""The configurable numbers of the auction house (settings, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transfer.market_policy import MarketPolicy


class AuctionKind(StrEnum):
    ENGLISH = "english"
    SEALED_FIRST_PRICE = "sealed_first_price"
    SEALED_SECOND_PRICE = "sealed_second_price"
    DESCENDING = "descending"
    FIXED_PRICE = "fixed_price"


class AuctionState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    AWAITING_PAYMENT = "awaiting_payment"
    SOLD = "sold"
    UNSOLD = "unsold"
    DEFAULTED = "defaulted"
    CANCELLED = "cancelled"


# States in which bids may still arrive (subject to the clock).
RUNNING_STATES = (AuctionState.SCHEDULED, AuctionState.OPEN)
SEALED_KINDS = (AuctionKind.SEALED_FIRST_PRICE, AuctionKind.SEALED_SECOND_PRICE)
FIRST_ACCEPTOR_KINDS = (AuctionKind.DESCENDING, AuctionKind.FIXED_PRICE)


@dataclass(frozen=True, slots=True)
class AuctionPolicy:
    min_duration_s: int = 86_400
    min_notice_s: int = 0
    deposit_min_bps: int = 500
    deposit_max_bps: int = 2_000
    extension_window_s: int = 300
    extension_s: int = 300
    max_extension_s: int | None = None
    # How far ahead of now a start or an end may lie (IPX_AUCTION_MAX_LEAD_S).
    max_lead_s: int = 31_536_000
    payment_deadline_s: int = 604_800
    # The center's fee and settlement settings, for auctions of listings (their result is a trade).
    market: MarketPolicy | None = None
