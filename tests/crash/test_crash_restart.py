"""The crash test's short form (scripts/crash at small sizes): a real service process on
PostgreSQL, killed with SIGKILL while it closes a storm of lots, splits paid disposal cases and
runs the day's annuities; restarted, it finishes the work once, and the books and the audit chain
hold. Then the database is damaged the way a crash bug would damage it, and the same checks must
say so. PostgreSQL only (the closer's lanes, SKIP LOCKED and the sealer's snapshot bound are its);
skipped on SQLite-only runs, required in CI."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_auction import free_port  # noqa: E402
from crash_harness import CrashDatabases, Scenario, audit_verify, run_scenario  # noqa: E402
from crash_run import SMALL, scenarios  # noqa: E402

from tests.conftest import IN_CI, POSTGRES_ADMIN_URL, _backends  # noqa: E402

pytestmark = pytest.mark.skipif(
    "postgres" not in _backends(), reason="the crash test runs on PostgreSQL (IPX_TEST_BACKENDS)"
)

# What a crash bug would leave behind, per scenario, and the checks that must then fail.
DAMAGE = {
    "Close storm": (
        [
            # A second close of one lot: its event written twice.
            """INSERT INTO audit_events (occurred_at, actor_id, type, subject, payload)
               SELECT occurred_at, actor_id, type, subject, payload FROM audit_events
               WHERE type = 'auction.closed' ORDER BY id LIMIT 1""",
            # A refunded deposit whose hold is pending again.
            """UPDATE ledger_transfers SET pending_status = 'pending' WHERE id =
               (SELECT deposit_hold_id FROM auction_registrations WHERE deposit_state = 'refunded'
                ORDER BY id LIMIT 1)""",
            # A chained event rewritten after the fact.
            """UPDATE audit_events SET payload = payload || ' '
               WHERE id = (SELECT event_id FROM audit_seals ORDER BY seq DESC LIMIT 1)""",
        ],
        {
            "one close event per auction, the last in its chain",
            "every deposit hold resolved once",
            "held balances = pending holds",
            "audit chain verifies",
        },
    ),
    "Waterfall split": (
        [
            "DELETE FROM disposal_waterfall_lines WHERE (case_id, line) = "
            "(SELECT case_id, max(line) FROM disposal_waterfall_lines GROUP BY case_id ORDER BY case_id LIMIT 1)",
        ],
        {
            "waterfall lines once each, summing to the proceeds",
            "each line paid from escrow once; escrow emptied",
            "the events' lines are the table's",
        },
    ),
    "Annuity run": (
        [
            # One fee paid a second time by the payee's own balance, without its transfer.
            "UPDATE accounts SET balance_fen = balance_fen + 1 WHERE key = 'center:patent_office'",
            "UPDATE accounts SET balance_fen = balance_fen - 1 WHERE key = 'center:external_settlement'",
        ],
        {
            "fees paid and in grace as seeded",
            "each fee paid once: one transfer each, the payee credited once",
        },
    ),
}


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
    statements, must_fail = DAMAGE[scenario.name]
    failed_after_damage: list[str] = []

    async def damage(url: str, seeded: Any) -> None:
        connection = await asyncpg.connect(url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()
        checks = [*await scenario.checks(url, seeded), audit_verify(url)]
        failed_after_damage.extend(c.name for c in checks if not c.ok)

    outcome = await run_scenario(scenario, databases, port, tmp_path, print, after=damage)

    assert outcome.error is None, outcome.error
    assert outcome.kill is not None
    # The kill proves something only if it found the work half done: some committed, some not.
    assert 0 < outcome.kill.done_at_kill < outcome.kill.total, outcome.kill
    failed = [f"{c.name}: {c.detail}" for c in outcome.checks if not c.ok]
    assert not failed, failed
    assert len(outcome.checks) >= 5
    assert set(failed_after_damage) == must_fail
