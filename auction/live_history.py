"""The live events a watcher missed, read back from the bids table (a reconnect's catch-up).

A watcher that fell behind, or lost its connection, resumes from the last event id it saw (an
English lot's bid sequence). Every accepted English bid is a row of `auction_bids`, so its `bid`
event, and the `extended` event of a bid that moved the end, are rebuilt here with the judge's own
builders (auction.bidding.live_events) from the row and the soft-close rules, field for field as
they went out live. Only English lots stream bids: a sealed lot's envelopes, a descending or
fixed-price lot's acceptance are never live events, so they have nothing to catch up; their
state, and a close of any lot, come with the reconnect's `hello` (the lot as it stands).

What a row does not hold is derived from the rows before it, under the English rules
(auction/rules/english.py): the leader changes only to the bidder of an accepted bid that takes
the lead (`leading_after`), the reserve is met when that leader's maximum covers it, the bid count
of an English lot is its sequence, and the end moves only by soft close, which can only happen to a
bid inside the last window of the scheduled end or later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.bidding.live_events import bid_event, extended_event, public_amount_fen
from auction.models import Auction, Bid
from auction.policy import AuctionKind
from auction.rules import SoftCloseRules, extended_end, in_extension_window
from transfer.kernel.errors import Conflict

LiveEvent = tuple[str, dict[str, Any]]

_COLUMNS = (
    Bid.sequence,
    Bid.paddle,
    Bid.amount_fen,
    Bid.max_amount_fen,
    Bid.price_after_fen,
    Bid.leading_after,
    Bid.received_at,
)


@dataclass(frozen=True, slots=True)
class Leader:
    paddle: int
    max_fen: int


def leader_of(row: Any) -> Leader:
    return Leader(row.paddle, row.max_amount_fen if row.max_amount_fen is not None else row.amount_fen)


async def missed_events(
    session: AsyncSession, auction: Auction, after_sequence: int, *, max_events: int
) -> list[LiveEvent]:
    """The live events of the lot's bids after `after_sequence`, up to the lot as read, in order.

    A watcher further behind than `max_events` bids is refused (409 `catch_up_too_far`): it starts
    afresh from the lot's `hello` and reads the history page by page (`GET …/bids`)."""
    if auction.kind != AuctionKind.ENGLISH or after_sequence >= auction.last_sequence:
        return []
    if auction.last_sequence - after_sequence > max_events:
        raise Conflict(
            "catch_up_too_far",
            f"more than {max_events} events were missed: reconnect without Last-Event-ID and read "
            "the history from GET /api/v1/auctions/{id}/bids",
            field="last_event_id",
        )
    rows = (
        await session.execute(
            select(*_COLUMNS)
            .where(
                Bid.auction_id == auction.id,
                Bid.sequence > after_sequence,
                Bid.sequence <= auction.last_sequence,
            )
            .order_by(Bid.sequence)
        )
    ).all()
    assert [r.sequence for r in rows] == list(range(after_sequence + 1, auction.last_sequence + 1)), (
        auction.id,
        after_sequence,
    )
    leader = await leader_after_bid(session, auction.id, after_sequence)
    soft_close = SoftCloseRules(auction.extension_window_s, auction.extension_s, auction.max_end_at)
    ends_at = await _end_before(session, auction, after_sequence, soft_close)
    reserve_fen = auction.reserve_price_fen
    events: list[LiveEvent] = []
    for row in rows:
        by_leader = leader is not None and leader.paddle == row.paddle
        if row.leading_after:
            leader = leader_of(row)
        assert leader is not None, (auction.id, row.sequence)  # the first accepted bid leads
        ends_before = ends_at
        if in_extension_window(row.received_at, ends_at, soft_close):
            ends_at = extended_end(row.received_at, ends_at, soft_close)
        bid = bid_event(
            sequence=row.sequence,
            paddle=row.paddle,
            amount_fen=public_amount_fen(row.amount_fen, by_leader=by_leader),
            price_fen=row.price_after_fen,
            leading_paddle=leader.paddle,
            reserve_met=reserve_fen is None or leader.max_fen >= reserve_fen,
            bid_count=row.sequence,
            ends_at=ends_at,
            received_at=row.received_at,
        )
        events.append(("bid", bid))
        if ends_at != ends_before:
            events.append(
                (
                    "extended",
                    extended_event(sequence=row.sequence, ends_at=ends_at, received_at=row.received_at),
                )
            )
    # The rebuilt history ends where the lot stands: a derivation that drifted from the judge's
    # would show here first.
    assert ends_at == auction.ends_at, (auction.id, ends_at, auction.ends_at)
    assert auction.bid_count == auction.last_sequence, auction.id
    return events


async def leader_after_bid(session: AsyncSession, auction_id: int, sequence: int) -> Leader | None:
    """Who led after bid `sequence`: the bidder of the last bid up to it that took the lead."""
    row = (
        await session.execute(
            select(*_COLUMNS)
            .where(Bid.auction_id == auction_id, Bid.sequence <= sequence, Bid.leading_after.is_(True))
            .order_by(Bid.sequence.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else leader_of(row)


async def _end_before(
    session: AsyncSession, auction: Auction, sequence: int, soft_close: SoftCloseRules
) -> datetime:
    """The lot's end after bid `sequence`: the scheduled end, moved by every bid up to it that
    fell in a last window. The end only grows, so a bid before the scheduled end's own window
    never moved it; only those from there on are read."""
    ends_at = auction.scheduled_ends_at
    if sequence == 0 or soft_close.extension_window_s == 0:
        return ends_at
    window_opens = ends_at - timedelta(seconds=soft_close.extension_window_s)
    late = (
        await session.execute(
            select(Bid.received_at)
            .where(
                Bid.auction_id == auction.id,
                Bid.sequence <= sequence,
                Bid.received_at >= window_opens,
            )
            .order_by(Bid.sequence)
        )
    ).scalars()
    for received_at in late:
        if in_extension_window(received_at, ends_at, soft_close):
            ends_at = extended_end(received_at, ends_at, soft_close)
    return ends_at
