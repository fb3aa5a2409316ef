"""Service-level auction setup: a seller, funded bidders and an English auction, without HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.db import Database
from auction.creation import AuctionSpec, create_auction
from auction.policy import AuctionPolicy
from auction.registration import register
from tests.service.support import new_participant
from transfer.kernel.unit_of_work import UnitOfWork, run_in_transaction

POLICY = AuctionPolicy(min_duration_s=0)


class SteppingClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


async def run_at(database: Database, clock: Callable[[], datetime], work, actor_id: int | None = None):  # type: ignore[no-untyped-def]
    return await run_in_transaction(
        database.write, work, actor_id=actor_id, clock=clock, gate=database.write_gate
    )


async def english_auction(
    database: Database,
    clock: SteppingClock,
    *,
    bidders: int,
    start_price_fen: int = 100_000,
    increment_fen: int = 1_000,
    reserve_price_fen: int | None = None,
    duration_s: int = 3600,
    extension_window_s: int = 300,
    extension_s: int = 300,
    funds_fen: int = 100_000_000,
) -> tuple[int, int, list[int]]:
    seller = await new_participant(database, ["bank"], name="Seller")
    bidder_ids = [
        await new_participant(database, ["bidder"], funds_fen, name=f"B{i}") for i in range(bidders)
    ]
    spec = AuctionSpec(
        kind="english",
        lot_title="Utility patent ZL2021 2 0000002.Y",
        start_price_fen=start_price_fen,
        increment_fen=increment_fen,
        deposit_fen=start_price_fen // 10,
        starts_at=clock.now + timedelta(seconds=1),
        ends_at=clock.now + timedelta(seconds=1 + duration_s),
        reserve_price_fen=reserve_price_fen,
        extension_window_s=extension_window_s,
        extension_s=extension_s,
    )

    async def create(unit: UnitOfWork) -> int:
        return (await create_auction(unit, seller, spec, POLICY)).id

    auction_id = await run_at(database, clock, create, seller)
    for bidder in bidder_ids:

        async def enrol(unit: UnitOfWork, bidder: int = bidder) -> None:
            await register(unit, auction_id, bidder, POLICY)

        await run_at(database, clock, enrol, bidder)
    clock.now += timedelta(seconds=1)
    return auction_id, seller, bidder_ids
