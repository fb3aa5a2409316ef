from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import msgspec

from app.http.input_bounds import Id, check_datetime, multi_line_text, text
from auction.bidding.lot import BidResult, english_rules, english_state
from auction.bidding.place import descending_price_now
from auction.models import Auction, Bid, Registration
from auction.origins import OriginKind
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind, AuctionState
from auction.rules import minimum_bid_fen
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
    kind: Annotated[str, text(64)]
    start_price: str
    increment: str
    deposit: str
    starts_at: datetime
    ends_at: datetime
    reserve_price: str | None = None
    extension_window_s: Seconds | None = None
    extension_s: Seconds | None = None
    decrement: str | None = None
    step_s: Annotated[int, msgspec.Meta(ge=1, le=86_400)] | None = None
    floor_price: str | None = None
    rerun_of: Id | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, multi_line_text(500, min_length=1)]


class BidIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: str
    max_amount: str | None = None


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


class LotOut(msgspec.Struct):
    title: str
    description: str | None
    listing_id: int | None
    collateral_ids: list[int]


class YouOut(msgspec.Struct):
    paddle: int
    deposit_state: str
    leading: bool
    your_max: str | None


class AuctionOut(msgspec.Struct):
    id: int
    kind: str
    state: str
    seller_id: int
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
    you: YouOut | None = None

    @classmethod
    def of(cls, auction: Auction, now: datetime, mine: Registration | None = None) -> AuctionOut:
        kind = AuctionKind(auction.kind)
        running = auction.state in RUNNING_STATES
        sealed_hidden = kind in SEALED_KINDS and running
        state = auction.state
        if running and now >= auction.ends_at:
            state = "closing"  # the closer runs within a tick of ends_at
        elif auction.state == AuctionState.SCHEDULED and now >= auction.starts_at:
            state = AuctionState.OPEN.value
        current_fen: int | None = None
        minimum_fen: int | None = None
        if kind is AuctionKind.ENGLISH:
            current_fen = auction.price_fen
            if running:
                minimum_fen = minimum_bid_fen(english_state(auction), english_rules(auction))
        elif kind is AuctionKind.DESCENDING:
            current_fen = auction.final_price_fen if not running else descending_price_now(auction, now)
            minimum_fen = current_fen if running else None
        elif kind is AuctionKind.FIXED_PRICE:
            current_fen = auction.start_price_fen
            minimum_fen = current_fen if running else None
        elif not running:
            current_fen = auction.final_price_fen
        leading = auction.leader_paddle if not sealed_hidden else None
        you = None
        if mine is not None:
            is_leader = auction.leader_id == mine.bidder_id and not sealed_hidden
            you = YouOut(
                paddle=mine.paddle,
                deposit_state=mine.deposit_state,
                leading=is_leader,
                # A bidder sees their own maximum, never anyone else's.
                your_max=_money(auction.leader_max_fen)
                if is_leader and kind is AuctionKind.ENGLISH
                else None,
            )
        return cls(
            id=auction.id,
            kind=auction.kind,
            state=state,
            seller_id=auction.seller_id,
            lot=LotOut(
                auction.lot_title,
                auction.lot_description,
                auction.origin_id if auction.origin_kind == OriginKind.LISTING else None,
                json.loads(auction.collateral_ids),
            ),
            start_price=format_fen(auction.start_price_fen),
            increment=format_fen(auction.increment_fen),
            deposit=format_fen(auction.deposit_fen),
            has_reserve=auction.reserve_price_fen is not None,
            reserve_met=None if sealed_hidden else (auction.reserve_met and auction.leader_id is not None),
            starts_at=auction.starts_at.isoformat(),
            ends_at=auction.ends_at.isoformat(),
            scheduled_ends_at=auction.scheduled_ends_at.isoformat(),
            extension_window_s=auction.extension_window_s,
            extension_s=auction.extension_s,
            current_price=_money(current_fen),
            minimum_bid=_money(minimum_fen),
            leading_paddle=leading,
            bid_count=None if sealed_hidden else auction.bid_count,
            registrations=auction.registration_count,
            final_price=_money(auction.final_price_fen),
            winning_paddle=auction.leader_paddle if auction.winner_id is not None else None,
            unsold_reason=auction.unsold_reason,
            payment_due_at=auction.payment_due_at.isoformat() if auction.payment_due_at else None,
            closed_at=auction.closed_at.isoformat() if auction.closed_at else None,
            cancel_reason=auction.cancel_reason,
            rerun_of=auction.rerun_of_id,
            server_time=now.isoformat(),
            you=you,
        )


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
    sequence: int
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
            sequence=result.sequence,
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
    amount: str
    price_after: str | None
    received_at: str

    @classmethod
    def of(cls, bid: Bid) -> BidHistoryItem:
        return cls(
            bid.sequence,
            bid.paddle,
            format_fen(bid.amount_fen),
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
