"""The English executor's locked mode (auction/bidding/place.py): keyed bids on both databases, and
every bid on SQLite. A key's claim shares the bid's transaction, and with no gate in front, bids
racing on one lot meet only at its row lock (PostgreSQL) or the write lock (SQLite)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from auction.models import Bid
from tests.api.auction_support import AuctionHouse
from transfer.models import AuditEvent, IdempotencyRecord


async def _bid_with_key(
    house: AuctionHouse, auction_id: int, bidder: dict[str, str], key: str, amount: str
) -> tuple[int, dict[str, object], str | None]:
    response = await house.http.post(
        f"/api/v1/auctions/{auction_id}/bids",
        json={"amount": amount},
        headers={**bidder, "Idempotency-Key": key},
    )
    return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")


async def test_twins_sent_at_once_with_one_key_place_one_bid_and_all_get_its_answer(
    house: AuctionHouse,
) -> None:
    _, [(_, bidder)], auction = await house.open_lot(1)

    answers = await asyncio.gather(
        *(_bid_with_key(house, auction["id"], bidder, "twin-1", "1200.00") for _ in range(8))
    )

    assert {status for status, _, _ in answers} == {201}
    assert len({str(sorted(body.items())) for _, body, _ in answers}) == 1
    assert sorted(str(replayed) for _, _, replayed in answers) == ["None"] + ["true"] * 7
    history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=bidder)).json()
    assert [(b["sequence"], b["amount"]) for b in history["items"]] == [(1, "1200.00")]


async def test_a_refused_keyed_bid_stores_no_answer_and_its_retry_is_judged_again(
    house: AuctionHouse,
) -> None:
    _, [(bidder_id, bidder)], auction = await house.open_lot(1)
    [(stranger_id, stranger)] = await house.bidders(1)

    low = await _bid_with_key(house, auction["id"], bidder, "low-1", "900.00")
    again = await _bid_with_key(house, auction["id"], bidder, "low-1", "900.00")
    unregistered = await _bid_with_key(house, auction["id"], stranger, "mine-1", "1500.00")

    assert (low[0], low[1]["code"], low[1]["minimum"], low[2]) == (409, "below_minimum", "1000.00", None)
    assert (again[0], again[1]["code"], again[2]) == (409, "below_minimum", None)
    assert (unregistered[0], unregistered[1]["code"]) == (403, "not_registered")
    async with house.context.database.read() as session:
        keys = (
            await session.execute(
                select(IdempotencyRecord.key).where(
                    IdempotencyRecord.participant_id.in_([bidder_id, stranger_id])
                )
            )
        ).all()
        bids = (await session.execute(select(func.count()).select_from(Bid))).scalar_one()
    assert (keys, bids) == ([], 0)


async def test_keyed_bids_from_many_bidders_at_once_equal_the_replay_of_the_accepted_ones(
    house: AuctionHouse,
) -> None:
    _, people, auction = await house.open_lot(12)
    amounts = [f"{1000 + 10 * ((i * 7) % 24)}.00" for i in range(24)]

    answers = await asyncio.gather(
        *(
            _bid_with_key(house, auction["id"], people[i % 12][1], f"race-{i}", amount)
            for i, amount in enumerate(amounts)
        )
    )

    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {201, 409}, answers
    accepted = sorted(int(str(body["sequence"])) for status, body, _ in answers if status == 201)
    assert accepted == list(range(1, len(accepted) + 1))
    history = await house.replayed_history(auction["id"])
    assert [b.sequence for b in history] == accepted
    async with house.context.database.read() as session:
        events = (
            await session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "auction.bid")
            )
        ).scalar_one()
        keys = (await session.execute(select(func.count()).select_from(IdempotencyRecord))).scalar_one()
    # One audit event and one stored answer per accepted bid; a refusal stores nothing.
    assert events == keys == len(accepted)
