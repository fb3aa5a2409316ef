"""One lot that cannot close never holds back another (issue 11, defect 2).

The lot that cannot close is an auction of a listing that stopped being open behind the auction's
back (as one could before lots were checked against their seller): closing it sold asks the market
for a trade on a listing that is no longer open, and the market refuses. Every other lot due in the
same tick closes on time; that one is set aside with its reason, retried with a bound, shown to
reconciliation as a break, and an admin can cancel it with every deposit released.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.scheduler import run_due_work
from auction.models import CloseFailure
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import register_loan
from transfer.models import AuditEvent
from transfer.models.market import Listing

pytestmark = pytest.mark.db

RECONCILIATION = "/api/v1/clearing/reconciliation"


async def _lots(house: AuctionHouse, normal: int) -> tuple[dict[str, Any], list[int], int, list[Any]]:
    """`normal` ordinary lots around one auction of a listing, all with a bid, all ending at once.
    Returns the bank, the ordinary lots' ids, the listing lot's id and the bidders."""
    _, bank = await house.bank()
    bidders = await house.bidders(2, funds="900000.00")
    loan = await register_loan(house.http, bank)
    ends_at = (house.clock() + timedelta(hours=1)).isoformat()
    ordinary = [(await house.create(bank, ends_at=ends_at))["id"] for _ in range(normal // 2)]
    response = await house.http.post(
        "/api/v1/listings",
        json={
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "auction",
            "share_ppm": 100_000,
            "asking_price": "1000.00",
            "auction": {**house.body(ends_at=ends_at), "lot": {"title": "10 % income right"}},
        },
        headers=bank,
    )
    assert response.status_code == 201, response.text
    stuck = response.json()["auction_id"]
    ordinary += [(await house.create(bank, ends_at=ends_at))["id"] for _ in range(normal - normal // 2)]
    for auction_id in [*ordinary, stuck]:
        for _, headers in bidders:
            await house.register(auction_id, headers)
    house.clock.advance(60)
    for auction_id in [*ordinary, stuck]:
        accepted = await house.bid(auction_id, bidders[0][1], "1000.00")
        assert accepted.status_code == 201, accepted.text
    # The listing is sold another way while its auction runs.
    async with house.context.database.write() as session, session.begin():
        await session.execute(
            update(Listing).where(Listing.id == response.json()["id"]).values(status="matched")
        )
    return bank, ordinary, stuck, bidders


async def _failure(house: AuctionHouse, auction_id: int) -> CloseFailure | None:
    async with house.context.database.read() as session:
        return await session.get(CloseFailure, auction_id)


async def _events(house: AuctionHouse, type_: str, auction_id: int) -> list[dict[str, Any]]:
    async with house.context.database.read() as session:
        rows = await session.execute(
            select(AuditEvent.payload)
            .where(AuditEvent.type == type_, AuditEvent.subject == f"auction:{auction_id}")
            .order_by(AuditEvent.id)
        )
        return [json.loads(p) if isinstance(p, str) else p for p in rows.scalars()]


async def _breaks(house: AuctionHouse) -> list[tuple[str, str, str]]:
    response = await house.http.get(RECONCILIATION, headers=await house.market.clearing())
    assert response.status_code == 200, response.text
    return [(b["kind"], b["subject"], b["detail"]) for b in response.json()["breaks"]]


async def test_a_lot_that_cannot_close_is_set_aside_and_the_rest_close_on_time(house: AuctionHouse) -> None:
    bank, ordinary, stuck, _ = await _lots(house, 6)
    house.clock.advance(3600)
    await house.tick()

    for auction_id in ordinary:
        assert (await house.view(auction_id, bank))["state"] == "awaiting_payment"
    assert (await house.view(stuck, bank))["state"] == "set_aside"
    failure = await _failure(house, stuck)
    assert failure is not None
    assert failure.attempts == 1
    assert failure.reason.startswith("listing_not_open: listing")
    assert failure.retry_at == house.clock() + timedelta(seconds=10)
    assert [e["attempts"] for e in await _events(house, "auction.close_set_aside", stuck)] == [1]
    assert await _events(house, "auction.closed", stuck) == []
    breaks = await _breaks(house)
    assert [(kind, subject) for kind, subject, _ in breaks] == [("auction_set_aside", f"auction:{stuck}")]
    assert "listing_not_open" in breaks[0][2]
    # Its bidders' deposits stay held while it waits: nothing is decided about it yet.
    assert await house.pending_holds() == 2


async def test_a_set_aside_lot_is_retried_with_a_bound_then_waits_for_an_admin(house: AuctionHouse) -> None:
    bank, _, stuck, _ = await _lots(house, 2)
    house.clock.advance(3600)
    await house.tick()
    await house.tick()  # not yet due again: no second attempt
    assert (await _failure(house, stuck)).attempts == 1  # type: ignore[union-attr]

    for attempt, wait_s in ((2, 10), (3, 20), (4, 40), (5, 80)):
        house.clock.advance(wait_s)
        await house.tick()
        failure = await _failure(house, stuck)
        assert failure is not None
        assert failure.attempts == attempt
    assert failure is not None  # the last attempt's, checked in the loop
    assert failure.retry_at is None  # five attempts (IPX_AUCTION_CLOSE_MAX_ATTEMPTS): no more
    house.clock.advance(86_400)
    await house.tick()
    assert (await _failure(house, stuck)).attempts == 5  # type: ignore[union-attr]
    assert "an admin must cancel it" in (await _breaks(house))[0][2]

    # The seller may not cancel a lot with bids; an admin may, and every deposit is released.
    refused = await house.http.post(
        f"/api/v1/auctions/{stuck}/cancel", json={"reason": "stuck"}, headers=bank
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_only")
    cancelled = await house.http.post(
        f"/api/v1/auctions/{stuck}/cancel",
        json={"reason": "its listing was sold another way"},
        headers=house.market.admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert await house.pending_holds() == 0
    assert await house.ledger_sum() == 0
    assert (await _failure(house, stuck)).resolved_at == house.clock()  # type: ignore[union-attr]
    assert await _breaks(house) == []


async def test_a_set_aside_lot_closes_on_retry_once_its_cause_is_gone(house: AuctionHouse) -> None:
    bank, _, stuck, bidders = await _lots(house, 2)
    house.clock.advance(3600)
    await house.tick()
    async with house.context.database.write() as session, session.begin():
        await session.execute(update(Listing).where(Listing.auction_id == stuck).values(status="open"))
    house.clock.advance(10)
    await house.tick()

    view = await house.view(stuck, bank)
    assert (view["state"], view["final_price"]) == ("sold", "1000.00")
    closed = await _events(house, "auction.closed", stuck)
    assert [e["winner_id"] for e in closed] == [bidders[0][0]]
    failure = await _failure(house, stuck)
    assert failure is not None
    assert (failure.attempts, failure.retry_at, failure.resolved_at) == (1, None, house.clock())
    assert await _breaks(house) == []


async def test_reconciliation_names_a_running_auction_long_past_its_end(house: AuctionHouse) -> None:
    _, bank = await house.bank()
    created = await house.create(bank)
    house.clock.advance(3600 + 30)
    assert await _breaks(house) == []  # within the closer's latency bound
    house.clock.advance(60)
    breaks = await _breaks(house)
    assert [(kind, subject) for kind, subject, _ in breaks] == [
        ("auction_not_closed", f"auction:{created['id']}")
    ]
    assert "still scheduled" in breaks[0][2]
    await house.tick()
    assert await _breaks(house) == []


async def test_concurrent_closers_close_each_lot_once_and_set_the_bad_one_aside_once(
    house: AuctionHouse,
) -> None:
    bank, ordinary, stuck, _ = await _lots(house, 8)
    house.clock.advance(3600)
    await asyncio.gather(*(run_due_work(house.context) for _ in range(4)))

    async with house.context.database.read() as session:
        closes = await session.execute(
            select(AuditEvent.subject, func.count())
            .where(AuditEvent.type == "auction.closed")
            .group_by(AuditEvent.subject)
        )
        counts = dict(closes.all())
    assert counts == {f"auction:{auction_id}": 1 for auction_id in ordinary}
    assert [e["attempts"] for e in await _events(house, "auction.close_set_aside", stuck)] == [1]
    assert (await house.view(stuck, bank))["state"] == "set_aside"
