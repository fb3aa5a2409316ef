"""What a bid is judged on and answers with: the lot as read (with the bidder's registration), the
English state and rules built from it, and the results of one bid and of a batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
)

from auction.models import Auction, Bid, Registration
from auction.rules import (
    EnglishRules,
    EnglishState,
)
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import EventSink

BIDS = cast(Table, Bid.__table__)


AUCTIONS = cast(Table, Auction.__table__)


# LotForBid's fields that come from the bidder's registration; the rest are the lot's columns.
REGISTRATION_COLUMNS = ("registration_id", "paddle", "deposit_state", "barred")


@dataclass(frozen=True, slots=True)
class LotForBid:
    """What a bid needs of its lot and of the bidder's registration, read under the lot's row lock.

    A plain snapshot, not an ORM object: loading the ORM entity cost a bid about a quarter of a
    millisecond of CPU, paid while holding the lock; the English path needs no more than this.
    """

    id: int
    kind: str
    state: str
    starts_at: datetime
    ends_at: datetime
    start_price_fen: int
    increment_fen: int
    reserve_price_fen: int | None
    price_fen: int | None
    leader_id: int | None
    leader_paddle: int | None
    leader_max_fen: int | None
    runner_up_max_fen: int | None
    floor_fen: int | None
    reserve_met: bool
    bid_count: int
    last_sequence: int
    extension_window_s: int
    extension_s: int
    max_end_at: datetime | None
    registration_id: int | None
    paddle: int | None
    deposit_state: str | None
    barred: bool | None


@dataclass(frozen=True, slots=True)
class Registrant:
    registration_id: int
    bidder_id: int
    paddle: int


@dataclass(frozen=True, slots=True)
class BidResult:
    """The lot as the bid left it, for the answer (sealed kinds reveal none of the prices)."""

    kind: str
    state: str
    price_fen: int | None
    leader_paddle: int | None
    ends_at: datetime
    sequence: int
    bidder_leads: bool
    extended: bool

    @classmethod
    def of(cls, auction: Auction, bid: Bid, bidder_leads: bool, extended: bool) -> BidResult:
        return cls(
            auction.kind,
            auction.state,
            auction.price_fen,
            auction.leader_paddle,
            auction.ends_at,
            bid.sequence,
            bidder_leads,
            extended,
        )


def english_rules(auction: Auction | LotForBid) -> EnglishRules:
    return EnglishRules(auction.start_price_fen, auction.increment_fen, auction.reserve_price_fen)


def english_state(auction: Auction | LotForBid) -> EnglishState:
    return EnglishState(
        price_fen=auction.price_fen,
        leader_id=auction.leader_id,
        leader_max_fen=auction.leader_max_fen,
        runner_up_max_fen=auction.runner_up_max_fen,
        floor_fen=auction.floor_fen,
        reserve_met=auction.reserve_met if auction.leader_id is not None else False,
        bid_count=auction.bid_count,
        last_sequence=auction.last_sequence or None,
    )


REGISTRATIONS = cast(Table, Registration.__table__)


class LotChanged(Exception):
    """A conditional write found the lot changed since it was read (another bid, a close): the
    caller reads it again and re-applies the rules to what is there now."""


class NotEnglish(Exception):
    """place_english_bids read a lot of another kind and wrote nothing: its bids take their kind's
    own path (auction.bidding.place), which may go on from this read when it was taken under the
    lot's row lock."""

    def __init__(self, lot: LotForBid, registrations: Mapping[int, Mapping[str, Any]]) -> None:
        super().__init__(lot.kind)
        self.lot = lot
        self.registrations = registrations

    def lot_for(self, bidder_id: int) -> LotForBid:
        """The lot as read, with this bidder's registration (empty if it has none)."""
        return replace(self.lot, **self.registrations.get(bidder_id, dict.fromkeys(REGISTRATION_COLUMNS)))


@dataclass(frozen=True, slots=True)
class EnglishBidRequest:
    """One bid of a batch: who, how much, and the server's receipt time (the bid time)."""

    bidder_id: int
    amount_fen: int
    max_amount_fen: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class EnglishBidOutcome:
    """A batch member's answer: its result, or the refusal (a DomainError) that wrote nothing.
    `sink` holds its live events, to publish once the batch's write is done."""

    sink: EventSink
    result: BidResult | None
    error: DomainError | None

    def answer(self) -> BidResult:
        """The bid's result, or its refusal raised."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


@dataclass(frozen=True, slots=True)
class KnownLot:
    """A lot as this process last read or wrote it (registration fields empty), and the
    registrations of bidders it has seen on it. Only ever a guess, checked by the conditional
    write: anything that matters to a bid changes the lot's sequence or state (a bid, a close, a
    cancellation; a registration stops being held only at a close or a cancellation)."""

    lot: LotForBid
    registrations: Mapping[int, Mapping[str, Any]]

    def knows(self, requests: Sequence[EnglishBidRequest]) -> bool:
        return all(request.bidder_id in self.registrations for request in requests)
