"""scripts/crash's machinery: fresh databases from one migrated template, the real service
process, and the kill -9 that lands while the work is half done.

A scenario seeds its own fresh database, starts `python -m app serve` (with its scheduler), and
names one SQL count of work done and the count it reaches when done. The kill watches that count
from outside, as an operator's monitor would, and sends SIGKILL once some but not all of the work
has committed; after the dead process's database sessions are gone the count is read again, so
the "half done" at the kill is what the database really kept.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_auction import PYTHON, BenchError, Server, migrate, service_env  # noqa: E402

ADMIN_KEY = "ipx_crash_admin_key_00000000000000"
# How often the watcher reads the count of work done while it waits to kill.
WATCH_INTERVAL_S = 0.005
# How long the work may take after the restart, and the service to reach its first tick.
FINISH_LIMIT_S = 300.0
# How long the dead process's database sessions may take to end.
BACKENDS_GONE_LIMIT_S = 30.0


class CrashError(BenchError):
    pass


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


class CrashDatabases:
    """One migrated template per run; each attempt gets a fresh copy of it (CREATE DATABASE …
    TEMPLATE, a file copy: no migration per scenario) and drops it afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _plain(admin_url)
        self.base = self.admin_url.rsplit("/", 1)[0]
        self.prefix = f"ipx_crash_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.made: list[str] = []

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    async def _admin(self, *statements: str) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    async def prepare(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}"', f'CREATE DATABASE "{self.template}"')
        self.made.append(self.template)
        url = self.url(self.template)
        try:
            migrate(url, service_env(url, 8000, ADMIN_KEY))
        except BaseException:
            await self.drop_all()  # the caller never gets a template to clean up
            raise

    async def fresh(self, label: str) -> str:
        name = f"{self.prefix}_{label}"
        await self._admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
        )
        self.made.append(name)
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    async def drop_all(self) -> None:
        for name in list(reversed(self.made)):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()


