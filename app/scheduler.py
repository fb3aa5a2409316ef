"""Periodic jobs on APScheduler 3 (memory job store).

The database is the source of truth, so every job is idempotent against it: a restart loses
nothing, and jobs are safe to run on every node at once.

Its length is one short function per job plus the list that wires them: kept in one file so that
every job's interval and order read side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import bindparam, select

from app.context import AppContext
from app.http import idempotency
from auction import close_isolation, closing, payment
from auction.disposal import buyout, proceeds, stalking_horse, steps
from auction.disposal.models import DisposalCase
from auction.models import Auction, CloseFailure
from auction.operation import commitments, offers
from auction.operation.models import BuyoutCommitment, BuyoutOffer
from transfer.annuities import coverage_alerts, daily_run
from transfer.kernel import audit
from transfer.kernel.driver_sql import compile_for_driver
from transfer.kernel.errors import DomainError
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import UnitOfWork, bind
from transfer.market import listings, settlement
from transfer.models.market import Listing
from transfer.rules.fee_waiver import shanghai_trade_date

log = structlog.get_logger("ipx.scheduler")

# A disposal case that could not move on past its deadline is tried again this much later.
DISPOSAL_RETRY_S = 3_600


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    run: Callable[[AppContext], Awaitable[object]]
    every_s: float


async def in_batches(run: Callable[[], Awaitable[int]], batch_size: int, done: str | None = None) -> int:
    """Run `run` (one batch, one transaction) until a batch comes back short of `batch_size`;
    log each batch's count under `done`. Returns the total."""
    total = 0
    while True:
        count = await run()
        total += count
        if count and done is not None:
            log.info(done, count=count)
        if count < batch_size:
            return total


async def purge_idempotency_records(context: AppContext) -> None:
    async def work(unit: UnitOfWork) -> int:
        return await idempotency.purge_expired(unit.session, unit.now, context.settings.idempotency_ttl_s)

    purged = await context.transact(work, actor_id=None)
    if purged:
        log.info("idempotency records purged", count=purged)


# What run_due_work asks each tick: is any auction due to close, any winner past the payment
# deadline, any subscription book due? The closers' own conditions, at the tick's time.
_NOW = bindparam("now", type_=UTCDateTime())
# Each as "the first one by its time", not EXISTS: ordered by the indexed time, the plan walks
# the index from its start and stops, where EXISTS was planned as a sequential scan expected to
# meet a row at once, and read every auction when none was due.
_PROBE = select(
    select(Auction.id).where(closing.due_to_close(_NOW)).order_by(Auction.ends_at).limit(1).scalar_subquery(),
    select(Auction.id)
    .where(payment.past_payment_deadline(_NOW))
    .order_by(Auction.payment_due_at)
    .limit(1)
    .scalar_subquery(),
    select(Listing.id)
    .where(listings.subscription_due(_NOW))
    .order_by(Listing.closes_at)
    .limit(1)
    .scalar_subquery(),
    select(CloseFailure.auction_id)
    .where(close_isolation.retry_due(_NOW))
    .order_by(CloseFailure.retry_at)
    .limit(1)
    .scalar_subquery(),
    select(DisposalCase.id).where(steps.case_has_work(_NOW)).limit(1).scalar_subquery(),
    select(BuyoutOffer.id)
    .where(offers.offer_due(_NOW))
    .order_by(BuyoutOffer.valid_until)
    .limit(1)
    .scalar_subquery(),
    select(BuyoutOffer.id)
    .join(DisposalCase, DisposalCase.id == BuyoutOffer.case_id)
    .where(buyout.live_offer_on_ended_case())
    .limit(1)
    .scalar_subquery(),
    stalking_horse.to_stand(_NOW).limit(1).scalar_subquery(),
    stalking_horse.to_resolve().limit(1).scalar_subquery(),
    select(BuyoutCommitment.id)
    .where(commitments.commitment_due(_NOW))
    .order_by(BuyoutCommitment.valid_until)
    .limit(1)
    .scalar_subquery(),
)
_PROBE_ON_DRIVER = compile_for_driver(_PROBE)

