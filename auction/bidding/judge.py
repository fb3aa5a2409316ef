"""Judging English bids on a lot as read: each bid of a batch in arrival order, exactly as if alone,
and the rows and live payload a judged bid writes. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from auction.bidding.live_events import bid_event, extended_event, public_amount_fen
from auction.bidding.lot import (
    REGISTRATION_COLUMNS,
    BidResult,
    EnglishBidOutcome,
    EnglishBidRequest,
    LotForBid,
    Registrant,
    english_rules,
    english_state,
)
from auction.bidding.statements import write_params
from auction.errors import BidRefused
from auction.models import Auction, Bid
from auction.policy import (
    RUNNING_STATES,
    AuctionState,
)
from auction.rules import (
    EnglishBid,
    EnglishState,
    Refusal,
    RefusalReason,
    SoftCloseRules,
    apply_bid,
    extended_end,
    in_extension_window,
    timing_refusal,
)
from transfer.kernel import audit
from transfer.kernel.errors import DomainError, Forbidden
from transfer.kernel.unit_of_work import EventSink, UnitOfWork


@dataclass(slots=True)
class _Judged:
    outcomes: list[EnglishBidOutcome]
    lot: LotForBid
    params: dict[str, Any] | None  # the write, None when every bid was refused

    @property
    def live_events(self) -> list[tuple[str, dict[str, Any]]]:
        """The accepted bids' live events, in order (a refused bid has none)."""
        return [event for outcome in self.outcomes for event in outcome.sink.live_events]


def judge_batch(
    read: LotForBid, registered: Mapping[int, Mapping[str, Any]], requests: Sequence[EnglishBidRequest]
) -> _Judged:
    """Each bid judged against the lot as the bids before it left it, with its own receipt time,
    exactly as one bid at a time would be (a refused bid changes nothing)."""
    lot = read
    outcomes: list[EnglishBidOutcome] = []
    bid_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    changes: dict[str, Any] | None = None
    unregistered = dict.fromkeys(REGISTRATION_COLUMNS)
    for request in requests:
        sink = EventSink(request.bidder_id, request.received_at)
        bidder_lot = replace(lot, **registered.get(request.bidder_id, unregistered))
        try:
            registrant = biddable_registrant(bidder_lot, sink.now, request.bidder_id)
            bid_changes, bid_row, result = judge_english_bid(
                sink, bidder_lot, registrant, request.amount_fen, request.max_amount_fen
            )
        except DomainError as error:
            outcomes.append(EnglishBidOutcome(sink, None, error))
            continue
        changes = bid_changes
        lot = replace(lot, **bid_changes)
        bid_rows.append(bid_row)
        event_rows.extend(audit.event_rows(sink.take_events()))
        outcomes.append(EnglishBidOutcome(sink, result, None))
    params = None if changes is None else write_params(read, changes, bid_rows, event_rows)
    return _Judged(outcomes, lot, params)


def biddable_registrant(lot: LotForBid, now: datetime, bidder_id: int) -> Registrant:
    """The bidder may bid on the lot now, or the refusal says why."""
    if lot.state not in RUNNING_STATES:
        raise BidRefused(Refusal(RefusalReason.CLOSED))
    timing = timing_refusal(now, lot.starts_at, lot.ends_at)
    if timing is not None:
        raise BidRefused(timing)
    if lot.registration_id is None or lot.paddle is None or lot.deposit_state != "held" or lot.barred:
        raise Forbidden(
            "not_registered",
            "register on the auction (and have its deposit held) before bidding",
            field="auction",
        )
    return Registrant(lot.registration_id, bidder_id, lot.paddle)


