"""The crash test's short form (scripts/crash at small sizes): a real service process on
PostgreSQL, killed with SIGKILL while it closes a storm of lots, splits paid disposal cases and
runs the day's annuities; restarted, it finishes the work once, and the books and the audit chain
hold. PostgreSQL only (the closer's lanes, SKIP LOCKED and the sealer's snapshot bound are its);
skipped on SQLite-only runs, required in CI."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_auction import free_port  # noqa: E402
from crash_harness import CrashDatabases, Scenario, run_scenario  # noqa: E402
from crash_run import SMALL, scenarios  # noqa: E402

from tests.conftest import IN_CI, POSTGRES_ADMIN_URL, _backends  # noqa: E402

pytestmark = pytest.mark.skipif(
    "postgres" not in _backends(), reason="the crash test runs on PostgreSQL (IPX_TEST_BACKENDS)"
)


@pytest.fixture(scope="module")
def databases() -> Iterator[CrashDatabases]:
    made = CrashDatabases(POSTGRES_ADMIN_URL)
    try:
        asyncio.run(made.prepare())
    except OSError as error:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is required in CI but unreachable: {error}") from error
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    yield made
    asyncio.run(made.drop_all())


@pytest.mark.parametrize("scenario", scenarios(SMALL), ids=lambda s: s.name.lower().replace(" ", "_"))
async def test_a_service_killed_mid_work_finishes_it_once_after_restart(
    scenario: Scenario, databases: CrashDatabases, tmp_path: Path
) -> None:
    port = int(os.environ.get("IPX_CRASH_PORT", "0")) or free_port()
    outcome = await run_scenario(scenario, databases, port, tmp_path, print)

    assert outcome.error is None, outcome.error
    assert outcome.kill is not None
    # The kill proves something only if it found the work half done: some committed, some not.
    assert 0 < outcome.kill.done_at_kill < outcome.kill.total, outcome.kill
    failed = [f"{c.name}: {c.detail}" for c in outcome.checks if not c.ok]
    assert not failed, failed
    assert len(outcome.checks) >= 5
