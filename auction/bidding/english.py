"""Placing English bids: a batch judged on one read of its lot and written by one conditional
statement, read and judged again when the lot changed in between."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auction.bidding.judge import judge_batch, judge_english_bid
from auction.bidding.lot import (
    BidResult,
    EnglishBidOutcome,
    EnglishBidRequest,
    KnownLot,
    LotChanged,
    LotForBid,
    NotEnglish,
    Registrant,
)
from auction.bidding.statements import REGISTRATION_COLUMNS, BatchStatements, BidStatements, write_params
from auction.policy import (
    AuctionKind,
)
from transfer.kernel import audit
from transfer.kernel.errors import NotFound
from transfer.kernel.unit_of_work import EventSink


async def place_english_bids(
    statements: BatchStatements,
    auction_id: int,
    requests: Sequence[EnglishBidRequest],
    known: KnownLot | None = None,
) -> tuple[list[EnglishBidOutcome], KnownLot]:
    """Bids on one English lot, judged in order as if each came alone, written together; with the
    lot as they leave it, for the next batch.

    With `known` (the lot as this process last saw it) and every bidder's registration in it, the
    bids are judged on it and written at once, without a read; that stands only if every bid is
    accepted and the conditional write applies. Otherwise (a refusal must be judged on the lot as
    it is, and a lot changed since is not written over) the lot is read: once, with the batch's
    registrations, and each bid is judged against it; then one write inserts every accepted bid
    and its audit event and sets the lot to where the last one left it. Raises NotEnglish, before
    any write, for any other kind, NotFound for the whole batch when the lot does not exist, and
    LotChanged when the lot changed between the read and the write.
    """
    if known is not None and known.knows(requests):
        judged = judge_batch(known.lot, known.registrations, requests)
        if judged.params is not None and all(outcome.error is None for outcome in judged.outcomes):
            try:
                await statements.write(judged.params, judged.live_events)
            except LotChanged:
                pass  # changed since this process saw it: read it as it is
            else:
                return judged.outcomes, KnownLot(judged.lot, known.registrations)
    bidder_ids = sorted({request.bidder_id for request in requests})
    rows = await statements.read_lots({"auction_id": auction_id, "bidder_ids": bidder_ids})
    if not rows:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    first = dict(rows[0])
    if first["kind"] != AuctionKind.ENGLISH.value:
        raise NotEnglish(first["kind"])
    registered: dict[int, Mapping[str, Any]] = {
        row["registered_bidder_id"]: {c: row[c] for c in REGISTRATION_COLUMNS}
        for row in rows
        if row["registered_bidder_id"] is not None
    }
    del first["registered_bidder_id"]
    read = LotForBid(**{**first, **dict.fromkeys(REGISTRATION_COLUMNS)})
    judged = judge_batch(read, registered, requests)
    if judged.params is not None:
        await statements.write(judged.params, judged.live_events)
    if known is not None and known.lot.state == read.state:  # its registrations still stand
        registered = {**known.registrations, **registered}
    return judged.outcomes, KnownLot(judged.lot, registered)


async def english_bid(
    unit: EventSink,
    statements: BidStatements,
    lot: LotForBid,
    registrant: Registrant,
    amount_fen: int,
    max_amount_fen: int | None,
) -> BidResult:
    """One bid under the lot's row lock (the unit-of-work path): judged, then written.

    Every round trip made while holding the lock lengthens the queue on a hot lot, so on
    PostgreSQL the three writes go as one statement. Plain Core statements, no ORM flush.
    """
    changes, bid_row, result = judge_english_bid(unit, lot, registrant, amount_fen, max_amount_fen)
    await statements.write(write_params(lot, changes, [bid_row], audit.event_rows(unit.take_events())))
    return result
