"""The audit chain: every state change appends an event in its own transaction; a sealer chains them.

Sealing runs on every scheduler tick and before every verification, so an event is chained within
about one tick of its commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.audit_tables import AuditEvent, AuditHead, AuditSeal

GENESIS_HASH = "0" * 64
VERIFY_BATCH_SIZE = 5_000
# Sealing runs in the serving process's event loop: a batch's hashing and row handling is work
# nothing else can interleave with, so batches stay small enough (a few milliseconds) not to show
# in the bids' tail latency; the scheduler job loops until none are left.
SEAL_BATCH_SIZE = 500
EVENTS = cast(Table, AuditEvent.__table__)
SEALS = cast(Table, AuditSeal.__table__)
HEAD = cast(Table, AuditHead.__table__)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    occurred_at: datetime
    actor_id: int | None
    type: str
    subject: str
    payload: dict[str, Any]


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _time_text(occurred_at: datetime) -> str:
    # Hash the UTC wall time with microseconds: both databases give it back exactly.
    return occurred_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def event_hash(
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    type_: str,
    subject: str,
    payload_json: str,
    prev_hash: str,
) -> str:
    material = "\x1f".join(
        [str(seq), _time_text(occurred_at), str(actor_id), type_, subject, payload_json, prev_hash]
    )
    return hashlib.sha256(material.encode()).hexdigest()


# What a writer inserts; the chain columns (seq, prev_hash, hash) are the sealer's.
EVENT_COLUMNS = ("occurred_at", "actor_id", "type", "subject", "payload")


def event_rows(events: Sequence[PendingEvent]) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": event.occurred_at,
            "actor_id": event.actor_id,
            "type": event.type,
            "subject": event.subject,
            "payload": canonical_json(event.payload),
        }
        for event in events
    ]


async def append_events(session: AsyncSession, events: Sequence[PendingEvent]) -> None:
    """Insert a unit of work's events, unsealed, in its own transaction.

    No lock: the chain position and hashes are given after commit by `seal_pending`, so
    independent transactions never queue behind one chain head (it used to serialize every write).
    """
    if not events:
        return
    connection = await session.connection()
    await connection.execute(insert(EVENTS), event_rows(events))


@dataclass(frozen=True, slots=True)
class _Watermark:
    """The chain head as the sealer found it, under its lock."""

    last_seq: int
    last_hash: str
    last_tx_id: int
    last_event_id: int
    # Events written by a transaction with tx_id at or above this may not be visible yet.
    tx_id_bound: int


async def _lock_head(session: AsyncSession) -> _Watermark:
    """Lock the head row (sealers take turns on it) and bound what this run may seal.

    On PostgreSQL the bound is the oldest transaction still running anywhere: every transaction
    below it has ended, so its events are all visible now or never will be, and sealing in
    (tx_id, id) order past the watermark can never skip an event that commits later. The bound
    comes from a snapshot taken no later than the one the pending scan uses, and snapshots only
    move forward, so it is safe to use in that later statement. On SQLite writers take turns
    (the sealer holds the write lock), so everything written is visible and every tx_id is 0.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        bound = literal_column(
            "CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint)", BigInteger
        )
    else:
        bound = literal_column("1", BigInteger)
    row = (
        await session.execute(
            select(
                AuditHead.last_seq,
                AuditHead.last_hash,
                AuditHead.last_tx_id,
                AuditHead.last_event_id,
                bound,
            )
            .where(AuditHead.id == 1)
            .with_for_update()
        )
    ).one()
    return _Watermark(*row)


def _past_watermark(last_tx_id: int, last_event_id: int) -> ColumnElement[bool]:
    """Events after the sealer's watermark, in the (tx_id, id) order it seals in."""
    return tuple_(EVENTS.c.tx_id, EVENTS.c.id) > tuple_(last_tx_id, last_event_id)


