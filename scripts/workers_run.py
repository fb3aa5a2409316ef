"""scripts/workers: N service processes on one fresh PostgreSQL database, a market's work through
all of them, and the verdicts (scripts/workers_checks.py). Exit status 1 if any check fails.

Each service is its own single-worker process on its own port (`python -m app serve`, its own
scheduler, IPX_LIVE_RELAY=true), which is what IPX_WORKERS=N runs behind one port; distinct ports
let the workload choose the process of every request, so a bid, a payment or a watcher is on a
known process instead of where the kernel spread it. See the README, "What it survives".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from app.db import create_database  # noqa: E402
from scripts.workers_checks import Check, judge, read_stored  # noqa: E402
from scripts.workers_load import Plan, Workload, run_workload  # noqa: E402

ADMIN_KEY = "workers-admin-key-0123456789abcdef"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Config:
    workers: int = 2
    lots: int = 4
    bidders: int = 6
    concurrency: int = 16
    bid_s: float = 20.0
    idempotent_share: float = 0.2
    payment_deadline_s: int = 8
    seed: int = 17
    # The services relay live events through PostgreSQL; off shows the watcher check failing.
    relay: bool = True
    # 0: free ports chosen by the system.
    base_port: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    checks: list[Check]
    spread: dict[str, list[int]]
    bid_s: float
    wall_s: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def _ports(config: Config) -> list[int]:
    if config.base_port:
        return [config.base_port + i for i in range(config.workers)]
    ports: list[int] = []
    for _ in range(config.workers):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
    return ports


def _service_env(config: Config, database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "IPX_DATABASE_URL": database_url,
        "IPX_HOST": "127.0.0.1",
        "IPX_PORT": str(port),
        "IPX_WORKERS": "1",
        "IPX_LIVE_RELAY": "true" if config.relay else "false",
        "IPX_ADMIN_API_KEY": ADMIN_KEY,
        "IPX_AUCTION_MIN_DURATION_S": "0",
        "IPX_SCHEDULER_TICK_S": "0.2",
        "IPX_PAYMENT_DEADLINE_S": str(config.payment_deadline_s),
        # INFO: the scheduler's lines name what each process closed and defaulted.
        "IPX_LOG_LEVEL": "INFO",
    }


class Services:
    """The N processes, each logging to its own file."""

    def __init__(self, config: Config, database_url: str, log_dir: Path) -> None:
        self.config = config
        self.database_url = database_url
        self.ports = _ports(config)
        self.logs = [log_dir / f"service-{i}.log" for i in range(config.workers)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    async def start(self) -> None:
        # The first one bootstraps the database alone; the others then start together.
        self._spawn(0)
        await self._healthy(0)
        for index in range(1, self.config.workers):
            self._spawn(index)
        await asyncio.gather(*(self._healthy(i) for i in range(1, self.config.workers)))

    def _spawn(self, index: int) -> None:
        with self.logs[index].open("wb") as log:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "serve"],
                    cwd=ROOT,
                    env=_service_env(self.config, self.database_url, self.ports[index]),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    async def _healthy(self, index: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(base_url=self.bases[index]) as http:
            while time.monotonic() < deadline:
                if self.processes[index].poll() is not None:
                    break
                try:
                    if (await http.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        tail = self.logs[index].read_text(errors="replace")[-2_000:]
        raise RuntimeError(f"service {index} did not start; its log ends:\n{tail}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def counted(self, message: str) -> list[int]:
        """Per process: the sum of `count` over its log lines with this message."""
        totals: list[int] = []
        for log in self.logs:
            total = 0
            for line in log.read_text(errors="replace").splitlines():
                if message in line and line.startswith("{"):
                    entry = json.loads(line)
                    if entry.get("event") == message:
                        total += int(entry.get("count", 0))
            totals.append(total)
        return totals


def _audit_verify(database_url: str) -> Check:
    env = {**os.environ, "IPX_DATABASE_URL": database_url, "IPX_LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    said = [line for line in lines if line.startswith("audit chain")] or lines[-1:] or ["no output"]
    return Check("audit chain verifies", result.returncode == 0, said[0])


async def run(config: Config, database_url: str) -> Result:
    """The whole run on an empty database at database_url (migrated here)."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, "IPX_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory(prefix="ipx-workers-") as log_dir:
        services = Services(config, database_url, Path(log_dir))
        try:
            await services.start()
            workload = await run_workload(
                Plan(
                    services.bases,
                    ADMIN_KEY,
                    config.lots,
                    config.bidders,
                    config.concurrency,
                    config.bid_s,
                    config.idempotent_share,
                    config.payment_deadline_s,
                    config.seed,
                )
            )
        finally:
            services.stop()
        spread = _spread(workload, services)
    checks = [await asyncio.to_thread(_audit_verify, database_url)]
    database = create_database(database_url)
    try:
        checks = judge(workload, await read_stored(database, workload.auction_ids)) + checks
    finally:
        await database.dispose()
    return Result(checks, spread, workload.bid_s, workload.wall_s)


