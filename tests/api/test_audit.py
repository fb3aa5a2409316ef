from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Row, select, text

from app.context import AppContext
from app.db import Database
from app.scheduler import seal_audit_events
from tests.conftest import Market
from transfer.kernel.audit import (
    PendingEvent,
    VerifyReport,
    append_events,
    event_hash,
    seal_pending,
    verify_chain,
)
from transfer.models import AuditEvent, AuditSeal


async def _events(database: Database) -> list[Row[Any]]:
    """Every event with its seal's columns (None while unsealed), in insertion order."""
    async with database.read() as session:
        return list(
            await session.execute(
                select(AuditEvent, AuditSeal.seq, AuditSeal.prev_hash, AuditSeal.hash)
                .outerjoin(AuditSeal, AuditSeal.event_id == AuditEvent.id)
                .order_by(AuditEvent.id)
            )
        )


async def _verify_after_tampering(
    client: httpx.AsyncClient,
    market: Market,
    database: Database,
    context: AppContext,
    statement: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Four sealed events (admin, bank, clearing desk, funds), one SQL statement run straight on
    the database as an intruder would, then GET /audit/verify's answer."""
    await market.participant(["bank"], funds="1.00")
    await seal_audit_events(context)
    async with database.write_engine.begin() as connection:
        await connection.execute(text(statement), params or {})
    report: dict[str, Any] = (await client.get("/api/v1/audit/verify", headers=market.admin)).json()
    return report


async def test_every_state_change_appends_an_event_that_the_sealer_chains(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    bank_id, _ = await market.participant(["bank"], name="Audit Bank", funds="12.34")
    # Appended in each change's own transaction, not yet chained: writers never wait on the chain.
    assert [(e.seq, e.hash) for e in await _events(database)] == [(None, None)] * 4

    assert await seal_audit_events(context) == 4
    assert await seal_audit_events(context) == 0

    events = await _events(database)

    types = [e.AuditEvent.type for e in events]
    # admin ensured at start, the bank, the clearing desk, the funds.
    assert types == ["participant.created"] * 3 + ["funds.recorded"]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    funds = events[-1].AuditEvent
    assert funds.subject == f"participant:{bank_id}"
    assert json.loads(funds.payload)["amount_fen"] == 1234
    assert funds.actor_id is not None


async def test_verify_reports_ok_on_an_untouched_chain(client: httpx.AsyncClient, market: Market) -> None:
    await market.participant(["bank"], funds="1.00")

    report = (await client.get("/api/v1/audit/verify", headers=market.admin)).json()

    assert report == {
        "ok": True,
        "events_checked": 4,
        "first_broken_seq": None,
        "reason": None,
        "pending_events": 0,
    }


async def test_editing_an_event_is_detected_and_named(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    report = await _verify_after_tampering(
        client,
        market,
        database,
        context,
        "UPDATE audit_events SET payload = :forged WHERE id = (SELECT event_id FROM audit_seals WHERE seq = 4)",
        {"forged": json.dumps({"amount_fen": 100000000})},
    )

    assert report["ok"] is False
    assert report["first_broken_seq"] == 4
    assert report["events_checked"] == 3
    assert "does not match its hash" in report["reason"]


async def test_removing_an_event_is_detected(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    report = await _verify_after_tampering(
        client,
        market,
        database,
        context,
        "DELETE FROM audit_events WHERE id = (SELECT event_id FROM audit_seals WHERE seq = 2)",
    )

    assert (report["ok"], report["first_broken_seq"]) == (False, 2)


async def test_concurrent_writers_and_sealers_keep_one_unbroken_chain(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    bank_id, bank = await market.participant(["bank"])
    clearing = await market.clearing()

    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/participants/{bank_id}/funds",
                json={"amount": "1.00", "reference": f"burst-{index}"},
                headers=clearing,
            )
            for index in range(30)
        )
    )

    assert {r.status_code for r in responses} == {201}
    # Four sealers at once (as on four nodes): each event is chained exactly once, no fork.
    sealed = await asyncio.gather(*(seal_audit_events(context) for _ in range(4)))
    assert sum(sealed) == 3 + 30
    events = await _events(database)
    assert sorted(e.seq for e in events if e.seq is not None) == list(range(1, 3 + 30 + 1))
    assert len(events) == 3 + 30
    report = (await client.get("/api/v1/audit/verify", headers=clearing)).json()
    assert report["ok"] is True
    assert (await market.balances(bank))["available"] == "30.00"


async def test_a_backlog_larger_than_a_batch_is_sealed_in_order_in_one_tick(
    client: httpx.AsyncClient, database: Database, context: AppContext
) -> None:
    from datetime import UTC, datetime

    from transfer.kernel.audit import SEAL_BATCH_SIZE, PendingEvent, append_events, verify_chain

    backlog = 2 * SEAL_BATCH_SIZE + 37
    at = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
    async with database.write() as session, session.begin():
        await append_events(
            session, [PendingEvent(at, None, "test.event", f"test:{n}", {"n": n}) for n in range(backlog)]
        )
    already = len(await _events(database)) - backlog

    assert await seal_audit_events(context) == already + backlog

    events = await _events(database)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    async with database.read() as session:
        report = await verify_chain(session)
    assert (report.ok, report.events_checked) == (True, len(events))


async def test_an_event_slipped_in_behind_the_sealer_is_reported(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    # (tx_id 0, id 0) sorts below the sealer's watermark: it would never be chained.
    report = await _verify_after_tampering(
        client,
        market,
        database,
        context,
        "INSERT INTO audit_events (id, tx_id, occurred_at, actor_id, type, subject, payload)"
        " VALUES (0, 0, :at, NULL, 'funds.recorded', 'participant:1', '{}')",
        {"at": datetime(2026, 11, 30, tzinfo=UTC)},
    )

    assert report == {
        "ok": False,
        "events_checked": 4,
        "first_broken_seq": None,
        "reason": "1 event(s) behind the sealed watermark are not chained",
        "pending_events": 0,
    }


async def test_an_event_committed_after_later_ones_were_sealed_is_still_chained(
    database: Database, backend: str
) -> None:
    """A transaction that wrote its event first but commits last: the sealer must neither skip
    it nor fork. On SQLite writers take turns, so the race cannot happen there."""
    if backend != "postgres":
        pytest.skip("concurrent writers are PostgreSQL's")
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with database.write() as slow, slow.begin():
        await append_events(slow, [PendingEvent(at, 1, "test.slow", "test:slow", {"n": 1})])
        async with database.write() as quick, quick.begin():
            await append_events(quick, [PendingEvent(at, 2, "test.quick", "test:quick", {"n": 2})])
        # The slow transaction is still open: nothing from it or after it may be sealed yet.
        async with database.write() as sealer, sealer.begin():
            assert await seal_pending(sealer) == 0
        # Verification says so: the quick event is committed and waits (the slow one is unseen).
        async with database.read() as session:
            assert await verify_chain(session) == VerifyReport(True, 0, pending_events=1)
    async with database.write() as sealer, sealer.begin():
        assert await seal_pending(sealer) == 2

    events = await _events(database)
    assert [(e.AuditEvent.type, e.seq) for e in events] == [("test.slow", 1), ("test.quick", 2)]
    async with database.read() as session:
        assert await verify_chain(session) == VerifyReport(True, 2, pending_events=0)


async def test_the_database_and_python_hash_every_event_alike(database: Database, backend: str) -> None:
    """PostgreSQL seals in SQL; verification re-hashes in Python. Awkward content (no actor,
    non-ASCII text, a whole-second time, separators in the payload) on one chain sealed by both
    paths in turn must verify."""
    events = [
        PendingEvent(
            datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC), None, "t.a", "loan:专利-7", {"名称": "发明专利"}
        ),
        PendingEvent(datetime(2026, 11, 30, 8, 0, 0, 5, tzinfo=UTC), 42, "t.b", "x", {"s": 'a\u001fb\\n"q"'}),
        PendingEvent(datetime(1999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), 0, "t.c", "", {}),
    ]
    paths = [False, True, False] if backend == "postgres" else [False, False, False]
    for event, in_database in zip(events, paths, strict=True):
        async with database.write() as session, session.begin():
            await append_events(session, [event])
        async with database.write() as session, session.begin():
            assert await seal_pending(session, in_database=in_database) == 1

    rows = await _events(database)
    for row in rows:
        expected = event_hash(
            row.seq, row.AuditEvent.occurred_at, row.AuditEvent.actor_id, row.AuditEvent.type,
            row.AuditEvent.subject, row.AuditEvent.payload, row.prev_hash,
        )  # fmt: skip
        assert row.hash == expected
    async with database.read() as session:
        assert await verify_chain(session) == VerifyReport(True, len(rows))
