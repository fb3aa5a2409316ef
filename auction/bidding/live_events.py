"""The public live events of an accepted English bid, one builder for both places that make them:
the judge (as the bid is written) and the catch-up of a watcher that reconnects
(auction.live_history), so a missed event read back from the bids table is the event sent live.

Public fields only: a paddle, never a bidder's identity, and never a maximum. A bid by the lot's
leader only raises that leader's hidden maximum (DESIGN.md section 6), so its amount is a maximum
and goes out as `null` (`public_amount_fen`); the history (`GET …/bids`) shows it the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from transfer.kernel.money import format_fen


def public_amount_fen(amount_fen: int, *, by_leader: bool) -> int | None:
    """A bid's amount as the public sees it: none for one by the bidder leading before it."""
    return None if by_leader else amount_fen


def bid_event(
    *,
    sequence: int,
    paddle: int,
    amount_fen: int | None,
    price_fen: int | None,
    leading_paddle: int | None,
    reserve_met: bool,
    bid_count: int,
    ends_at: datetime,
    received_at: datetime,
) -> dict[str, Any]:
    assert sequence >= 1, sequence
    return {
        "event": "bid",
        "sequence": sequence,
        "paddle": paddle,
        "amount": None if amount_fen is None else format_fen(amount_fen),
        "current_price": format_fen(price_fen or 0),
        "leading_paddle": leading_paddle,
        "reserve_met": reserve_met,
        "bid_count": bid_count,
        "ends_at": ends_at.isoformat(),
        "server_time": received_at.isoformat(),
    }


def extended_event(*, sequence: int, ends_at: datetime, received_at: datetime) -> dict[str, Any]:
    """The soft close the bid of `sequence` caused: carries that bid's sequence, so a watcher
    resuming after it knows the extension came with it."""
    assert sequence >= 1, sequence
    return {
        "event": "extended",
        "sequence": sequence,
        "ends_at": ends_at.isoformat(),
        "server_time": received_at.isoformat(),
    }
