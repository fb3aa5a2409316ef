"""The audit chain: every state change appends an event, hash-chained, in the same transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
VERIFY_BATCH_SIZE = 5_000


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


async def append_events(session: AsyncSession, events: Sequence[PendingEvent]) -> None:
    """Append a unit of work's events at the end of the chain.

    Called last in a transaction: the head row's lock (FOR UPDATE on PostgreSQL, the write lock on
    SQLite) is then held only for the insert and the commit, so independent transactions run in
    parallel until this point and the chain stays one line.
    """
    if not events:
        return
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())).scalar_one()
    seq, prev_hash = head.last_seq, head.last_hash
    rows = []
    for event in events:
        seq += 1
        payload_json = canonical_json(event.payload)
        digest = event_hash(
            seq, event.occurred_at, event.actor_id, event.type, event.subject, payload_json, prev_hash
        )
        rows.append(
            {
                "seq": seq,
                "occurred_at": event.occurred_at,
                "actor_id": event.actor_id,
                "type": event.type,
                "subject": event.subject,
                "payload": payload_json,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    await session.execute(insert(AuditEvent), rows)
    await session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(last_seq=seq, last_hash=prev_hash)
    )


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
                    .where(AuditEvent.seq > last_seq)
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
                    False, checked, event.seq, "prev_hash does not match the previous event's hash"
                )
            digest = event_hash(
                event.seq,
                event.occurred_at,
                event.actor_id,
                event.type,
                event.subject,
                event.payload,
                event.prev_hash,
            )
            if digest != event.hash:
                return VerifyReport(False, checked, event.seq, "content does not match its hash")
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
        last_seq = batch[-1].seq
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