class Service(Server):
    """`python -m app serve` with its scheduler, as bench_auction starts it; launched without
    waiting for /health (the work may start before the first request could be answered), and
    killed with SIGKILL: no shutdown hook, no rollback by the process, no flush."""

    def launch(self) -> None:
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(
            [PYTHON, "-m", "app", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None
        self.log_file.close()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


@dataclass(frozen=True, slots=True)
class Work:
    """What a scenario's service does: `done_sql` counts the work committed, `total` when done."""

    done_sql: str
    total: int


@dataclass
class KillReport:
    done_at_kill: int
    total: int
    kill_after_s: float
    finish_after_restart_s: float = 0.0

    @property
    def landed_mid_work(self) -> bool:
        return 0 < self.done_at_kill < self.total


async def count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(_plain(url))
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def _wait_backends_gone(connection: asyncpg.Connection, database: str) -> None:
    """The killed process's sessions end when PostgreSQL notices its sockets closed; one inside a
    statement ends once that statement does, rolling back its transaction."""
    deadline = time.monotonic() + BACKENDS_GONE_LIMIT_S
    while time.monotonic() < deadline:
        others = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        if others == 0:
            return
        await asyncio.sleep(0.05)
    raise CrashError(
        f"the killed service's database sessions were still there after {BACKENDS_GONE_LIMIT_S} s"
    )


async def kill_mid_work(service: Service, url: str, work: Work, kill_at: int) -> KillReport:
    """Start the service and SIGKILL it once at least `kill_at` (≥ 1) of the work has committed
    and not all of it; the report's count is read after its sessions are gone."""
    assert 1 <= kill_at < work.total
    connection = await asyncpg.connect(_plain(url))
    try:
        started = time.monotonic()
        service.launch()
        while True:
            done = int(await connection.fetchval(work.done_sql))
            if done >= kill_at:
                service.kill9()
                break
            if service.exited() is not None:
                raise CrashError(f"the service exited by itself ({service.exited()}): see {service.log_path}")
            if time.monotonic() - started > FINISH_LIMIT_S:
                service.kill9()
                raise CrashError(
                    f"no work done {FINISH_LIMIT_S:.0f} s after the start: see {service.log_path}"
                )
            await asyncio.sleep(WATCH_INTERVAL_S)
        killed_after_s = time.monotonic() - started
        await _wait_backends_gone(connection, url.rsplit("/", 1)[1])
        done_at_kill = int(await connection.fetchval(work.done_sql))
    finally:
        await connection.close()
    return KillReport(done_at_kill, work.total, killed_after_s)


async def wait_for(
    url: str, sql: str, target: int, limit_s: float, what: str, *, past_target_is_wrong: bool = True
) -> float:
    """Seconds until `sql` counts `target`; CrashError naming `what` after `limit_s` (or at once
    on a count past it, work done more often than there was work, unless counting down)."""
    connection = await asyncpg.connect(_plain(url))
    try:
        started = time.monotonic()
        while True:
            value = int(await connection.fetchval(sql))
            if value == target:
                return time.monotonic() - started
            if value > target and past_target_is_wrong:
                raise CrashError(f"{what}: {value}, more than the {target} expected")
            if time.monotonic() - started > limit_s:
                raise CrashError(f"{what}: {value} of {target} after {limit_s:.0f} s")
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


# Committed events the sealer has not chained yet.
UNSEALED_SQL = (
    "SELECT count(*) FROM audit_events e WHERE NOT EXISTS"
    " (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id)"
)


async def restart_and_finish(service: Service, url: str, work: Work) -> float:
    """Start the service again and wait until all the work and the chaining of its events are
    done; then stop it as an operator would. Returns the seconds to finish the work."""
    service.launch()
    try:
        finish_s = await wait_for(
            url, work.done_sql, work.total, FINISH_LIMIT_S, "work done after the restart"
        )
        await wait_for(
            url, UNSEALED_SQL, 0, FINISH_LIMIT_S, "audit events not chained", past_target_is_wrong=False
        )
    finally:
        service.stop()
    return finish_s


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def check(name: str, ok: bool, detail: str) -> Check:
    return Check(name, bool(ok), detail)


def audit_verify(url: str) -> Check:
    """`python -m app audit verify`, the operator's own command, on the scenario's database."""
    env = service_env(url, 8000, ADMIN_KEY)
    done = subprocess.run(
        [PYTHON, "-m", "app", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = (done.stdout.strip().splitlines() or [done.stderr.strip()[-200:]])[-1]
    pending = "wait to be chained" in done.stdout
    return check("audit chain verifies", done.returncode == 0 and not pending, said)


@dataclass
class Outcome:
    scenario: str
    size: str
    attempts: int
    kill: KillReport | None
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.kill is not None
            and self.kill.landed_mid_work
            and bool(self.checks)
            and all(c.ok for c in self.checks)
        )


@dataclass(frozen=True, slots=True)
class Scenario:
    """seed(url) prepares the database and returns what the checks need and the work to watch;
    env: the service's settings for the scenario; checks(url, seeded) after the restart."""

    name: str
    size: str
    env: dict[str, str]
    seed: Callable[[str], Awaitable[tuple[Any, Work]]]
    checks: Callable[[str, Any], Awaitable[list[Check]]]
    kill_fraction: float = 0.4


Progress = Callable[[str], None]


async def run_scenario(
    scenario: Scenario,
    databases: CrashDatabases,
    port: int,
    workdir: Path,
    say: Progress,
    attempts: int = 3,
    after: Callable[[str, Any], Awaitable[None]] | None = None,
) -> Outcome:
    """Seed, start, kill -9 mid-work, restart, finish, check. A kill that finds the work already
    finished (or none of it) proves nothing: try again on a fresh database with an earlier kill.
    `after(url, seeded)` runs once the checks are done, before the database is dropped."""
    fraction = scenario.kill_fraction
    kill: KillReport | None = None
    for attempt in range(1, attempts + 1):
        url = await databases.fresh(scenario.name.split()[0].lower())
        service: Service | None = None
        try:
            say(f"{scenario.name}: seeding ({scenario.size})")
            seeded, work = await scenario.seed(url)
            env = {**service_env(url, port, ADMIN_KEY), **scenario.env}
            service = Service(env, port, workdir / f"{scenario.name.split()[0].lower()}-{attempt}.log")
            kill_at = max(1, min(work.total - 1, int(work.total * fraction)))
            say(f"{scenario.name}: service started; kill -9 once {kill_at} of {work.total} are done")
            kill = await kill_mid_work(service, url, work, kill_at)
            say(
                f"{scenario.name}: killed {kill.kill_after_s:.2f} s after the start with"
                f" {kill.done_at_kill} of {kill.total} done"
            )
            if not kill.landed_mid_work:
                say(f"{scenario.name}: the kill did not land mid-work; again with an earlier kill")
                fraction /= 4
                continue
            say(f"{scenario.name}: restarted; waiting for the rest")
            kill.finish_after_restart_s = await restart_and_finish(service, url, work)
            say(f"{scenario.name}: finished {kill.finish_after_restart_s:.1f} s after the restart; checking")
            checks = [*await scenario.checks(url, seeded), audit_verify(url)]
            if after is not None:
                await after(url, seeded)
            return Outcome(scenario.name, scenario.size, attempt, kill, checks)
        except CrashError as error:
            return Outcome(scenario.name, scenario.size, attempt, kill, error=str(error))
        finally:
            if service is not None:
                service.stop()  # a service left running by a failure half-way
            await databases.drop(url)
    return Outcome(
        scenario.name,
        scenario.size,
        attempts,
        kill,
        error=f"the kill never landed mid-work in {attempts} attempts",
    )
