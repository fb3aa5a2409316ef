from __future__ import annotations

import asyncio
import itertools
import json

import httpx
from sqlalchemy import select, text

from app.context import AppContext
from app.db import Database
from app.scheduler import seal_audit_events
from tests.conftest import Market
from transfer.models import AuditEvent


async def _events(database: Database) -> list[AuditEvent]:
    async with database.read() as session:
        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())


async def test_every_state_change_appends_an_event_that_the_sealer_chains(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    bank_id, _ = await market.participant(["bank"], name="Audit Bank", funds="12.34")
    # Appended in each change's own transaction, not yet chained: writers never wait on the chain.
    assert [(e.seq, e.hash) for e in await _events(database)] == [(None, None)] * 4

    assert await seal_audit_events(context) == 4
    assert await seal_audit_events(context) == 0

    events = await _events(database)

    types = [e.type for e in events]
    # admin ensured at start, the bank, the clearing desk, the funds.
    assert types == ["participant.created"] * 3 + ["funds.recorded"]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    funds = events[-1]
    assert funds.subject == f"participant:{bank_id}"
    assert json.loads(funds.payload)["amount_fen"] == 1234
    assert funds.actor_id is not None


async def test_verify_reports_ok_on_an_untouched_chain(client: httpx.AsyncClient, market: Market) -> None:
    await market.participant(["bank"], funds="1.00")

    report = (await client.get("/api/v1/audit/verify", headers=market.admin)).json()

    assert report == {"ok": True, "events_checked": 4, "first_broken_seq": None, "reason": None}


async def test_editing_an_event_is_detected_and_named(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    await market.participant(["bank"], funds="1.00")
    await seal_audit_events(context)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            text("UPDATE audit_events SET payload = :forged WHERE seq = 4"),
            {"forged": json.dumps({"amount_fen": 100000000})},
        )

    report = (await client.get("/api/v1/audit/verify", headers=market.admin)).json()

    assert report["ok"] is False
    assert report["first_broken_seq"] == 4
    assert report["events_checked"] == 3
    assert "does not match its hash" in report["reason"]


async def test_removing_an_event_is_detected(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    await market.participant(["bank"], funds="1.00")
    await seal_audit_events(context)
    async with database.write_engine.begin() as connection:
        await connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))

    report = (await client.get("/api/v1/audit/verify", headers=market.admin)).json()

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

    from transfer.audit import SEAL_BATCH_SIZE, PendingEvent, append_events, verify_chain

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
