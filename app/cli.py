"""Command line: serve, migrate, participants, audit.

python -m app serve [--demo [--demo-quiet]]   migrate (SQLite) and run API + scheduler
python -m app migrate                           upgrade the schema to head
python -m app participants create --name N --roles bank,bidder
python -m app participants list
python -m app audit verify
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from app import migrate
from app.context import AppContext
from app.db import create_database
from app.settings import Settings, SettingsError, load_settings
from transfer.bootstrap import bootstrap
from transfer.kernel.audit import verify_chain
from transfer.kernel.clock import system_clock
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import keys, participants


def _with_context(settings: Settings, action: Callable[[AppContext], Awaitable[int]]) -> int:
    async def run() -> int:
        database = create_database(settings.database_url)
        try:
            context = AppContext(settings, database, system_clock)
            if database.is_sqlite:
                await asyncio.to_thread(migrate.upgrade, settings.database_url)
            else:
                await migrate.require_current_schema(database)
            return await action(context)
        finally:
            await database.dispose()

    return asyncio.run(run())


# Logging is structlog's (app/logging_setup.py). No proxy-header rewriting: nothing here reads the
# client's address, and the layer cost about 4 % of a bid's server CPU (BENCHMARKS.md, session 5).
UVICORN_OPTIONS: dict[str, Any] = {"log_config": None, "access_log": False, "proxy_headers": False}


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.gc_tuning import tune_for_serving
    from app.listen_socket import listening_socket
    from app.logging_setup import configure_logging
    from app.main import create_asgi_app

    if args.demo or args.demo_quiet:
        settings = load_settings(demo=True, demo_quiet=args.demo_quiet or settings.demo_quiet)
    if args.workers is not None:
        settings = load_settings(demo=settings.demo, demo_quiet=settings.demo_quiet, workers=args.workers)
    configure_logging(settings.log_level)
    where = f"http://{settings.host}:{settings.port} (database {settings.database_url})"
    if settings.workers == 1:
        if not settings.is_sqlite:
            _with_context(settings, lambda _context: asyncio.sleep(0, 0))  # refuses a schema that is behind
        print(f"ipx: serving on {where}", flush=True)
        asgi_app = create_asgi_app(settings)
        tune_for_serving()
        if settings.socket_send_buffer_bytes:
            sock = listening_socket(settings.host, settings.port, settings.socket_send_buffer_bytes)
            uvicorn.Server(uvicorn.Config(asgi_app, **UVICORN_OPTIONS)).run(sockets=[sock])
        else:
            uvicorn.run(asgi_app, host=settings.host, port=settings.port, **UVICORN_OPTIONS)
        return 0
    # Several processes: prepare the database once here (refusing a schema that is behind), then
    # each worker only serves.
    _with_context(settings, lambda context: _prepare(context))
    os.environ["IPX_WORKERS"] = str(settings.workers)
    os.environ["IPX_DEMO"] = "true" if settings.demo else "false"
    os.environ["IPX_DEMO_QUIET"] = "true" if settings.demo_quiet else "false"
    print(f"ipx: serving on {where} with {settings.workers} worker processes", flush=True)
    if settings.socket_send_buffer_bytes:
        from uvicorn.supervisors import Multiprocess

        sock = listening_socket(settings.host, settings.port, settings.socket_send_buffer_bytes)
        config = uvicorn.Config(
            "app.main:create_worker_app", factory=True, workers=settings.workers, **UVICORN_OPTIONS
        )
        Multiprocess(config, sockets=[sock]).run()
        return 0
    uvicorn.run(
        "app.main:create_worker_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        **UVICORN_OPTIONS,
    )
    return 0


async def _prepare(context: AppContext) -> int:
    from app.main import prepare_service

    await prepare_service(context)
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    print(f"ipx: schema at {migrate.head_revision(settings.database_url)} on {settings.database_url}")
    return 0


def cmd_participants_create(settings: Settings, args: argparse.Namespace) -> int:
    async def action(context: AppContext) -> int:
        async def work(unit: UnitOfWork) -> participants.CreatedParticipant:
            await bootstrap(unit.session)
            return await participants.create_participant(
                unit,
                name=args.name,
                roles=[r for r in args.roles.split(",") if r],
                credit_code=args.credit_code,
                qualified_investor=args.qualified_investor,
            )

        created = await context.transact(work, actor_id=None)
        print(
            f"participant {created.participant.id} {created.participant.name!r} roles={created.participant.roles}"
        )
        print(f"api key (shown once, store it now): {created.api_key}")
        return 0

    return _with_context(settings, action)


def cmd_participants_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def action(context: AppContext) -> int:
        async with context.database.read() as session:
            rows, total = await participants.list_participants(session, limit=1000, offset=0)
            prefixes = await keys.first_key_prefixes(session, [p.id for p in rows])
        print(f"{'id':>5}  {'roles':<24} {'key':<12} name")
        for p in rows:
            print(f"{p.id:>5}  {p.roles:<24} {prefixes.get(p.id, '-'):<12} {p.name}")
        print(f"{total} participant(s)")
        return 0

    return _with_context(settings, action)


def cmd_audit_verify(settings: Settings, _args: argparse.Namespace) -> int:
    async def action(context: AppContext) -> int:
        from app.scheduler import seal_audit_events

        sealed = await seal_audit_events(context)
        if sealed:
            print(f"sealed {sealed} event(s) committed since the last scheduler tick")
        async with context.database.read() as session:
            report = await verify_chain(session)
        if report.ok:
            print(f"audit chain ok: {report.events_checked} events verified")
            if report.pending_events:
                print(
                    f"{report.pending_events} committed event(s) wait to be chained behind a transaction"
                    " that started before them and is still running"
                )
            return 0
        print(
            f"audit chain BROKEN at event {report.first_broken_seq}: {report.reason}"
            f" ({report.events_checked} events verified before it)"
        )
        return 1

    return _with_context(settings, action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="IP-loan market and disposal engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate if SQLite, then run the API and the scheduler")
    serve.add_argument(
        "--demo", action="store_true", help="seed a demo market (its URLs and demo logins are printed)"
    )
    serve.add_argument(
        "--demo-quiet",
        action="store_true",
        help="with --demo (implied): no simulated bidders, the demo market stays as seeded",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes (PostgreSQL only; default IPX_WORKERS or 1)",
    )
    serve.set_defaults(handler=cmd_serve)
    commands.add_parser("migrate", help="upgrade the schema to the newest revision").set_defaults(
        handler=cmd_migrate
    )
    people = commands.add_parser("participants", help="manage participants").add_subparsers(
        dest="action", required=True
    )
    create = people.add_parser("create", help="create a participant and print its API key")
    create.add_argument("--name", required=True)
    create.add_argument("--roles", required=True, help="comma-separated: admin,bank,bidder,agency,clearing")
    create.add_argument("--credit-code", default=None, help="18-character unified social credit code")
    create.add_argument("--qualified-investor", action="store_true")
    create.set_defaults(handler=cmd_participants_create)
    people.add_parser("list", help="list participants").set_defaults(handler=cmd_participants_list)
    audit = commands.add_parser("audit", help="audit chain").add_subparsers(dest="action", required=True)
    audit.add_parser("verify", help="re-hash the chain, report the first broken link").set_defaults(
        handler=cmd_audit_verify
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"ipx: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        handler: Any = args.handler
        return int(handler(settings, args))
    except SettingsError as error:  # a command-line option that contradicts the settings
        print(f"ipx: configuration error: {error}", file=sys.stderr)
        return 2
    except migrate.SchemaBehind as error:
        print(f"ipx: {error}", file=sys.stderr)
        return 3
    except Exception as error:
        from transfer.kernel.errors import DomainError

        if isinstance(error, DomainError):
            print(f"ipx: refused: {error.message}", file=sys.stderr)
            return 2
        raise