def _pending_events(head: _Watermark, limit: int) -> Select[Any]:
    return (
        select(EVENTS.c.id, EVENTS.c.tx_id, *(EVENTS.c[name] for name in EVENT_COLUMNS))
        .where(_past_watermark(head.last_tx_id, head.last_event_id), EVENTS.c.tx_id < head.tx_id_bound)
        .order_by(EVENTS.c.tx_id, EVENTS.c.id)
        .limit(limit)
    )


async def seal_pending(
    session: AsyncSession, limit: int = SEAL_BATCH_SIZE, *, in_database: bool | None = None
) -> int:
    """Chain up to `limit` unsealed events, in (tx_id, id) order; returns how many.

    Run in a write transaction. The head row's lock makes concurrent sealers take turns, so the
    chain never forks; the chain order is the sealing order. An event whose transaction is still
    running when a sealer looks is sealed by a later run.

    in_database (default: on PostgreSQL) runs `postgres_seal_sql`, one statement that hashes and
    inserts the whole batch, so the calling process does no per-event work; the Python path
    computes the same hashes (event_hash) and serves SQLite.
    """
    connection = await session.connection()
    if in_database is None:
        in_database = connection.dialect.name == "postgresql"
    if in_database:
        return int((await connection.execute(text(postgres_seal_sql(limit)))).scalar_one())
    head = await _lock_head(session)
    pending = (await connection.execute(_pending_events(head, limit))).all()
    if not pending:
        return 0
    seq, prev_hash = head.last_seq, head.last_hash
    seals = []
    for row in pending:
        seq += 1
        digest = event_hash(seq, row.occurred_at, row.actor_id, row.type, row.subject, row.payload, prev_hash)
        seals.append({"seq": seq, "event_id": row.id, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    await connection.execute(insert(SEALS), seals)
    await connection.execute(
        update(HEAD)
        .where(HEAD.c.id == 1)
        .values(last_seq=seq, last_hash=prev_hash, last_tx_id=pending[-1].tx_id, last_event_id=pending[-1].id)
    )
    return len(seals)


def postgres_seal_sql(limit: int = SEAL_BATCH_SIZE) -> str:
    """The PostgreSQL sealer as one statement, complete on its own (it may run without a
    transaction around it, on any driver): lock the head, bound the batch as _lock_head explains
    (here the bound and the scan share the statement's snapshot), read up to `limit` pending
    events in order, chain their hashes by a recursive query over arrays (one O(1) step per
    event), insert the seals and move the head. Answers how many it sealed.

    Each step hashes exactly what event_hash hashes: seq, the UTC time with microseconds, the
    actor (None when absent), type, subject, payload and the previous hash, joined by U+001F.
    A sealer that waited for another's head lock reads the head as that one left it.
    """
    return f"""
WITH RECURSIVE head AS MATERIALIZED (
    SELECT last_seq, last_hash, last_tx_id, last_event_id,
           CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint) AS bound
    FROM audit_head WHERE id = 1
    FOR UPDATE
), pending AS MATERIALIZED (
    SELECT e.id, e.tx_id,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || chr(31)
           || coalesce(e.actor_id::text, 'None') || chr(31) || e.type || chr(31) || e.subject
           || chr(31) || e.payload AS body
    FROM audit_events e
    -- Scalar subqueries, not a join: their values are known before the scan starts, so the
    -- scan begins at the watermark in ix_audit_events_tx_id_id instead of filtering every event.
    WHERE (e.tx_id, e.id) > ((SELECT last_tx_id FROM head), (SELECT last_event_id FROM head))
      AND e.tx_id < (SELECT bound FROM head)
    ORDER BY e.tx_id, e.id
    LIMIT {int(limit)}
), batch AS (
    SELECT array_agg(id ORDER BY tx_id, id) AS ids,
           array_agg(tx_id ORDER BY tx_id, id) AS tx_ids,
           array_agg(body ORDER BY tx_id, id) AS bodies,
           count(*)::integer AS n
    FROM pending
), chain(i, prev_hash, hash) AS (
    SELECT 0, NULL::text, h.last_hash::text FROM head h
    UNION ALL
    SELECT c.i + 1, c.hash,
           encode(sha256(convert_to(
               (h.last_seq + c.i + 1)::text || chr(31) || b.bodies[c.i + 1] || chr(31) || c.hash,
               'UTF8')), 'hex')
    FROM chain c CROSS JOIN batch b CROSS JOIN head h
    WHERE c.i < b.n
), sealed AS (
    INSERT INTO audit_seals (seq, event_id, prev_hash, hash)
    SELECT h.last_seq + c.i, b.ids[c.i], c.prev_hash, c.hash
    FROM chain c CROSS JOIN batch b CROSS JOIN head h
    WHERE c.i > 0
), moved AS (
    UPDATE audit_head
    SET last_seq = h.last_seq + b.n, last_hash = c.hash,
        last_tx_id = b.tx_ids[b.n], last_event_id = b.ids[b.n]
    FROM batch b JOIN chain c ON c.i = b.n CROSS JOIN head h
    WHERE audit_head.id = 1 AND b.n > 0
    RETURNING b.n
)
SELECT coalesce((SELECT n FROM moved), 0)
"""


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    events_checked: int
    first_broken_seq: int | None = None
    reason: str | None = None
    # Committed events past the sealer's watermark: not chained yet, because a transaction older
    # than theirs was still running when the sealer looked (see _lock_head). Not a break, but a
    # number that stays up points at a transaction left open somewhere.
    pending_events: int = 0


async def verify_chain(session: AsyncSession) -> VerifyReport:
    """Re-hash the whole chain in batches and report the first broken link."""
    checked = 0
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    while True:
        # Seals left-joined to events: a seal whose event row is gone shows as a missing event.
        batch = (
            await session.execute(
                select(
                    SEALS.c.seq,
                    SEALS.c.prev_hash,
                    SEALS.c.hash,
                    EVENTS.c.id,
                    *(EVENTS.c[name] for name in EVENT_COLUMNS),
                )
                .select_from(SEALS.outerjoin(EVENTS, EVENTS.c.id == SEALS.c.event_id))
                .where(SEALS.c.seq > last_seq)
                .order_by(SEALS.c.seq)
                .limit(VERIFY_BATCH_SIZE)
            )
        ).all()
        if not batch:
            break
        for row in batch:
            if row.seq != expected_seq or row.id is None:
                return VerifyReport(False, checked, expected_seq, f"event {expected_seq} is missing")
            if row.prev_hash != prev_hash:
                return VerifyReport(
                    False, checked, expected_seq, "prev_hash does not match the previous event's hash"
                )
            digest = event_hash(
                expected_seq, row.occurred_at, row.actor_id, row.type, row.subject, row.payload, prev_hash
            )
            if digest != row.hash:
                return VerifyReport(False, checked, expected_seq, "content does not match its hash")
            prev_hash = digest
            expected_seq += 1
            checked += 1
        last_seq = expected_seq - 1
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    if head is None:
        return VerifyReport(True, checked)
    if head.last_seq != checked or head.last_hash != prev_hash:
        return VerifyReport(
            False,
            checked,
            checked + 1 if head.last_seq > checked else head.last_seq,
            "the chain head does not match the last event (events removed or appended outside the chain)",
        )
    # Every event up to the sealer's watermark has a seal: one more means a row was slipped in
    # behind the sealer (it would otherwise never be chained). Those after it are pending. One
    # pass over the events counts both.
    past = _past_watermark(head.last_tx_id, head.last_event_id)
    below_watermark, pending = (
        await session.execute(
            select(func.count().filter(~past), func.count().filter(past)).select_from(EVENTS)
        )
    ).one()
    if below_watermark != checked:
        return VerifyReport(
            False,
            checked,
            None,
            f"{below_watermark - checked} event(s) behind the sealed watermark are not chained",
        )
    return VerifyReport(True, checked, pending_events=pending)
