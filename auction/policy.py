"""The configurable numbers of the auction house (settings, not code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auction.origins import OriginHandler


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
    # Past its end, but its close failed: held apart so it never holds up other lots' closes, and
    # retried (auction.closing.close_isolating); an operator may cancel it.
    SET_ASIDE = "set_aside"


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
    # A lot whose close fails is retried after close_retry_s, doubling each time, at most
    # close_max_attempts times; then it waits for an operator.
    close_retry_s: int = 10
    close_max_attempts: int = 5
    # One handler per origin of a lot other than a bank's own (auction.origins), from the wiring.
    origins: dict[str, OriginHandler] = field(default_factory=dict)
