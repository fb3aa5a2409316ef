"""Idempotency-Key: same key + same body -> the stored answer, one effect; a different body -> 422.

The record is claimed first thing in the request's own transaction and completed in it, so a
concurrent twin with the same key waits on the claim (PostgreSQL) or the write lock (SQLite) and
then replays the stored answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import RetryTransaction
from transfer.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    body: bytes
    replayed: bool


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A request's checked Idempotency-Key and the fingerprint of what it asks for."""

    key: str
    fingerprint: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash of what the request asks for; JSON bodies are canonicalised so key order and spacing
    do not make a retry look different."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    return key


async def claim(
    session: AsyncSession, participant_id: int, key: str, request_fingerprint: str, now: datetime
) -> StoredAnswer | None:
    """Return the stored answer for a repeated key, or claim the key for this request."""
    found = await session.get(IdempotencyRecord, (participant_id, key))
    if found is not None:
        if found.fingerprint != request_fingerprint:
            raise DomainError(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request; use a new key",
                field="Idempotency-Key",
            )
        return StoredAnswer(found.response_status, found.response_body.encode(), replayed=True)
    session.add(
        IdempotencyRecord(
            participant_id=participant_id,
            key=key,
            fingerprint=request_fingerprint,
            response_status=0,
            response_body="",
            created_at=now,
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        # A twin with the same key committed first: run again and replay its answer.
        raise RetryTransaction from None
    return None


async def complete(
    session: AsyncSession, participant_id: int, key: str, status_code: int, body: bytes
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.participant_id == participant_id, IdempotencyRecord.key == key)
        .values(response_status=status_code, response_body=body.decode())
    )


async def purge_expired(session: AsyncSession, now: datetime, ttl_s: int) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - timedelta(seconds=ttl_s))
    )
    return int(getattr(result, "rowcount", 0) or 0)