# The PostgreSQL sealer's statement, built once (transfer.kernel.audit.postgres_seal_sql).
_POSTGRES_SEAL_SQL = audit.postgres_seal_sql()


async def seal_audit_events(context: AppContext) -> int:
    """Chain every committed event not yet sealed; returns how many were sealed.

    On PostgreSQL each batch is one self-contained statement on a driver connection: no session
    and no unit of work, whose setup alone is a large part of a tick's cost to the serving process.
    """
    driver = context.database.driver

    async def seal() -> int:
        if driver is not None:
            async with driver.connection() as connection:
                return int(await connection.fetchval(_POSTGRES_SEAL_SQL))
        return await context.transact(lambda unit: audit.seal_pending(unit.session), actor_id=None)

    return await in_batches(seal, audit.SEAL_BATCH_SIZE)


# Batches closed at once on PostgreSQL: a batch spends most of its time waiting for the database,
# so a second lane keeps another core busy (two beat one and three: BENCHMARKS.md, session 4).
# SQLite has one writer: one lane.
CLOSE_LANES = 2


async def close_due_auctions(context: AppContext) -> None:
    """Close every auction past its end, in batches; each batch is one transaction.

    Lanes claim their batches with FOR UPDATE SKIP LOCKED (closing.close_due), so two never take
    the same auction, as with closers on several nodes. They meet only on the account rows of the
    ledger at commit, which every transaction updates in account order.
    """
    policy = context.auction_policy
    batch_size = context.settings.auction_close_batch_size

    async def batch() -> int:
        try:
            return await context.transact(
                lambda unit: closing.close_due(unit, policy, batch_size), actor_id=None
            )
        except Exception as error:
            if not close_isolation.is_lot_failure(error):
                raise
            # One lot of the batch cannot close: close the rest now, set that one aside.
            log.warning("close batch failed; isolating the lot", error=close_isolation.describe(error))
            ids = await context.transact(
                lambda unit: close_isolation.due_ids(unit, batch_size), actor_id=None
            )
            return _report(await close_isolation.close_isolating(_transact(context), ids, policy))

    async def lane() -> None:
        await in_batches(batch, batch_size, "auctions closed")

    await asyncio.gather(*(lane() for _ in range(1 if context.database.is_sqlite else CLOSE_LANES)))


def _transact(context: AppContext) -> close_isolation.Transact[int]:
    return lambda work: context.transact(work, actor_id=None)


def _report(result: close_isolation.IsolatedClose) -> int:
    """Log each lot set aside with its reason; returns how many lots the batch dealt with."""
    for auction_id, reason in result.set_aside:
        log.error("auction set aside: its close failed", auction_id=auction_id, reason=reason)
    return result.handled


async def retry_set_aside_auctions(context: AppContext) -> None:
    """Try again the set-aside lots whose retry time has come, each in its own transaction."""
    policy = context.auction_policy

    async def batch() -> int:
        ids = await context.transact(close_isolation.retry_ids, actor_id=None)
        closed = 0
        for auction_id in ids:
            once = await close_isolation.close_isolating(_transact(context), [auction_id], policy)
            closed += once.closed
            _report(once)
        if closed:
            log.info("set-aside auctions closed on retry", count=closed)
        return len(ids)

    await in_batches(batch, close_isolation.RETRY_BATCH_SIZE)


