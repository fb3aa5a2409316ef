from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, Yuan, YuanOrZero, check_datetime, multi_line_text, one_of_values, text
from auction.bidding.live_events import public_amount_fen
from auction.bidding.lot import BidResult
from auction.models import Bid, Registration
from auction.policy import SEALED_KINDS, AuctionKind
from transfer.kernel.errors import DomainError
from transfer.kernel.money import format_fen

Seconds = Annotated[int, msgspec.Meta(ge=0, le=86_400)]


class LotIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, text(300, min_length=1)]
    description: Annotated[str, multi_line_text(5_000)] | None = None
    listing_id: Id | None = None
    collateral_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


class AuctionCreate(msgspec.Struct, forbid_unknown_fields=True):
    lot: LotIn
    kind: Annotated[str, one_of_values(AuctionKind, max_length=64)]
    start_price: Yuan
    increment: Yuan
    deposit: YuanOrZero
    starts_at: datetime
    ends_at: datetime
    reserve_price: Yuan | None = None
    extension_window_s: Seconds | None = None
    extension_s: Seconds | None = None
    decrement: Yuan | None = None
    step_s: Annotated[int, msgspec.Meta(ge=1, le=86_400)] | None = None
    floor_price: Yuan | None = None
    rerun_of: Id | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, multi_line_text(500, min_length=1)]


class BidIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Yuan
    max_amount: Yuan | None = None


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    pass


def require_aware(value: datetime, field: str) -> datetime:
    """The instant in UTC; it must carry an offset and lie in the calendar's bounds."""
    check_datetime(value, field)
    if value.tzinfo is None:
        raise DomainError(
            "time_without_offset",
            "times must carry a UTC offset, e.g. 2026-12-01T10:00:00+08:00",
            field=field,
        )
    return value.astimezone(UTC)


def _money(value: int | None) -> str | None:
    return None if value is None else format_fen(value)


class CollateralOut(msgspec.Struct):
    """A pledged right as the catalogue shows it to anyone: no right holder, no pledge details."""

    id: int
    kind: str
    registry_number: str
    title: str
    appraisal: str


class LotOut(msgspec.Struct):
    title: str
    description: str | None
    listing_id: int | None
    collateral_ids: list[int]
    collateral: list[CollateralOut]


class YouOut(msgspec.Struct):
    paddle: int
    deposit_state: str
    leading: bool
    your_max: str | None
    # A sealed auction's live envelope: shown to its bidder only, before close as after.
    your_sealed_bid: str | None


class AuctionOut(msgspec.Struct):
    """An auction: the public view, and for a caller with a key the fields after server_time.

    Who sees which field is decided in app/http/auctions/views.py, not here."""

    id: int
    kind: str
    state: str
    lot: LotOut
    start_price: str
    increment: str
    deposit: str
    has_reserve: bool
    reserve_met: bool | None
    starts_at: str
    ends_at: str
    scheduled_ends_at: str
    extension_window_s: int
    extension_s: int
    current_price: str | None
    minimum_bid: str | None
    leading_paddle: int | None
    bid_count: int | None
    registrations: int
    final_price: str | None
    winning_paddle: int | None
    unsold_reason: str | None
    payment_due_at: str | None
    closed_at: str | None
    cancel_reason: str | None
    rerun_of: int | None
    server_time: str
    # Key holders only: absent from the public view (UNSET is never encoded).
    seller_id: int | msgspec.UnsetType = msgspec.UNSET
    you: YouOut | msgspec.UnsetType | None = msgspec.UNSET


class AuctionPage(msgspec.Struct):
    items: list[AuctionOut]
    total: int
    limit: int
    offset: int


class RegistrationOut(msgspec.Struct):
    auction_id: int
    paddle: int
    deposit: str
    deposit_state: str
    created_at: str

    @classmethod
    def of(cls, registration: Registration) -> RegistrationOut:
        return cls(
            registration.auction_id,
            registration.paddle,
            format_fen(registration.deposit_fen),
            registration.deposit_state,
            registration.created_at.isoformat(),
        )


class BidOut(msgspec.Struct):
    accepted: bool
    # null for a sealed envelope: the lot's counter would tell how many rivals have bid.
    sequence: int | None
    current_price: str | None
    leading_paddle: int | None
    leading: bool | None
    ends_at: str
    extended: bool
    state: str
    server_time: str

    @classmethod
    def of(cls, result: BidResult, now: datetime) -> BidOut:
        sealed = result.kind in SEALED_KINDS
        return cls(
            accepted=True,
            sequence=None if sealed else result.sequence,
            current_price=None if sealed else _money(result.price_fen),
            leading_paddle=None if sealed else result.leader_paddle,
            leading=None if sealed else result.bidder_leads,
            ends_at=result.ends_at.isoformat(),
            extended=result.extended,
            state=result.state,
            server_time=now.isoformat(),
        )


class BidHistoryItem(msgspec.Struct):
    sequence: int
    paddle: int
    # null for a bid by the bidder already leading: it only raised that bidder's hidden maximum.
    amount: str | None
    price_after: str | None
    received_at: str

    @classmethod
    def of(cls, bid: Bid, by_leader: bool = False) -> BidHistoryItem:
        shown_fen = public_amount_fen(bid.amount_fen, by_leader=by_leader)
        return cls(
            bid.sequence,
            bid.paddle,
            _money(shown_fen),
            _money(bid.price_after_fen),
            bid.received_at.isoformat(),
        )


class BidHistory(msgspec.Struct):
    auction_id: int
    sealed_until_close: bool
    items: list[BidHistoryItem]
    next_after_sequence: int | None


class PaymentOut(msgspec.Struct):
    auction_id: int
    state: str
    price: str
    deposit_applied: str
    paid_from_funds: str
    paid_at: str
