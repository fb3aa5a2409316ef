"""The public live events of an accepted English bid, one builder for both places that make them:
the judge (as the bid is written) and the catch-up of a watcher that reconnects
(auction.live_history), so a missed event read back from the bids table is the event sent live.

Public fields only: a paddle, never a bidder's identity, and never a maximum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from transfer.kernel.money import format_fen


def bid_event(
    *,
    sequence: int,
    paddle: int,
    amount_fen: int,
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
        "amount": format_fen(amount_fen),
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
