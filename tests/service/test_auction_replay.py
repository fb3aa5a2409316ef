"""Random bid streams through the real service equal an independent reference model of the rules."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import Database
from auction.bidding.place import place_bid
from auction.closing import close_due
from auction.errors import BidRefused
from auction.models import Auction, Bid
from auction.rules import EnglishBid, EnglishRules
from tests.service.auction_support import POLICY, SteppingClock, english_auction, run_at
from tests.service.support import ledger_sum
from tests.unit.auction.test_english_properties import Reference
from transfer.kernel.errors import InsufficientFunds
from transfer.kernel.unit_of_work import UnitOfWork

STREAMS = 6
BIDS_PER_STREAM = 25


@pytest.mark.parametrize("seed", range(STREAMS))
async def test_random_bid_stream_through_the_service_matches_the_reference_model(
    database: Database, seed: int
) -> None:
    randomness = random.Random(seed)
    clock = SteppingClock()
    reserve = randomness.choice([None, 120_000, 135_500])
    auction_id, _, bidders = await english_auction(
        database, clock, bidders=4, reserve_price_fen=reserve, duration_s=1200
    )
    rules = EnglishRules(100_000, 1_000, reserve)
    reference = Reference(rules, ())
    async with database.read() as session:
        expected_end = (await session.get(Auction, auction_id)).ends_at  # type: ignore[union-attr]

    for sequence in range(1, BIDS_PER_STREAM + 1):
        clock.now += timedelta(seconds=randomness.randint(1, 90))
        bidder = randomness.choice(bidders)
        price = reference.price_fen() or rules.start_price_fen
        amount = price + rules.increment_fen * randomness.randint(-1, 4) + randomness.choice([0, 0, 0, 500])
        max_amount = (
            None if randomness.random() < 0.4 else amount + rules.increment_fen * randomness.randint(-1, 30)
        )
        candidate = EnglishBid(bidder, amount, max_amount, clock.now, len(reference.accepted) + 1)
        open_now = clock.now < expected_end
        admitted = open_now and reference.admits(candidate)

        async def work(
            unit: UnitOfWork, bidder: int = bidder, amount: int = amount, max_amount: int | None = max_amount
        ) -> None:
            await place_bid(unit, auction_id, bidder, amount, max_amount, policy=POLICY)

        try:
            await run_at(database, clock, work, bidder)
            accepted = True
        except (BidRefused, InsufficientFunds):
            accepted = False
        assert accepted == admitted, (seed, sequence, candidate)
        if accepted:
            reference = reference.with_bid(candidate)
            if clock.now >= expected_end - timedelta(seconds=300):
                expected_end = max(expected_end, clock.now + timedelta(seconds=300))

    async with database.read() as session:
        auction = await session.get(Auction, auction_id)
        assert auction is not None
        history = list(
            (
                await session.execute(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.sequence))
            ).scalars()
        )
    assert [b.sequence for b in history] == list(range(1, len(reference.accepted) + 1))
    assert [(b.bidder_id, b.amount_fen, b.max_amount_fen) for b in history] == [
        (b.bidder_id, b.amount_fen, b.max_amount_fen) for b in reference.accepted
    ]
    assert (auction.price_fen, auction.leader_id) == (reference.price_fen(), reference.leader_id())
    assert auction.ends_at == expected_end

    clock.now = max(clock.now, auction.ends_at)
    await run_at(database, clock, lambda unit: close_due(unit, POLICY))
    async with database.read() as session:
        closed = await session.get(Auction, auction_id)
        assert closed is not None
    leader_max = reference.ranking()[0][1] if reference.accepted else 0
    if reference.accepted and (reserve is None or leader_max >= reserve):
        assert (closed.state, closed.winner_id, closed.final_price_fen) == (
            "awaiting_payment",
            reference.leader_id(),
            reference.price_fen(),
        )
    else:
        assert closed.state == "unsold"
    assert await ledger_sum(database) == 0