def _spread(workload: Workload, services: Services) -> dict[str, list[int]]:
    workers = range(services.config.workers)
    accepted = Counter(service for service, _, _ in workload.accepted)
    paid = Counter(s for pair in workload.payments.values() for s, status in pair if status == 201)
    watched = Counter(w.service for w in workload.watchers)
    return {
        "bids accepted": [accepted[i] for i in workers],
        "lots closed (its scheduler)": services.counted("auctions closed"),
        "winners defaulted (its scheduler)": services.counted("winners defaulted"),
        "payments taken": [paid[i] for i in workers],
        "watchers": [watched[i] for i in workers],
    }


async def _fresh_database(admin_url: str) -> tuple[str, str]:
    name = f"ipx_workers_{os.getpid()}_{int(time.time())}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = admin_url.rpartition("/")
    return name, f"{base}/{name}"


async def _drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def print_result(config: Config, result: Result) -> None:
    print(
        f"\n{config.workers} service processes, {config.lots} English lots, {config.bidders} bidders,"
        f" {config.concurrency} concurrent bid lanes for {result.bid_s:.1f} s; whole run {result.wall_s:.1f} s"
    )
    width = max(len(name) for name in result.spread)
    print(f"\n{'per process':<{width}}  " + "  ".join(f"{f'#{i}':>6}" for i in range(config.workers)))
    for name, values in result.spread.items():
        print(f"{name:<{width}}  " + "  ".join(f"{v:>6}" for v in values))
    width = max(len(check.name) for check in result.checks)
    print(f"\n{'check':<{width}}  verdict  detail")
    for check in result.checks:
        print(f"{check.name:<{width}}  {'ok' if check.passed else 'FAILED':<7}  {check.detail}")
    print(f"\nverdict: {'all checks pass' if result.passed else 'FAILED'}")


DEFAULTS = Config()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, choices=range(2, 9), default=2, metavar="N", help="2 to 8")
    parser.add_argument("--lots", type=int, default=DEFAULTS.lots)
    parser.add_argument("--bidders", type=int, default=DEFAULTS.bidders)
    parser.add_argument("--concurrency", type=int, default=DEFAULTS.concurrency)
    parser.add_argument("--bid-s", type=float, default=DEFAULTS.bid_s, help="how long the lots take bids")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument(
        "--port", type=int, default=0, help="first of N consecutive ports (default: free ones)"
    )
    parser.add_argument("--pg-url", default=os.environ.get("IPX_BENCH_POSTGRES_URL", DEFAULT_PG_URL))
    parser.add_argument("--without-relay", action="store_true", help="services without IPX_LIVE_RELAY")
    parser.add_argument("--json", type=Path, help="write the checks and the spread here")
    args = parser.parse_args()
    config = Config(
        workers=args.workers,
        lots=args.lots,
        bidders=args.bidders,
        concurrency=args.concurrency,
        bid_s=args.bid_s,
        seed=args.seed,
        relay=not args.without_relay,
        base_port=args.port,
    )

    async def whole() -> Result:
        name, url = await _fresh_database(args.pg_url)
        try:
            return await run(config, url)
        finally:
            await _drop_database(args.pg_url, name)

    result = asyncio.run(whole())
    print_result(config, result)
    if args.json:
        args.json.write_text(
            json.dumps({"checks": [asdict(c) for c in result.checks], "spread": result.spread})
        )
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
