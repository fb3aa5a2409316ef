"""The English bid executor: a batch of bids judged on one snapshot of its lot and written by one
statement conditional on the lot's sequence and state. Its two modes differ only in how the
snapshot is read and in the transaction around it (ARCHITECTURE.md, "The path of an English bid"):
optimistic, a plain read with a miss read and judged again (app/bidding/driver_bids.py), and
locked, BEGIN, the read FOR UPDATE, the same write, COMMIT (there after misses, and in a unit of
work: auction/bidding/place.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from auction.bidding.judge import judge_batch
from auction.bidding.lot import (
    REGISTRATION_COLUMNS,
    EnglishBidOutcome,
    EnglishBidRequest,
    KnownLot,
    LotChanged,
    LotForBid,
    NotEnglish,
)
from auction.policy import AuctionKind
from transfer.kernel.errors import NotFound


class LotStatements(Protocol):
    """The executor's two statements (auction.bidding.statements): on PostgreSQL's driver
    (app/bidding/driver_bids.py) or in a unit of work (SessionStatements)."""

    async def read_lots(self, params: dict[str, Any]) -> Sequence[Mapping[str, Any]]:
        """The lot with the registrations of params' bidder_ids: one row per registered bidder, or
        one with no registration; none when there is no such lot."""

    async def write(self, params: dict[str, Any], live_events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """The conditional write of write_params; raises LotChanged when it applied nothing. Given
        the batch's live events too, for a writer that sends them in the same statement."""


async def place_english_bids(
    statements: LotStatements,
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
    read, registered = _snapshot(auction_id, rows)
    judged = judge_batch(read, registered, requests)
    if judged.params is not None:
        await statements.write(judged.params, judged.live_events)
    if known is not None and known.lot.state == read.state:  # its registrations still stand
        registered = {**known.registrations, **registered}
    return judged.outcomes, KnownLot(judged.lot, registered)


def _snapshot(
    auction_id: int, rows: Sequence[Mapping[str, Any]]
) -> tuple[LotForBid, dict[int, Mapping[str, Any]]]:
    """The lot as read (registration fields empty) and the registrations by bidder; NotFound when
    there is no such lot, NotEnglish (with both) when it is of another kind."""
    if not rows:
        raise NotFound("auction_not_found", f"auction {auction_id} does not exist", field="id")
    first = dict(rows[0])
    registered: dict[int, Mapping[str, Any]] = {
        row["registered_bidder_id"]: {c: row[c] for c in REGISTRATION_COLUMNS}
        for row in rows
        if row["registered_bidder_id"] is not None
    }
    del first["registered_bidder_id"]
    read = LotForBid(**{**first, **dict.fromkeys(REGISTRATION_COLUMNS)})
    if read.kind != AuctionKind.ENGLISH.value:
        raise NotEnglish(read, registered)
    return read, registered