def new_bid(
    unit: UnitOfWork,
    auction: Auction,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> Bid:
    auction.last_sequence += 1
    bid = Bid(
        auction_id=auction.id,
        registration_id=registrant.registration_id,
        bidder_id=registrant.bidder_id,
        paddle=registrant.paddle,
        sequence=auction.last_sequence,
        amount_fen=amount_fen,
        max_amount_fen=max_amount_fen,
        leading_after=False,
        superseded=False,
        received_at=unit.now,
    )
    unit.session.add(bid)
    if auction.state == AuctionState.SCHEDULED:
        auction.state = AuctionState.OPEN.value
    return bid


def judge_english_bid(
    sink: EventSink,
    lot: LotForBid,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> tuple[dict[str, Any], dict[str, Any], BidResult]:
    """The rules applied to one bid at `sink.now`: what it changes on the lot, its row, its answer.
    Records its audit event and live events on the sink; raises BidRefused and writes nothing."""
    sequence = lot.last_sequence + 1
    outcome = apply_bid(
        english_state(lot),
        EnglishBid(registrant.bidder_id, amount_fen, max_amount_fen, sink.now, sequence),
        english_rules(lot),
    )
    if outcome.refusal is not None:
        raise BidRefused(outcome.refusal)
    state = outcome.state
    assert state.last_sequence == sequence
    leader_paddle = registrant.paddle if state.leader_id != lot.leader_id else lot.leader_paddle
    lot_state = AuctionState.OPEN.value if lot.state == AuctionState.SCHEDULED else lot.state
    soft_close = SoftCloseRules(lot.extension_window_s, lot.extension_s, lot.max_end_at)
    ends_at = lot.ends_at
    if in_extension_window(sink.now, lot.ends_at, soft_close):
        ends_at = extended_end(sink.now, lot.ends_at, soft_close)
    extended = ends_at != lot.ends_at
    changes: dict[str, Any] = {
        "last_sequence": sequence,
        "price_fen": state.price_fen,
        "leader_id": state.leader_id,
        "leader_paddle": leader_paddle,
        "leader_max_fen": state.leader_max_fen,
        "runner_up_max_fen": state.runner_up_max_fen,
        "floor_fen": state.floor_fen,
        "reserve_met": state.reserve_met,
        "bid_count": state.bid_count,
        "state": lot_state,
        "ends_at": ends_at,
    }
    sink.record(
        "auction.bid",
        f"auction:{lot.id}",
        {
            "sequence": sequence,
            "bidder_id": registrant.bidder_id,
            "paddle": registrant.paddle,
            "amount_fen": amount_fen,
            "max_amount_fen": max_amount_fen,
            "price_fen": state.price_fen,
            "leader_paddle": leader_paddle,
            "ends_at": ends_at.isoformat(),
        },
    )
    bid_row = {
        "auction_id": lot.id,
        "registration_id": registrant.registration_id,
        "bidder_id": registrant.bidder_id,
        "paddle": registrant.paddle,
        "sequence": sequence,
        "amount_fen": amount_fen,
        "max_amount_fen": max_amount_fen,
        "price_after_fen": state.price_fen,
        "leading_after": outcome.bidder_leads,
        "superseded": False,
        "received_at": sink.now,
    }
    shown_fen = public_amount_fen(amount_fen, by_leader=registrant.bidder_id == lot.leader_id)
    _publish_bid(
        sink, lot.id, sequence, registrant.paddle, shown_fen, state, leader_paddle, ends_at, extended
    )
    result = BidResult(
        lot.kind, lot_state, state.price_fen, leader_paddle, ends_at, sequence, outcome.bidder_leads, extended
    )
    return changes, bid_row, result


def _publish_bid(
    sink: EventSink,
    auction_id: int,
    sequence: int,
    paddle: int,
    amount_fen: int | None,
    state: EnglishState,
    leader_paddle: int | None,
    ends_at: datetime,
    extended: bool,
) -> None:
    """The live events of an accepted bid (and of the extension it caused), queued on the sink:
    published only once the write is committed."""
    channel = f"auction:{auction_id}"
    sink.publish(
        channel,
        bid_event(
            sequence=sequence,
            paddle=paddle,
            amount_fen=amount_fen,
            price_fen=state.price_fen,
            leading_paddle=leader_paddle,
            reserve_met=state.reserve_met,
            bid_count=state.bid_count,
            ends_at=ends_at,
            received_at=sink.now,
        ),
    )
    if extended:
        sink.publish(channel, extended_event(sequence=sequence, ends_at=ends_at, received_at=sink.now))
