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

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
VERIFY_BATCH_SIZE = 5_000
# Sealing runs in the serving process's event loop: a batch's hashing and row handling is work
# nothing else can interleave with, so batches stay small enough (a few milliseconds) not to show
# in the bids' tail latency; the scheduler job loops until none are left.
SEAL_BATCH_SIZE = 500
EVENTS = cast(Table, AuditEvent.__table__)


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


async def seal_pending(session: AsyncSession, limit: int = SEAL_BATCH_SIZE) -> int:
    """Chain up to `limit` committed, unsealed events, oldest insertion first; returns how many.

    Run in a write transaction. The head row's lock makes concurrent sealers take turns; an event
    whose transaction commits late is simply sealed by a later run, so the chain order is the
    sealing order (close to commit order), and it never forks.
    """
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())).scalar_one()
    table = EVENTS
    pending = (
        await session.execute(
            select(
                table.c.id,
                table.c.occurred_at,
                table.c.actor_id,
                table.c.type,
                table.c.subject,
                table.c.payload,
            )
            .where(table.c.seq.is_(None))
            .order_by(table.c.id)
            .limit(limit)
        )
    ).all()
    if not pending:
        return 0
    seq, prev_hash = head.last_seq, head.last_hash
    sealed = []
    for row in pending:
        seq += 1
        digest = event_hash(seq, row.occurred_at, row.actor_id, row.type, row.subject, row.payload, prev_hash)
        sealed.append({"event_id": row.id, "seq": seq, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # One statement from arrays: no per-row parameter processing in Python.
        await connection.execute(
            text(
                "UPDATE audit_events SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash"
                " FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:prev AS text[]),"
                " CAST(:hashes AS text[])) AS s(id, seq, prev_hash, hash) WHERE audit_events.id = s.id"
            ),
            {
                "ids": [row["event_id"] for row in sealed],
                "seqs": [row["seq"] for row in sealed],
                "prev": [row["prev_hash"] for row in sealed],
                "hashes": [row["hash"] for row in sealed],
            },
        )
    else:
        await connection.execute(
            update(table)
            .where(table.c.id == bindparam("event_id"))
            .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash")),
            sealed,
        )
    head.last_seq, head.last_hash = seq, prev_hash
    await session.flush()
    return len(sealed)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    events_checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(session: AsyncSession) -> VerifyReport:
    """Re-hash the whole chain in batches and report the first broken link."""
    checked = 0
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    while True:
        batch = (
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.seq > last_seq)  # NULL (unsealed) never compares greater
                    .order_by(AuditEvent.seq)
                    .limit(VERIFY_BATCH_SIZE)
                )
            )
            .scalars()
            .all()
        )
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return VerifyReport(False, checked, expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev_hash:
                return VerifyReport(
                    False, checked, expected_seq, "prev_hash does not match the previous event's hash"
                )
            digest = event_hash(
                expected_seq,
                event.occurred_at,
                event.actor_id,
                event.type,
                event.subject,
                event.payload,
                prev_hash,
            )
            if digest != event.hash:
                return VerifyReport(False, checked, expected_seq, "content does not match its hash")
            prev_hash = digest
            expected_seq += 1
            checked += 1
        last_seq = expected_seq - 1
        session.expunge_all()
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return VerifyReport(
            False,
            checked,
            checked + 1 if head.last_seq > checked else head.last_seq,
            "the chain head does not match the last event (events removed or appended outside the chain)",
        )
    return VerifyReport(True, checked)
