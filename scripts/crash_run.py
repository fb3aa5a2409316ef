"""scripts/crash: kill -9 the service in the middle of its work, restart it, and check the books.

Three scenarios, each on its own fresh PostgreSQL database with a real `python -m app serve`
(its scheduler on): a close storm, a waterfall split of paid disposal cases, the daily annuity
run. Each: seed, start the service, SIGKILL it once some but not all of the work has committed
(watched from the database), restart it, let it finish, then check that the work was done once
and only once, the ledger sums to zero and the audit chain verifies (README, "What it
survives"). Exit status 1 if any check fails or a kill did not land mid-work.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import crash_annuities  # noqa: E402
import crash_close_storm  # noqa: E402
import crash_waterfall  # noqa: E402
from bench_auction import free_port  # noqa: E402
from crash_harness import CrashDatabases, Outcome, Scenario, run_scenario  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402


@dataclass(frozen=True, slots=True)
class Sizes:
    auctions: int
    close_batch: int
    cases: int
    settle_batch: int
    patents: int
    fees_due: int
    annuity_batch_loans: int


# Full: the 2,000 auctions; 2,000 paid cases (four of the scheduler's default batches of
# 500); the annuity bench's book. The close and annuity batches are smaller than the defaults so
# that the kill lands between commits (2,000 lots are two default batches, run side by side, and
# the bench's 297 loans with fees due are one batch).
FULL = Sizes(2_000, 100, 2_000, 500, 1_000_000, 2_700, 25)
QUICK = Sizes(500, 50, 300, 50, 100_000, 270, 5)
# The CI test's (tests/crash): small enough for well under a minute in all.
SMALL = Sizes(150, 15, 40, 8, 5_000, 200, 5)


def scenarios(sizes: Sizes) -> list[Scenario]:
    return [
        crash_close_storm.scenario(sizes.auctions, sizes.close_batch),
        crash_waterfall.scenario(sizes.cases, sizes.settle_batch),
        crash_annuities.scenario(sizes.patents, sizes.fees_due, sizes.annuity_batch_loans),
    ]


async def run_all(
    sizes: Sizes, pg_url: str, port: int, console: Console, only: list[str] | None = None
) -> list[Outcome]:
    workdir = Path(tempfile.mkdtemp(prefix="ipx_crash_"))
    databases = CrashDatabases(pg_url)
    outcomes: list[Outcome] = []
    try:
        console.log("migrating the template database")
        await databases.prepare()
        for scenario in scenarios(sizes):
            if only and not any(scenario.name.lower().startswith(o.lower()) for o in only):
                continue
            started = time.monotonic()
            outcome = await run_scenario(scenario, databases, port, workdir, console.log)
            console.log(
                f"{scenario.name}: {'PASS' if outcome.ok else 'FAIL'} in {time.monotonic() - started:.0f} s"
                + (f" ({outcome.error})" if outcome.error else "")
            )
            outcomes.append(outcome)
    finally:
        await databases.drop_all()
    console.log(f"service logs in {workdir}")
    return outcomes


def verdict_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="scripts/crash: kill -9 mid-work, restart, check", show_lines=False)
    table.add_column("scenario", max_width=44)
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("detail", overflow="fold")
    for outcome in outcomes:
        kill = outcome.kill
        about = [f"[bold]{outcome.scenario}[/bold]", outcome.size]
        if kill is not None:
            about.append(
                f"killed with {kill.done_at_kill:,} of {kill.total:,} done ({kill.kill_after_s:.1f} s in)"
            )
            if kill.finish_after_restart_s:
                about.append(f"the rest {kill.finish_after_restart_s:.1f} s after the restart")
        if outcome.attempts > 1:
            about.append(f"attempt {outcome.attempts}")
        rows: list[tuple[str, str, str]] = []
        if kill is None or not kill.landed_mid_work:
            rows.append(("kill landed mid-work", "[red]FAIL", "the work was not half done at the kill"))
        if outcome.error:
            rows.append(("run", "[red]FAIL", outcome.error))
        rows += [(c.name, "[green]ok" if c.ok else "[red]FAIL", c.detail) for c in outcome.checks]
        for i, (name, verdict, detail) in enumerate(rows):
            table.add_row(about[i] if i < len(about) else "", name, verdict, detail)
        for extra in about[len(rows) :]:
            table.add_row(extra, "", "", "")
        table.add_section()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/crash")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--port", type=int, default=0, help="the service's port (default: a free one)")
    parser.add_argument("--only", action="append", help="run the scenarios whose name starts so (repeatable)")
    parser.add_argument(
        "--close-batch", type=int, default=0, help="IPX_AUCTION_CLOSE_BATCH_SIZE for the storm"
    )
    parser.add_argument("--settle-batch", type=int, default=0, help="IPX_DISPOSAL_SETTLE_BATCH_SIZE")
    parser.add_argument("--annuity-batch-loans", type=int, default=0, help="IPX_ANNUITY_RUN_BATCH_LOANS")
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=180)
    sizes = QUICK if args.quick else FULL
    sizes = dataclasses.replace(
        sizes,
        close_batch=args.close_batch or sizes.close_batch,
        settle_batch=args.settle_batch or sizes.settle_batch,
        annuity_batch_loans=args.annuity_batch_loans or sizes.annuity_batch_loans,
    )
    started = time.monotonic()
    outcomes = asyncio.run(run_all(sizes, args.pg_url, args.port or free_port(), console, args.only))
    console.print(verdict_table(outcomes))
    ok = bool(outcomes) and all(o.ok for o in outcomes)
    console.print(f"{'all checks passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
