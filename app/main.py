"""The Litestar application factory and its start-up sequence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Litestar
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from app import migrate
from app.bidding.fast_path import BidFastPath
from app.context import AppContext
from app.db import Database, create_database
from app.demo.bidders import DemoBidders, DemoBiddersLifespan
from app.http.annuities.controller import AlertController, AnnuityController
from app.http.approvals.controller import ApprovalController
from app.http.auctions.controller import AuctionController
from app.http.auth import PUBLIC_PATHS, ApiKeyAuthentication
from app.http.bounds_middleware import InputBoundsMiddleware
from app.http.buyouts.controller import BuyoutOfferController, CommitmentController
from app.http.clearing.controller import ClearingController
from app.http.collateral.controller import CollateralStatusController
from app.http.compensation.controller import CompensationFundController, LoanCompensationController
from app.http.disposals.controller import DefaultController, DisposalController
from app.http.json_request import BoundedJsonRequest
from app.http.licenses.controller import LicenseController
from app.http.loans.controller import LoanController
from app.http.market.controller import ListingController, OfferController, TradeController
from app.http.market.fee_policy import FeePolicyController
from app.http.openapi_bounds import ClosedStructSchemaPlugin
from app.http.openapi_problems import document_refusals
from app.http.participants.controller import ParticipantController
from app.http.participants.keys import KeyController
from app.http.pools.controller import PoolController
from app.http.problems import exception_handlers
from app.http.public_reads import API_KEY_REQUIRED, SECURITY_COMPONENTS
from app.http.request_id import RequestIdMiddleware
from app.http.servicing.controller import ServicingController
from app.http.sessions.controller import SessionController
from app.http.system.audit import AuditController
from app.http.system.controller import SystemController
from app.live.feed import FeedSettings, LiveFeeds
from app.live.relay import PostgresRelay
from app.live.stream import create_channels, publisher
from app.pages.session_store import DatabaseSessionStore
from app.pages.wiring import browser_aware_handlers, page_wiring
from app.scheduler import periodic_jobs, start_scheduler
from app.settings import Settings
from app.working_calendar import warn_uncovered_years
from transfer.bootstrap import bootstrap
from transfer.kernel.clock import Clock, system_clock
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import participants
from transfer.rules.fee_waiver import shanghai_trade_date

log = structlog.get_logger("ipx.app")
BINDING_STATE = "binding"


@dataclass
class Binding:
    """The context an app serves with: what rebind swaps."""

    context: AppContext
    owns_database: bool
    publish: Any
    settings: Settings  # as built (a context's own may be replaced while it serves)
    live_feeds: Callable[[Clock], LiveFeeds]


ROUTE_HANDLERS: list[Any] = [
    SystemController,
    ParticipantController,
    KeyController,
    LoanController,
    AnnuityController,
    AlertController,
    CollateralStatusController,
    ServicingController,
    ListingController,
    OfferController,
    TradeController,
    AuctionController,
    ClearingController,
    DefaultController,
    DisposalController,
    SessionController,
    CompensationFundController,
    ApprovalController,
    LoanCompensationController,
    PoolController,
    BuyoutOfferController,
    CommitmentController,
    LicenseController,
    FeePolicyController,
    AuditController,
]


async def prepare_database(context: AppContext) -> None:
    """Schema and bootstrap rows: SQLite migrates itself; PostgreSQL must already be current."""
    if context.database.is_sqlite:
        if await migrate.current_revision(context.database) != migrate.head_revision(context.database.url):
            await asyncio.to_thread(migrate.upgrade, context.settings.database_url)
    else:
        await migrate.require_current_schema(context.database)

    async def setup(unit: UnitOfWork) -> None:
        await bootstrap(unit.session)
        if context.settings.admin_api_key:
            await participants.ensure_admin(unit, context.settings.admin_api_key)

    await context.transact(setup, actor_id=None)


async def prepare_service(context: AppContext) -> None:
    """Everything before the first request: schema, bootstrap rows, the demo market if asked;
    a warning for each year ahead the working calendar does not know."""
    warn_uncovered_years(
        context.calendar, shanghai_trade_date(context.clock()), context.settings.calendar_warn_years_ahead
    )
    await prepare_database(context)
    if context.settings.demo:
        from app.demo import seed_demo_market
        from app.demo.console import RichProgress, print_summary

        print_summary(await seed_demo_market(context, RichProgress()), context.settings)


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock = system_clock,
    run_scheduler: bool | None = None,
    prepared: bool = False,
) -> Litestar:
    """prepared: the schema, bootstrap rows and demo market were set up by the parent process
    (several workers), so this process only serves."""
    channels = create_channels()
    relay = PostgresRelay(settings.database_url, channels) if settings.relays_live_events else None
    publish = None if relay is not None else publisher(channels)
    context = AppContext(
        settings,
        database or create_database(settings.database_url, driver_pool_size=settings.driver_pool_size),
        clock,
        publish,
        relay=relay,
    )

    def live_feeds(clock: Clock) -> LiveFeeds:
        return LiveFeeds(
            channels,
            FeedSettings(
                backlog=settings.live_watcher_backlog,
                flush_interval_s=settings.live_flush_interval_ms / 1000,
                heartbeat_s=settings.live_heartbeat_s,
                direct_writes=settings.live_direct_writes,
                flush_slice=settings.live_flush_slice,
            ),
            clock,
        )

    context.live_feeds = live_feeds(clock)
    binding = Binding(
        context, owns_database=database is None, publish=publish, settings=settings, live_feeds=live_feeds
    )
    scheduler_on = settings.scheduler_enabled if run_scheduler is None else run_scheduler

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        context = binding.context
        if not prepared:
            await prepare_service(context)
        await pages.start(context)
        if relay is not None:
            await relay.start()
        # Every process runs the jobs: each is safe on any number of nodes (app/scheduler.py).
        scheduler = start_scheduler(context, periodic_jobs(context)) if scheduler_on else None
        log.info("service started", database=context.database.write_engine.dialect.name)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if context.live_feeds is not None:
                await context.live_feeds.close_all()
            if relay is not None:
                await relay.stop()
            if binding.owns_database:
                await context.database.dispose()

    def provide_context() -> AppContext:
        return binding.context

    pages = page_wiring(DatabaseSessionStore(lambda: binding.context))
    # The demo's simulated bidders run in a single-process service only: several workers would each
    # run their own (the demo is for one process).
    demo_live = settings.demo and not settings.demo_quiet and not prepared
    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, *pages.route_handlers],
        dependencies={"ctx": Provide(provide_context, sync_to_thread=False)},
        middleware=[
            DefineMiddleware(
                ApiKeyAuthentication, exclude=[*(f"^{p}" for p in PUBLIC_PATHS), *pages.open_paths]
            ),
            InputBoundsMiddleware,
        ],
        request_class=BoundedJsonRequest,
        request_max_body_size=settings.max_body_bytes,
        plugins=[
            channels,
            ClosedStructSchemaPlugin(),
            *([DemoBiddersLifespan(DemoBidders(context))] if demo_live else []),
        ],
        template_config=pages.template_config,
        stores=pages.stores,
        exception_handlers=browser_aware_handlers(exception_handlers),
        lifespan=[lifespan],
        state={"ctx": context, BINDING_STATE: binding},  # type: ignore[arg-type]
        # Every operation needs a key but those whose handler adds ANONYMOUS_READ (public_reads.py).
        security=API_KEY_REQUIRED,
        openapi_config=OpenAPIConfig(
            title="IP-loan secondary market and disposal engine",
            version="0.1.0",
            components=SECURITY_COMPONENTS,
        ),
        logging_config=None,  # structlog (app/logging_setup.py) owns logging
        debug=False,
    )
    document_refusals(app)
    return app


def create_asgi_app(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock = system_clock,
    run_scheduler: bool | None = None,
    prepared: bool = False,
) -> RequestIdMiddleware:
    """The app as served: request ids wrap everything, so even a 401 or 404 carries one; then the
    raw ASGI bid path (app/bidding/fast_path.py), which passes all it does not serve to Litestar."""
    app = create_app(settings, database=database, clock=clock, run_scheduler=run_scheduler, prepared=prepared)
    return RequestIdMiddleware(BidFastPath(app, app.state["ctx"]))


def rebind(asgi_app: RequestIdMiddleware, *, database: Database, clock: Clock) -> AppContext:
    """The same app, built once, serving a fresh context (its own caches, batches and key cache)
    on `database` and `clock` from its next start. Building the routes is most of what creating
    an app costs, and the tests start one per test. Not for an app with several workers' relay or
    the demo's bidders, which hold their context themselves."""
    app = litestar_app(asgi_app)
    binding: Binding = app.state[BINDING_STATE]
    settings = binding.settings
    if settings.relays_live_events or settings.demo:
        raise ValueError("rebind serves apps without the live relay or the demo market")
    context = AppContext(settings, database, clock, binding.publish)
    context.live_feeds = binding.live_feeds(clock)
    binding.context = context
    binding.owns_database = False
    app.state["ctx"] = context
    fast_path = asgi_app.app
    if isinstance(fast_path, BidFastPath):
        fast_path.context = context
    return context


def litestar_app(asgi_app: RequestIdMiddleware) -> Litestar:
    """The Litestar application inside create_asgi_app's layers."""
    inner = asgi_app.app
    return inner.app if isinstance(inner, BidFastPath) else inner


def create_worker_app() -> RequestIdMiddleware:
    """uvicorn's factory in each worker process of `python -m app serve` with IPX_WORKERS > 1.

    Settings come from the environment the parent passed on; the parent already prepared the
    database, so workers never race each other to bootstrap it.
    """
    from app.gc_tuning import tune_for_serving
    from app.logging_setup import configure_logging
    from app.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level)
    asgi_app = create_asgi_app(settings, prepared=True)
    tune_for_serving()
    return asgi_app
