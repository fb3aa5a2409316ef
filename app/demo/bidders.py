"""Simulated bidders: background tasks of a `--demo` service that keep bidding on the live demo lots
they are registered for, at a human pace, through the same bid executor as the API
(app/bidding/submit.py), so a newcomer sees prices move, lots extend and close.

Each bidder values each lot privately (105 % to 140 % of its start, fixed per bidder and lot) and
never bids above that: bidding stops by itself and every lot closes. Most bids go to the lot ending
soonest, so lots are settled in the order they end, mostly before their last window. It bids the least valid amount
or one step more, now and then with a proxy maximum, always on the grid. A keeper task pays for the
lots they win (so disposal cases settle), tops their funds up when they run low (as a clearing
clerk recording a receipt would), and opens a fresh demo session once no demo session lot is still
running, so the catalogue is never empty. `--demo-quiet` starts none of it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from sqlalchemy import and_, exists, select

from app.bidding.submit import submit_bid
from app.context import AppContext
from app.demo.orchestrator import open_fresh_session
from app.demo.participants import ADMIN_KEY, SIMULATED_BIDDER_KEYS
from auction.bidding.lot import english_rules, english_state
from auction.disposal.models import DisposalSession, SessionLot
from auction.models import Auction, Registration
from auction.payment import pay
from auction.policy import RUNNING_STATES, AuctionKind, AuctionState
from auction.rules.english import minimum_bid_fen
from transfer import ledger
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import participants

log = structlog.get_logger("ipx.demo.bidders")

# Lots a bidder considers at once: the ones ending soonest.
LOTS_CONSIDERED = 20
# Below this available balance a simulated bidder gets TOP_UP_FEN more, so it can keep paying.
LOW_FUNDS_FEN = 5_000_000_00
TOP_UP_FEN = 10_000_000_00
# How long stop() waits for a bid in flight before cancelling.
STOP_GRACE_S = 10.0


@dataclass(frozen=True, slots=True)
class Pace:
    """How often the simulated bidders act (house choices for a demo, not rules)."""

    pause_min_s: float = 2.0
    pause_max_s: float = 8.0
    # Per bid, in thousandths: how often it carries a proxy maximum, and how often it goes one
    # increment above the least valid amount.
    proxy_per_mille: int = 350
    step_up_per_mille: int = 250
    # Chance, in thousandths, of taking the lot ending soonest rather than any live one.
    soonest_per_mille: int = 800
    keeper_every_s: float = 15.0


DEFAULT_PACE = Pace()


def ceiling_fen(bidder_id: int, auction: Auction) -> int:
    """What this bidder will pay at most for this lot: 105 % to 140 % of its start, the same on
    every start of the service."""
    per_ten_thousand = 10_500 + random.Random(f"{bidder_id}:{auction.id}").randrange(3_501)
    return auction.start_price_fen * per_ten_thousand // 10_000


def next_bid(
    auction: Auction, bidder_id: int, rng: random.Random, pace: Pace
) -> tuple[int, int | None] | None:
    """(amount, maximum or None) on the lot's grid within the bidder's ceiling; None to let it go."""
    if auction.leader_id == bidder_id:
        return None
    minimum_fen = minimum_bid_fen(english_state(auction), english_rules(auction))
    ceiling = ceiling_fen(bidder_id, auction)
    if minimum_fen > ceiling:
        return None
    increment_fen = auction.increment_fen
    top_fen = minimum_fen + (ceiling - minimum_fen) // increment_fen * increment_fen
    amount_fen = minimum_fen + (increment_fen if rng.randrange(1_000) < pace.step_up_per_mille else 0)
    amount_fen = min(amount_fen, top_fen)
    if rng.randrange(1_000) >= pace.proxy_per_mille:
        return amount_fen, None
    max_fen = min(amount_fen + increment_fen * rng.randint(2, 8), top_fen)
    return amount_fen, (max_fen if max_fen > amount_fen else None)


class DemoBidders:
    def __init__(
        self,
        context: AppContext,
        *,
        pace: Pace | None = None,
        bidder_keys: tuple[str, ...] = SIMULATED_BIDDER_KEYS,
        fresh_sessions: bool = True,
        seed: int = 16,
    ) -> None:
        self.context = context
        self.pace = pace or DEFAULT_PACE
        self.bidder_keys = bidder_keys
        self.fresh_sessions = fresh_sessions
        self.seed = seed
        self.bids_accepted = 0
        self.bids_refused = 0
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        assert not self._tasks, "started once"
        for key in self.bidder_keys:
            self._tasks.append(asyncio.create_task(self._bidder(key), name=f"demo-bidder-{key[-14:]}"))
        self._tasks.append(asyncio.create_task(self._keeper(), name="demo-keeper"))
        log.info("simulated bidders started", bidders=len(self.bidder_keys))

    async def stop(self) -> None:
        """Ask every task to finish its step and end; cancel what is still running after the grace."""
        self._stopping.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        log.info("simulated bidders stopped", accepted=self.bids_accepted, refused=self.bids_refused)

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def _pause(self, seconds: float) -> bool:
        """Sleep, or return True at once when asked to stop."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _ids(self, keys: tuple[str, ...]) -> list[int]:
        async with self.context.database.read() as session:
            found = [await participants.find_by_api_key(session, key) for key in keys]
        return [participant.id for participant in found if participant is not None]

    async def _bidder(self, key: str) -> None:
        rng = random.Random(f"{self.seed}:{key}")
        ids = await self._ids((key,))
        if not ids:
            log.warning("simulated bidder missing; it sits out", key_prefix=key[:12])
            return
        bidder_id = ids[0]
        while not await self._pause(rng.uniform(self.pace.pause_min_s, self.pace.pause_max_s)):
            try:
                await self._bid_once(bidder_id, rng)
            except DomainError as refusal:
                # Outbid between its read and its bid, or the lot closed: a person would read again.
                self.bids_refused += 1
                log.debug("simulated bid refused", bidder_id=bidder_id, code=refusal.code)
            except Exception:
                log.exception("simulated bidder failed; it tries again", bidder_id=bidder_id)

    async def _live_lots(self, bidder_id: int, now: datetime) -> list[Auction]:
        async with self.context.database.read() as session:
            rows = await session.execute(
                select(Auction)
                .join(
                    Registration,
                    and_(
                        Registration.auction_id == Auction.id,
                        Registration.bidder_id == bidder_id,
                        Registration.deposit_state == "held",
                    ),
                )
                .where(
                    Auction.kind == AuctionKind.ENGLISH.value,
                    Auction.state.in_([state.value for state in RUNNING_STATES]),
                    Auction.starts_at <= now,
                    Auction.ends_at > now,
                )
                .order_by(Auction.ends_at, Auction.id)
                .limit(LOTS_CONSIDERED)
            )
            return list(rows.scalars())

    async def _bid_once(self, bidder_id: int, rng: random.Random) -> None:
        lots = await self._live_lots(bidder_id, self.context.clock())
        if not lots:
            return
        lot = lots[0] if rng.randrange(1_000) < self.pace.soonest_per_mille else rng.choice(lots)
        chosen = next_bid(lot, bidder_id, rng, self.pace)
        if chosen is None:
            return
        amount_fen, max_fen = chosen
        await submit_bid(self.context, bidder_id, lot.id, amount_fen, max_fen)
        self.bids_accepted += 1

    async def _keeper(self) -> None:
        while not await self._pause(self.pace.keeper_every_s):
            try:
                bidder_ids = await self._ids(self.bidder_keys)
                await self._pay_won_lots(bidder_ids)
                await self._top_up(bidder_ids)
                if self.fresh_sessions and not await self._demo_session_running():
                    steps = await open_fresh_session(self.context)
                    log.info("demo: a fresh session opened", steps=steps)
            except Exception:
                log.exception("demo keeper failed; it tries again")

    async def _pay_won_lots(self, bidder_ids: list[int]) -> None:
        async with self.context.database.read() as session:
            won = (
                await session.execute(
                    select(Auction.id, Auction.winner_id).where(
                        Auction.state == AuctionState.AWAITING_PAYMENT.value,
                        Auction.winner_id.in_(bidder_ids),
                    )
                )
            ).all()
        policy = self.context.auction_policy
        for auction_id, won_by in won:
            assert won_by is not None  # the query asked for winners among the bidders
            winner_id: int = won_by

            async def work(
                unit: UnitOfWork, auction_id: int = auction_id, winner_id: int = winner_id
            ) -> None:
                await pay(unit, auction_id, winner_id, policy)

            try:
                await self.context.transact(work, actor_id=winner_id)
            except DomainError as refusal:
                log.info("demo winner could not pay", auction_id=auction_id, code=refusal.code)

    async def _top_up(self, bidder_ids: list[int]) -> None:
        async with self.context.database.read() as session:
            low = [
                bidder_id
                for bidder_id in bidder_ids
                if (await ledger.balances(session, bidder_id)).available_fen < LOW_FUNDS_FEN
            ]
        for bidder_id in low:

            async def work(unit: UnitOfWork, bidder_id: int = bidder_id) -> None:
                reference = f"demo-top-up-{bidder_id}-{unit.now:%Y%m%dT%H%M%S%f}"
                await ledger.record_funds(unit, bidder_id, TOP_UP_FEN, reference)

            await self.context.transact(work, actor_id=None)

    async def _demo_session_running(self) -> bool:
        """A lot of a demo session is still running (or not yet started)."""
        ids = await self._ids((ADMIN_KEY,))
        if not ids:
            return True  # no demo admin: nothing of ours to refresh
        async with self.context.database.read() as session:
            running = await session.execute(
                select(
                    exists(
                        select(SessionLot.id)
                        .join(Auction, Auction.id == SessionLot.auction_id)
                        .join(DisposalSession, DisposalSession.id == SessionLot.session_id)
                        .where(
                            DisposalSession.created_by == ids[0],
                            Auction.state.in_([state.value for state in RUNNING_STATES]),
                        )
                    )
                )
            )
            return bool(running.scalar_one())


class DemoBiddersLifespan(InitPluginProtocol):
    """Runs the bidders inside the live-event channels' lifespan (a plugin listed after the
    channels): they start after the seed and the channels, and stop before the channels close, so
    no bid of theirs commits with nobody left to tell."""

    def __init__(self, bidders: DemoBidders) -> None:
        self.bidders = bidders

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self._running)
        return app_config

    @asynccontextmanager
    async def _running(self, _app: Any) -> AsyncIterator[None]:
        self.bidders.start()
        try:
            yield
        finally:
            await self.bidders.stop()
