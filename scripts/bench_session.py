"""scripts/bench session: a centralized session of staggered disposal lots under a flow of bids.

Workload (PostgreSQL, one server process with its scheduler, as deployed):
* N session lots (default 5,000; --quick 1,000), each the round 1 of one defaulted loan's case
  (the loan held by its creditor and two income-right holders), ending 0.2 s apart; and, as the
  baseline in the same run, N plain bank lots (no origin) ending in between (0.1 s after each);
* bids at 500/s (wrk, paced) spread over the 50 lots ending next, both kinds alike; soft close is
  off for the run (bids flow until the last moment, and would otherwise push every end 5 minutes
  out, so no lot would end on its schedule);
* (1) close lag = the close's server time − the lot's end, p50 / p99 / max, session lots against
  the plain lots; target p99 ≤ 1 s;
* (2) every sold session lot's winner pays (the price into escrow, the case `settling`), N of
  them at 8 at a time, timed; the same number of payments of plain lots (the seller paid the whole
  price) is the baseline;
* (3) the paid cases are settled: each split over its claim among the 3 holders, paid from escrow
  and its collateral delivered, by the scheduler's own job (batches of SETTLE_BATCH_SIZE), timed;
  the baseline, in the same run, is a tenth of them split one case per transaction (the path a
  payment's own split took); target ≤ 10 s for 5,000.
Setup (loans, cases, the session, registrations) runs in-process through the services, untimed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_auction import (  # noqa: E402
    WRK,
    BenchDatabase,
    BenchError,
    Config,
    Server,
    free_port,
    log,
    migrate,
    service_env,
)
from service_seeding import in_batches, seed_context  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402

from app.context import AppContext  # noqa: E402
from app.db import create_database  # noqa: E402
from app.scheduler import settle_paid_disposals  # noqa: E402
from auction.creation import AuctionSpec, create_auction  # noqa: E402
from auction.disposal import proceeds  # noqa: E402
from auction.disposal.cases import DefaultSpec, open_case  # noqa: E402
from auction.disposal.sessions import LotSpec, SessionSpec, create_session  # noqa: E402
from auction.models import Auction  # noqa: E402
from auction.payment import pay  # noqa: E402
from auction.registration import register  # noqa: E402
from transfer import ledger  # noqa: E402
from transfer.bootstrap import bootstrap  # noqa: E402
from transfer.kernel.unit_of_work import UnitOfWork, bind  # noqa: E402
from transfer.models.loans import IncomeRight  # noqa: E402
from transfer.registry.loans import CollateralSpec, LoanSpec, register_loan  # noqa: E402
from transfer.registry.participants import create_participant  # noqa: E402
from transfer.registry.patent_facts import PatentFacts  # noqa: E402

ADMIN_KEY = "ipx_bench_session_admin_key_0000000"
STAGGER_S = 0.2
APPRAISAL_FEN = 1_000_000  # 10,000.00: round 1 starts at 7,000.00
DEPOSIT_FEN = 35_000  # 5 % of the start
BID_RATE = 500
NEXT_LOTS = 50
PAY_CONCURRENCY = 8
FIRST_END_IN_S = 20

LUA = r"""
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_usec; } ipx_bench_timeval;
int gettimeofday(ipx_bench_timeval *tv, void *tz);
]])
local tv = ffi.new("ipx_bench_timeval")
local FIRST_END_US = %(first_end_us)d
local SLOT_US = %(slot_us)d
local START_FEN = %(start_fen)d
local NEXT = %(next)d
local KEYS = {%(keys)s}
local AUCTIONS = {%(auctions)s}
local RATE = %(rate)f
local function now_us() ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec) end
function init(args)
  counter = 0
  next_slot = now_us()
  interval_us = 1000000 / RATE
  n201, n409, n5xx, nother = 0, 0, 0, 0
end
function delay()
  next_slot = next_slot + interval_us
  local wait = (next_slot - now_us()) / 1000
  if wait < 0 then
    if wait < -1000 then next_slot = now_us() end
    return 0
  end
  return wait
