"""The demo market (`scripts/serve --demo`) on both databases: seeded once with whole books and a
history, its session's lots ending staggered over the next 15 minutes, and its simulated bidders
bidding on the grid while the service runs, stopping with it, and silent under --demo-quiet."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from app.context import AppContext
from app.db import Database
from app.demo import DEMO_PARTICIPANTS, seed_demo_market
from app.demo import bidders as demo_bidders
from app.demo.participants import ADMIN_KEY, SIMULATED_BIDDER_KEYS
from app.demo.session_seed import FIRST_LOT_ENDS_IN_S, SESSION_LOT_COUNT, STAGGER_S
from app.main import create_asgi_app, litestar_app
from app.scheduler import close_due_auctions, seal_audit_events
from app.settings import Settings, load_settings
from auction.disposal.models import DisposalCase, DisposalSession, DisposalStep, SessionLot
from auction.models import Auction, Bid
from auction.operation.models import PoolLicense, PoolRevenue
from tests.conftest import FakeClock
from transfer.kernel.audit import VerifyReport, verify_chain
from transfer.kernel.audit_tables import AuditEvent
from transfer.ledger.accounts import ledger_sum_fen
from transfer.models import LedgerTransfer, Participant
from transfer.models.loans import CollateralItem, Loan
from transfer.models.market import FeeLine, Trade
from transfer.registry import participants

pytestmark = pytest.mark.db

FAST = demo_bidders.Pace(pause_min_s=0.01, pause_max_s=0.05, keeper_every_s=0.2)


def _demo_settings(database: Database, **overrides: object) -> Settings:
    # The shipped rules (24 h lots, 30 days' notice): the demo must work under them.
    return load_settings({}, database_url=database.url, scheduler_enabled=False, demo=True, **overrides)


async def _sealed_and_verified(context: AppContext) -> VerifyReport:
    """Seal and verify; on PostgreSQL an event waits while any older transaction of the cluster
    runs (another test's, say), so try again for a while before taking the report as it is."""
    for _ in range(50):
        await seal_audit_events(context)
        async with context.database.read() as session:
            report = await verify_chain(session)
        if report.pending_events == 0:
            break
        await asyncio.sleep(0.2)
    return report


async def _counts(database: Database) -> dict[str, int]:
    tables = {
        "participants": Participant,
        "loans": Loan,
        "collateral": CollateralItem,
        "auctions": Auction,
        "bids": Bid,
        "trades": Trade,
        "ledger": LedgerTransfer,
        "audit": AuditEvent,
        "sessions": DisposalSession,
        "revenues": PoolRevenue,
    }
    async with database.read() as session:
        return {
            name: int((await session.execute(select(func.count()).select_from(model))).scalar_one())
            for name, model in tables.items()
        }


async def test_the_demo_seeds_once_with_whole_books_a_history_and_a_session_ending_within_15_minutes(
    database: Database, clock: FakeClock
) -> None:
    context = AppContext(_demo_settings(database, demo_quiet=True), database, clock)
    seeded_at = clock()

    first = await seed_demo_market(context)
    counts = await _counts(database)
    clock.advance(30)
    second = await seed_demo_market(context)

    assert first.participants_created == len(DEMO_PARTICIPANTS) and first.steps_run > 100
    assert (second.participants_created, second.steps_run) == (0, 0)
    assert await _counts(database) == counts
    report = await _sealed_and_verified(context)
    # Every event is chained but those a transaction elsewhere in the cluster still holds back.
    assert report.ok and report.events_checked + report.pending_events == counts["audit"]
    async with database.read() as session:
        assert await ledger_sum_fen(session) == 0
        for demo in DEMO_PARTICIPANTS:
            found = await participants.find_by_api_key(session, demo.api_key)
            assert found is not None and set(found.roles.split(",")) == set(demo.roles), demo.name
        # The session: its lots end one stagger apart, the first two minutes after the seed.
        assert first.session_id is not None
        lots = (
            await session.execute(
                select(SessionLot.position, Auction)
                .join(Auction, Auction.id == SessionLot.auction_id)
                .where(SessionLot.session_id == first.session_id)
                .order_by(SessionLot.position)
            )
        ).all()
        assert len(lots) == SESSION_LOT_COUNT
        first_end = seeded_at + timedelta(seconds=FIRST_LOT_ENDS_IN_S)
        assert [auction.ends_at for _, auction in lots] == [
            first_end + timedelta(seconds=position * STAGGER_S) for position, _ in lots
        ]
        assert all(seeded_at < a.ends_at <= seeded_at + timedelta(minutes=15) for _, a in lots)
        assert all(a.starts_at < seeded_at and a.ends_at - a.starts_at >= timedelta(days=1) for _, a in lots)
        assert first.room_auction_id == lots[0][1].id
        # Its announcement came the full 30 days' notice before it opened (the clock set back).
        announced = await session.get(DisposalSession, first.session_id)
        assert announced is not None and lots[0][1].starts_at - announced.created_at >= timedelta(days=30)
        kinds = set(
            (
                await session.execute(
                    select(CollateralItem.kind).where(
                        CollateralItem.id.in_([i for _, a in lots for i in json.loads(a.collateral_ids)])
                    )
                )
            ).scalars()
        )
        assert {"invention_patent", "utility_patent", "trademark"} <= kinds
        # The case in round 2: round 1 ran and closed unsold in the past, round 2 is live now.
        rounds = (
            await session.execute(
                select(DisposalStep, Auction)
                .join(Auction, Auction.id == DisposalStep.auction_id)
                .join(DisposalCase, DisposalCase.id == DisposalStep.case_id)
                .where(DisposalStep.kind == "round", DisposalStep.session_lot_id.is_(None))
                .order_by(DisposalStep.number)
            )
        ).all()
        assert [(step.round_no, step.result) for step, _ in rounds] == [(1, "unsold"), (2, "running")]
        assert rounds[0][1].state == "unsold" and rounds[1][1].state in ("scheduled", "open")
        assert rounds[0][1].closed_at is not None and rounds[0][1].closed_at < seeded_at - timedelta(days=7)
        assert rounds[1][1].starts_at < seeded_at < rounds[1][1].ends_at
        assert rounds[1][0].start_price_fen == 1_350_000_00  # 80 % of round 1's start, on the grid
        # The pool: three licences and a royalty a month, the earn-out paid to the bank.
        assert int((await session.execute(select(func.count()).select_from(PoolLicense))).scalar_one()) == 3
        assert counts["revenues"] >= 5
        # The fee-waiver history: a few hundred trades over six months, every one settled, fees waived.
        trades = list((await session.execute(select(Trade))).scalars())
        assert 200 <= len(trades) <= 400
        assert all(t.status == "settled" and t.is_ip_pledge for t in trades)
        assert len({(t.trade_date.year, t.trade_date.month) for t in trades}) >= 6
        assert min(t.trade_date for t in trades) < (seeded_at - timedelta(days=150)).date()
        waived = (await session.execute(select(func.sum(FeeLine.waived_fen)))).scalar_one()
        assert waived > 0
        demo_admin = await participants.find_by_api_key(session, ADMIN_KEY)
        assert demo_admin is not None
        assert (
            await session.execute(
                select(func.count())
                .select_from(DisposalSession)
                .where(DisposalSession.created_by == demo_admin.id)
            )
        ).scalar_one() == 1


@asynccontextmanager
async def _serving(settings: Settings, database: Database, clock: FakeClock) -> AsyncIterator[AppContext]:
    app = create_asgi_app(settings, database=database, clock=clock, run_scheduler=False)
    async with LifespanManager(app, startup_timeout=240, shutdown_timeout=30):
        yield litestar_app(app).state["ctx"]


async def _id_of(database: Database, api_key: str) -> int:
    async with database.read() as session:
        found = await participants.find_by_api_key(session, api_key)
    assert found is not None
    return found.id


async def _bids(database: Database) -> list[Any]:
    async with database.read() as session:
        return list(
            (
                await session.execute(
                    select(Bid, Auction).join(Auction, Auction.id == Bid.auction_id).order_by(Bid.id)
                )
            ).all()
        )


async def test_the_simulated_bidders_bid_on_the_grid_while_the_service_runs_and_stop_with_it(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_bidders, "DEFAULT_PACE", FAST)
    async with _serving(_demo_settings(database), database, clock) as context:
        simulated = {await _id_of(database, key) for key in SIMULATED_BIDDER_KEYS}
        for _ in range(600):
            if len(await _bids(database)) >= 12:
                break
            await asyncio.sleep(0.05)
    after_shutdown = await _bids(database)
    await asyncio.sleep(0.5)

    assert len(after_shutdown) >= 12
    # Nothing bids once the service has stopped.
    assert [bid.id for bid, _ in await _bids(database)] == [bid.id for bid, _ in after_shutdown]
    for bid, auction in after_shutdown:
        assert bid.bidder_id in simulated
        assert bid.amount_fen >= auction.start_price_fen
        assert (bid.amount_fen - auction.start_price_fen) % auction.increment_fen == 0
        if bid.max_amount_fen is not None:
            assert bid.max_amount_fen > bid.amount_fen
            assert (bid.max_amount_fen - auction.start_price_fen) % auction.increment_fen == 0
    bid_on = {auction.id for _, auction in after_shutdown}
    async with database.read() as session:
        lots = list((await session.execute(select(Auction).where(Auction.id.in_(bid_on)))).scalars())
        assert await ledger_sum_fen(session) == 0
    # The prices moved: each lot bid on is led by a simulated bidder at or above its start.
    assert lots and all(lot.leader_id in simulated and lot.price_fen is not None for lot in lots)
    assert context.settings.demo and not context.settings.demo_quiet


async def test_demo_quiet_seeds_the_market_but_places_no_bid(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_bidders, "DEFAULT_PACE", FAST)
    async with _serving(_demo_settings(database, demo_quiet=True), database, clock):
        await asyncio.sleep(1.0)
        counts = await _counts(database)

    assert counts["sessions"] == 1 and counts["trades"] >= 200
    assert counts["bids"] == 0


async def test_the_keeper_pays_for_the_lots_its_bidders_win_and_opens_a_fresh_session_once_all_closed(
    database: Database, clock: FakeClock
) -> None:
    context = AppContext(_demo_settings(database, demo_quiet=True), database, clock)
    first = await seed_demo_market(context)
    bidders = demo_bidders.DemoBidders(context, pace=FAST)
    bidders.start()
    try:
        for _ in range(600):
            if len({auction.id for _, auction in await _bids(database)}) >= 3:
                break
            await asyncio.sleep(0.05)
        # Every lot of the session past its end: the closer (a scheduler tick) closes them.
        async with database.read() as session:
            ends = (
                await session.execute(
                    select(func.max(Auction.ends_at))
                    .join(SessionLot, SessionLot.auction_id == Auction.id)
                    .where(SessionLot.session_id == first.session_id)
                )
            ).scalar_one()
        await bidders.stop()
        clock.set(ends + timedelta(seconds=1))
        await close_due_auctions(context)
        bidders = demo_bidders.DemoBidders(context, pace=FAST)
        bidders.start()
        for _ in range(600):
            async with database.read() as session:
                sessions_now = (
                    await session.execute(select(func.count()).select_from(DisposalSession))
                ).scalar_one()
                unpaid = (
                    await session.execute(
                        select(func.count()).select_from(Auction).where(Auction.state == "awaiting_payment")
                    )
                ).scalar_one()
            if sessions_now == 2 and unpaid == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await bidders.stop()

    async with database.read() as session:
        won = list(
            (
                await session.execute(
                    select(Auction)
                    .join(SessionLot, SessionLot.auction_id == Auction.id)
                    .where(SessionLot.session_id == first.session_id, Auction.winner_id.is_not(None))
                )
            ).scalars()
        )
        fresh = (
            await session.execute(
                # As scheduled: a simulated bid in a lot's last window may have extended it since.
                select(Auction.scheduled_ends_at)
                .join(SessionLot, SessionLot.auction_id == Auction.id)
                .join(DisposalSession, DisposalSession.id == SessionLot.session_id)
                .where(DisposalSession.id != first.session_id)
                .order_by(SessionLot.position)
            )
        ).scalars()
        fresh_ends = list(fresh)
        assert await ledger_sum_fen(session) == 0
    assert won and all(auction.state == "sold" for auction in won)
    assert len(fresh_ends) == SESSION_LOT_COUNT
    assert clock() < fresh_ends[0] <= clock() + timedelta(seconds=FIRST_LOT_ENDS_IN_S)
    assert fresh_ends[-1] <= clock() + timedelta(minutes=15)