async def run_due_work(context: AppContext) -> None:
    """Close due auctions, retry set-aside ones, default overdue winners and allocate due
    subscription books, each only when one probe statement finds it has something to do.

    The serving process runs the scheduler between requests: a unit of work costs it CPU even when
    it finds nothing, and several of them every second showed up in the bids' p99 (BENCHMARKS.md,
    session 4). The probe is one plain read (on PostgreSQL on a driver connection); each job still
    claims its rows itself, so a stale probe only delays a job by one tick or runs it for nothing.
    """
    now = context.clock()
    driver = context.database.driver
    if driver is not None:
        async with driver.connection() as connection:
            row = await connection.fetchrow(_PROBE_ON_DRIVER.sql, *_PROBE_ON_DRIVER.arguments({"now": now}))
    else:
        async with context.database.read_engine.connect() as connection:
            row = (await connection.execute(_PROBE, {"now": now})).one()
    (
        auctions_due,
        payments_overdue,
        books_due,
        retries_due,
        cases_due,
        offers_due,
        offers_orphaned,
        opening_bids_due,
        opening_bids_decided,
        commitments_due,
    ) = (first is not None for first in row)
    if auctions_due:
        await close_due_auctions(context)
    if retries_due:
        await retry_set_aside_auctions(context)
    if payments_overdue:
        await default_overdue_winners(context)
    if books_due:
        await close_due_subscription_books(context)
    if cases_due:
        await advance_due_disposals(context)
    if opening_bids_due:
        await stand_opening_bids(context)
    if opening_bids_decided:
        await resolve_opening_bids(context)
    if offers_due:
        await expire_due_offers(context)
    if offers_orphaned:
        await void_offers_of_ended_cases(context)
    if commitments_due:
        await in_batches(
            lambda: context.transact(commitments.expire_due, actor_id=None),
            commitments.EXPIRY_BATCH_SIZE,
            "buyout commitments expired",
        )


async def stand_opening_bids(context: AppContext) -> None:
    """Stalking-horse offers whose round started stand in it as proxy maxima, each in its own
    transaction; one whose agency cannot be registered ends with its reason, never blocking others."""
    policy = context.disposal_policy
    ids = await context.transact(
        lambda unit: stalking_horse.due_ids(unit, stalking_horse.to_stand(unit.now)), actor_id=None
    )
    for offer_id in ids:
        try:
            await context.transact(bind(stalking_horse.stand, offer_id, policy), actor_id=None)
        except DomainError as error:
            why = f"{error.code}: {error}"[:200]
            log.warning("stalking-horse offer could not stand", offer_id=offer_id, reason=why)
            await context.transact(
                bind(stalking_horse.refuse_to_stand, offer_id, why),
                actor_id=None,
            )


async def resolve_opening_bids(context: AppContext) -> None:
    """Stalking-horse offers whose round's outcome is known pay (won) or are released (lost)."""
    policy = context.disposal_policy
    ids = await context.transact(
        lambda unit: stalking_horse.due_ids(unit, stalking_horse.to_resolve()), actor_id=None
    )
    for offer_id in ids:
        await context.transact(bind(stalking_horse.resolve, offer_id, policy), actor_id=None)


async def expire_due_offers(context: AppContext) -> None:
    """Buyout offers past valid_until expire and their holds are released, in batches."""
    await in_batches(
        lambda: context.transact(offers.expire_due, actor_id=None),
        offers.EXPIRY_BATCH_SIZE,
        "buyout offers expired",
    )


async def void_offers_of_ended_cases(context: AppContext) -> None:
    """Live offers on cases that ended otherwise (sold at auction, released, cured) are voided."""
    await in_batches(
        lambda: context.transact(buyout.void_offers_of_ended_cases, actor_id=None),
        buyout.SWEEP_BATCH_SIZE,
        "buyout offers voided: their cases ended",
    )


async def advance_due_disposals(context: AppContext) -> int:
    """Paid cases are split, a batch per transaction; then cases past their deadline move on, each
    in its own transaction. Returns the number of cases that moved on."""
    await settle_paid_disposals(context)
    policy = context.disposal_policy
    ids = await context.transact(steps.due_case_ids, actor_id=None)
    return await _case_by_case(
        context, ids, lambda unit, case_id: steps.advance_case(unit, case_id, policy), "could not move on"
    )


async def settle_paid_disposals(context: AppContext) -> int:
    """Split the proceeds of paid cases a batch per transaction. A batch that fails is split again
    case by case, so one case that cannot be split (its reason on record, retried later) never
    holds up the others."""
    policy = context.disposal_policy
    batch_size = context.settings.disposal_settle_batch_size

    async def batch() -> int:
        try:
            return await context.transact(
                lambda unit: proceeds.settle_paid(unit, policy, batch_size), actor_id=None
            )
        except Exception as error:
            log.error("a batch of paid disposal cases could not be split", reason=_reason(error))
        ids = await context.transact(lambda unit: proceeds.settling_case_ids(unit, batch_size), actor_id=None)
        await _case_by_case(
            context,
            ids,
            lambda unit, case_id: proceeds.settle_paid(unit, policy, case_id=case_id),
            "could not be split",
        )
        return len(ids)

    return await in_batches(batch, batch_size, "paid disposal cases split")