end
function request()
  counter = counter + 1
  local first = math.floor((now_us() - FIRST_END_US) / SLOT_US) + 2
  if first < 1 then first = 1 end
  local i = first + (counter %% NEXT)
  if i > #AUCTIONS then i = #AUCTIONS end
  local amount = START_FEN + math.floor((now_us() - FIRST_END_US + 600000000) / 1000)
  local body = string.format('{"amount":"%%d.%%02d"}', math.floor(amount / 100), amount %% 100)
  return wrk.format("POST", "/api/v1/auctions/" .. AUCTIONS[i] .. "/bids",
    {["Authorization"] = "Bearer " .. KEYS[counter %% #KEYS + 1], ["Content-Type"] = "application/json"}, body)
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status == 201 then n201 = n201 + 1 elseif status == 409 then n409 = n409 + 1
  elseif status >= 500 then n5xx = n5xx + 1 else nother = nother + 1 end
end
function done(summary, latency, requests)
  local c = {n201 = 0, n409 = 0, n5xx = 0, nother = 0}
  for _, t in ipairs(threads) do for name, _ in pairs(c) do c[name] = c[name] + (t:get(name) or 0) end end
  io.write(string.format('BENCH_JSON {"requests":%%d,"n201":%%d,"n409":%%d,"n5xx":%%d,"nother":%%d,"p99_us":%%d}\n',
    summary.requests, c.n201, c.n409, c.n5xx, c.nother, latency:percentile(99)))
end
"""


@dataclass
class Seeded:
    bidder_ids: list[int]
    bidder_keys: list[str]
    session_auctions: list[int]
    plain_auctions: list[int]
    first_end: datetime


@dataclass
class DefaultedBook:
    """Defaulted loans of one creditor, each shared with two income-right holders, each with its
    open disposal case; and bidders with ample funds."""

    bank_id: int
    holder_ids: tuple[int, int]
    bidders: list[tuple[int, str]]
    case_ids: list[int]


def _context(url: str) -> AppContext:
    return seed_context(url, ADMIN_KEY)


def _loan_spec(i: int) -> LoanSpec:
    return LoanSpec(
        borrower_name=f"Borrower {i}",
        borrower_credit_code="914403001922038216",
        principal_fen=1_000_000,
        outstanding_principal_fen=1_000_000,
        rate_bps=385,
        originated_on=date(2025, 1, 10),
        matures_on=date(2028, 1, 10),
        status="non_performing",
        collateral=[
            CollateralSpec(
                "invention_patent",
                f"ZL2021{i:08d}.X",
                f"Patent {i}",
                f"Borrower {i}",
                APPRAISAL_FEN,
                date(2025, 1, 5),
                patent=PatentFacts(filed_on=date(2021, 1, 5)),
            )
        ],
    )


async def seed_defaulted_book(ctx: AppContext, lots: int, bidders: int = 2) -> DefaultedBook:
    """`lots` defaulted loans with their cases, through the services."""

    async def people(unit: UnitOfWork) -> tuple[int, int, int, list[tuple[int, str]]]:
        bank = await create_participant(unit, name="Creditor Bank", roles=["bank"])
        h1 = await create_participant(unit, name="Holder One", roles=["bank"])
        h2 = await create_participant(unit, name="Holder Two", roles=["bank"])
        made_bidders = []
        for i in range(bidders):
            made = await create_participant(unit, name=f"Bidder {i}", roles=["bidder"])
            await ledger.record_funds(unit, made.participant.id, 10**13, f"bench-funds-{i}")
            made_bidders.append((made.participant.id, made.api_key))
        return bank.participant.id, h1.participant.id, h2.participant.id, made_bidders

    await ctx.transact(lambda unit: bootstrap(unit.session), actor_id=None)
    bank_id, h1, h2, made_bidders = await ctx.transact(people, actor_id=None)

    async def one_loan(unit: UnitOfWork, i: int) -> int:
        view = await register_loan(unit, bank_id, _loan_spec(i))
        loan_id = view.loan.id
        await unit.session.execute(
            update(IncomeRight).where(IncomeRight.loan_id == loan_id).values(share_ppm=800_000)
        )
        unit.session.add_all(
            [
                IncomeRight(loan_id=loan_id, holder_id=h1, share_ppm=100_000),
                IncomeRight(loan_id=loan_id, holder_id=h2, share_ppm=100_000),
            ]
        )
        case = await open_case(unit, loan_id, bank_id, DefaultSpec("bench", 10_000), False)
        return case.id

    started = time.monotonic()
    case_ids = await in_batches(ctx, list(range(lots)), one_loan)
    log(f"seeded {lots} loans with 3 holders each, defaulted, in {time.monotonic() - started:.0f} s")
    return DefaultedBook(bank_id, (h1, h2), made_bidders, case_ids)


async def create_session_lots(
    ctx: AppContext, book: DefaultedBook, starts_at: datetime, first_end: datetime
) -> list[int]:
    """One centralized session with a round-1 lot per case, all ending at `first_end`; its lots'
    auction ids in the session's order."""
    policy = ctx.disposal_policy

    async def session_work(unit: UnitOfWork) -> list[int]:
        spec = SessionSpec(
            title="bench session",
            starts_at=starts_at,
            first_lot_ends_at=first_end,
            stagger_s=0,
            lots=tuple(LotSpec((case_id,), 1, DEPOSIT_FEN) for case_id in book.case_ids),
        )
        session = await create_session(unit, book.bank_id, spec, policy, 0)
        rows = await unit.session.execute(
            text("SELECT auction_id FROM session_lots WHERE session_id = :s ORDER BY position"),
            {"s": session.id},
        )
        return [int(r[0]) for r in rows]

    started = time.monotonic()
    auction_ids = await ctx.transact(session_work, actor_id=None)
    log(f"session of {len(book.case_ids)} lots created in {time.monotonic() - started:.0f} s")
    return auction_ids


async def register_everyone(ctx: AppContext, auction_ids: list[int], bidder_ids: list[int]) -> None:
    """Every bidder on every lot, each with its deposit held."""
    policy = ctx.auction_policy

    async def enrol(unit: UnitOfWork, pair: tuple[int, int]) -> None:
        await register(unit, pair[0], pair[1], policy)

    started = time.monotonic()
    pairs = [(a, b) for a in auction_ids for b in bidder_ids]
    await in_batches(ctx, pairs, enrol)
    log(f"{len(pairs)} registrations with deposit holds in {time.monotonic() - started:.0f} s")


async def seed(url: str, lots: int) -> Seeded:
    ctx = _context(url)
    policy = ctx.disposal_policy
    book = await seed_defaulted_book(ctx, lots)
    now = datetime.now(UTC)
    # Provisional: restaggered once setup is over.
    first_end = now + timedelta(days=1)
    session_auctions = await create_session_lots(ctx, book, now + timedelta(seconds=5), first_end)

    async def plain(unit: UnitOfWork, i: int) -> int:
        end = first_end + timedelta(seconds=i * STAGGER_S + STAGGER_S / 2)
        spec = AuctionSpec("english", f"Plain lot {i}", 700_000, 1, DEPOSIT_FEN, unit.now, end)
        return (await create_auction(unit, book.bank_id, spec, policy.auction)).id

    plain_auctions = await in_batches(ctx, list(range(lots)), plain)
    await register_everyone(ctx, session_auctions + plain_auctions, [b for b, _ in book.bidders])
    # The ends, set now that setup is over: 0.2 s apart, which the API's whole-second stagger_s
    # cannot say, and a plain lot in between each two; soft close off (the module's docstring).
    first_end = datetime.now(UTC) + timedelta(seconds=FIRST_END_IN_S)

    async def restagger(unit: UnitOfWork) -> None:
        for i, (mine, plain_id) in enumerate(zip(session_auctions, plain_auctions, strict=True)):
            for auction_id, offset_s in ((mine, 0.0), (plain_id, STAGGER_S / 2)):
                end = first_end + timedelta(seconds=i * STAGGER_S + offset_s)
                await unit.session.execute(
                    update(Auction)
                    .where(Auction.id == auction_id)
                    .values(ends_at=end, scheduled_ends_at=end, extension_window_s=0, extension_s=0)
                )

    await ctx.transact(restagger, actor_id=None)
    await ctx.database.dispose()
    return Seeded(
        [b for b, _ in book.bidders],
        [k for _, k in book.bidders],
        session_auctions,
        plain_auctions,
        first_end,
    )


def run_bids(server: Server, seeded: Seeded, duration_s: float, workdir: Path) -> dict[str, int]:
    ordered = [a for pair in zip(seeded.session_auctions, seeded.plain_auctions, strict=True) for a in pair]
    script = workdir / "session_bids.lua"
    first_end_us = int(seeded.first_end.timestamp() * 1_000_000)
    script.write_text(
        LUA
        % {
            "first_end_us": first_end_us,
            "slot_us": int(STAGGER_S / 2 * 1_000_000),
            "start_fen": 700_000,
            "next": NEXT_LOTS,
            "keys": ",".join(f'"{k}"' for k in seeded.bidder_keys),
            "auctions": ",".join(str(a) for a in ordered),
            "rate": BID_RATE / 2,
        }
    )
    command = [
        WRK,
        "-t",
        "2",
        "-c",
        "8",
        "-d",
        f"{int(duration_s)}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        server.base,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 120)
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stdout}\n{done.stderr}")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise BenchError(f"wrk printed no summary: {done.stdout}")
    counts: dict[str, int] = json.loads(line[len("BENCH_JSON ") :])
    log(f"bids: {counts}")
    if counts["n5xx"] or counts["nother"]:
        raise BenchError(
            f"{counts['n5xx']} 5xx and {counts['nother']} unexpected answers: see {server.log_path}"
        )
    return counts


async def wait_closed(url: str, ids: list[int], limit_s: float = 120) -> None:
    database = create_database(url)
    try:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            async with database.read() as session:
                open_count = (
                    await session.execute(
                        select(func.count())
                        .select_from(Auction)
                        .where(Auction.id.in_(ids), Auction.closed_at.is_(None))
                    )
                ).scalar_one()
            if open_count == 0:
                return
            await asyncio.sleep(1)
        async with database.read() as session:
            states = (
                await session.execute(
                    select(Auction.state, func.count()).where(Auction.id.in_(ids)).group_by(Auction.state)
                )
            ).all()
            reasons = (await session.execute(text("SELECT reason FROM auction_close_failures LIMIT 3"))).all()
        raise BenchError(
            f"{open_count} lots still not closed {limit_s:.0f} s after the last end: {dict(states)}; {reasons}"
        )
    finally:
        await database.dispose()


async def close_lags(url: str, ids: list[int]) -> list[float]:
    database = create_database(url)
    try:
        async with database.read() as session:
            rows = await session.execute(
                select(Auction.closed_at, Auction.ends_at, Auction.state).where(Auction.id.in_(ids))
            )
            lags = []
            for closed_at, ends_at, state in rows.all():
                if closed_at is None:
                    raise BenchError(f"a lot was not closed (state {state})")
                lags.append((closed_at - ends_at).total_seconds())
            return lags
    finally:
        await database.dispose()


async def pay_all(url: str, ids: list[int]) -> tuple[int, float]:
    ctx = _context(url)
    policy = ctx.auction_policy
    async with ctx.database.read() as session:
        rows = await session.execute(
            select(Auction.id, Auction.winner_id).where(
                Auction.id.in_(ids), Auction.state == "awaiting_payment"
            )
        )
        due = [(a, w) for a, w in rows.all()]
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for item in due:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            auction_id, winner_id = queue.get_nowait()
            await ctx.transact(bind(pay, auction_id, winner_id, policy), actor_id=winner_id)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(PAY_CONCURRENCY)))
    elapsed = time.monotonic() - started
    await ctx.database.dispose()
    return len(due), elapsed


async def split_all(url: str, sample: int) -> tuple[int, float, int, float]:
    """The paid cases' waterfalls: the first `sample` one case per transaction (the baseline: the
    path a payment's own split took), then the rest as the scheduler splits them, in batches."""
    ctx = _context(url)
    policy = ctx.disposal_policy
    ids = await ctx.transact(lambda unit: proceeds.settling_case_ids(unit, sample), actor_id=None)
    started = time.monotonic()
    for case_id in ids:
        await ctx.transact(bind(proceeds.settle_paid, policy, case_id=case_id), actor_id=None)
    one_by_one_s = time.monotonic() - started
    started = time.monotonic()
    batched = await settle_paid_disposals(ctx)
    batched_s = time.monotonic() - started
    await ctx.database.dispose()
    return len(ids), one_by_one_s, batched, batched_s


async def check_books(url: str, lots: int) -> None:
    database = create_database(url)
    try:
        async with database.read() as session:
            total = await ledger.ledger_sum_fen(session)
            settled = (
                await session.execute(text("SELECT COUNT(*) FROM disposal_cases WHERE state = 'settled'"))
            ).scalar_one()
            lines = (
                await session.execute(text("SELECT COUNT(*) FROM disposal_waterfall_lines"))
            ).scalar_one()
        if total != 0:
            raise BenchError(f"the ledger sums to {total} fen")
        log(f"books: ledger sum 0; {settled} of {lots} cases settled, {lines} waterfall lines")
    finally:
        await database.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def bench_session(args: argparse.Namespace) -> int:
    lots = args.lots or (1_000 if args.quick else 5_000)
    config = Config(backend="postgresql", quick=args.quick, pg_admin_url=args.pg_url)
    database = BenchDatabase(config)
    url = await database.create()
    workdir = Path(tempfile.mkdtemp(prefix="ipx_bench_session_"))
    port = free_port()
    env = service_env(url, port, ADMIN_KEY)
    server = Server(env, port, workdir / "server.log")
    try:
        migrate(url, env)
        seeded = await seed(url, lots)
        server.start()
        remaining_s = (seeded.first_end - datetime.now(UTC)).total_seconds()
        if remaining_s < 5:
            raise BenchError(f"setup ran past the first lot's end by {-remaining_s:.0f} s: raise the lead")
        duration_s = remaining_s + lots * STAGGER_S + 5
        log(
            f"bids at {BID_RATE}/s for {duration_s:.0f} s, while {2 * lots} lots close one every {STAGGER_S / 2} s"
        )
        answers = run_bids(server, seeded, duration_s, workdir)
        await wait_closed(url, seeded.session_auctions + seeded.plain_auctions)
        session_lags = await close_lags(url, seeded.session_auctions)
        plain_lags = await close_lags(url, seeded.plain_auctions)
        server.stop()
        paid, paid_s = await pay_all(url, seeded.session_auctions)
        plain_paid, plain_s = await pay_all(url, seeded.plain_auctions)
        single, single_s, batched, batched_s = await split_all(url, max(1, paid // 10))
        await check_books(url, lots)
    finally:
        server.stop()
        await database.drop()

    def row(name: str, lags: list[float]) -> str:
        return f"  {name:<14} p50 {pct(lags, 50):.3f} s  p99 {pct(lags, 99):.3f} s  max {max(lags):.3f} s  mean {statistics.mean(lags):.3f} s"

    print()
    print(
        f"scripts/bench session: {lots} session lots + {lots} plain lots, ends {STAGGER_S / 2} s apart, bids at {BID_RATE}/s ({answers})"
    )
    print("(1) close lag (close's server time − the lot's end):")
    print(row("session lots", session_lags))
    print(row("plain lots", plain_lags))
    ratio = pct(session_lags, 99) / max(pct(plain_lags, 99), 1e-9)
    print(
        f"  p99 session/plain = {ratio:.2f}; target p99 ≤ 1 s: {'met' if pct(session_lags, 99) <= 1 else 'MISSED'}"
    )
    print(
        f"(2) {paid} session lots paid (the price into escrow), {PAY_CONCURRENCY} at a time: {paid_s:.1f} s"
    )
    print(
        f"    baseline: {plain_paid} plain lots paid (the seller paid): {plain_s:.1f} s; ratio {paid_s / max(plain_s, 1e-9):.2f}"
    )
    per_case_s = batched_s / max(batched, 1)
    single_per_case_s = single_s / max(single, 1)
    scaled = per_case_s * 5_000
    print(
        f"(3) {batched} paid cases settled and split over 3 holders each and delivered, in the scheduler's"
        f" batches of {proceeds.SETTLE_BATCH_SIZE}: {batched_s:.1f} s ({per_case_s * 1000:.2f} ms a case)"
    )
    print(
        f"    baseline: {single} cases one per transaction: {single_s:.1f} s ({single_per_case_s * 1000:.2f} ms a case);"
        f" ratio {single_per_case_s / max(per_case_s, 1e-9):.1f}"
    )
    print(
        f"    target ≤ 10 s for 5,000: {'met' if scaled <= 10 else 'MISSED'} ({scaled:.1f} s scaled to 5,000)"
    )
    print(
        json.dumps(
            {
                "lots": lots,
                "lag_p50_s": pct(session_lags, 50),
                "lag_p99_s": pct(session_lags, 99),
                "lag_max_s": max(session_lags),
                "paid": paid,
                "paid_s": paid_s,
                "plain_paid_s": plain_s,
                "split": batched,
                "split_s": batched_s,
                "split_one_by_one": single,
                "split_one_by_one_s": single_s,
            }
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench session")
    parser.add_argument("command", choices=["session"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lots", type=int, default=0)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(bench_session(args))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