def _reason(error: Exception) -> str:
    return f"{getattr(error, 'code', type(error).__name__)}: {error}"[:500]


async def _case_by_case(
    context: AppContext, ids: list[int], work: Callable[[UnitOfWork, int], Awaitable[object]], failed: str
) -> int:
    """`work` on each case in its own transaction; one that fails is postponed with its reason on
    record and never blocks another. Returns how many did something."""
    done = 0
    for case_id in ids:
        try:
            if await context.transact(bind(work, case_id), actor_id=None):
                done += 1
        except Exception as error:
            why = _reason(error)
            log.error(f"disposal case {failed}", disposal_id=case_id, reason=why)
            await context.transact(
                bind(steps.postpone, case_id, why, DISPOSAL_RETRY_S),
                actor_id=None,
            )
    return done


async def default_overdue_winners(context: AppContext) -> None:
    policy = context.auction_policy
    await in_batches(
        lambda: context.transact(lambda unit: payment.default_overdue(unit, policy), actor_id=None),
        closing.CLOSE_BATCH_SIZE,
        "winners defaulted",
    )


async def close_due_subscription_books(context: AppContext) -> None:
    policy = context.market_policy
    await in_batches(
        lambda: context.transact(lambda unit: listings.close_due_subscriptions(unit, policy), actor_id=None),
        listings.CLOSE_BATCH_SIZE,
        "subscription books allocated",
    )


async def fail_overdue_trades(context: AppContext) -> None:
    await in_batches(
        lambda: context.transact(settlement.fail_overdue_trades, actor_id=None),
        settlement.FAIL_BATCH_SIZE,
        "trades failed past their settlement date",
    )


async def run_annuities(context: AppContext) -> daily_run.RunResult:
    """The day's annuity run (transfer/annuities/daily_run.py), one transaction per batch of
    loans, then the escrow alerts; idempotent, so it runs every IPX_ANNUITY_RUN_INTERVAL_S."""
    today = shanghai_trade_date(context.clock())
    policy = context.annuity_policy
    total = daily_run.RunResult()
    after = 0
    while True:
        async with context.database.read() as session:
            bound = await daily_run.next_loan_bound(
                session, today, after, context.settings.annuity_run_batch_loans
            )
        if bound is None:
            break
        total.add(await context.transact(bind(daily_run.run_batch, today, after, bound), actor_id=None))
        after = bound
    total.alerts += await context.transact(
        lambda unit: coverage_alerts.alert_short_escrows(unit, today, policy), actor_id=None
    )
    if total.paid or total.entered_grace or total.lapsed or total.alerts:
        log.info(
            "annuity run",
            day=today.isoformat(),
            paid=total.paid,
            paid_fen=total.paid_fen,
            entered_grace=total.entered_grace,
            lapsed=len(total.lapsed),
            alerts=total.alerts,
        )
    return total


def periodic_jobs(context: AppContext) -> list[PeriodicJob]:
    tick_s = context.settings.scheduler_tick_s
    return [
        PeriodicJob("run_due_work", run_due_work, tick_s),
        PeriodicJob("seal_audit_events", seal_audit_events, context.settings.audit_seal_interval_s),
        PeriodicJob("fail_overdue_trades", fail_overdue_trades, 60.0),
        PeriodicJob("purge_idempotency_records", purge_idempotency_records, 3600.0),
        PeriodicJob("run_annuities", run_annuities, context.settings.annuity_run_interval_s),
    ]


def start_scheduler(context: AppContext, jobs: list[PeriodicJob]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:

        async def run(job: PeriodicJob = job) -> None:
            try:
                await job.run(context)
            except Exception:  # one failed tick must not stop the next one
                log.exception("scheduled job failed", job=job.name)

        # max_instances=1 and coalesce: a slow tick is never overlapped by the next one.
        scheduler.add_job(
            run,
            "interval",
            seconds=job.every_s,
            id=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    return scheduler
