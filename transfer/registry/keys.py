"""A participant's named API keys: create (the key shown once), list, revoke; resolving a
presented key; the revocation generation that tells every process to drop its cached keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Conflict, DomainError, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Participant
from transfer.models.api_keys import ApiKey, ApiKeyGeneration
from transfer.registry.api_keys import digest_api_key, digests_match, display_prefix, new_api_key

# A limit on everything: a participant with more live keys than this has lost track of them.
MAX_LIVE_KEYS = 20
MAX_KEY_NAME_LENGTH = 100
DEFAULT_KEY_NAME = "default"
# last_used_at is written at most this often per key: to the minute is what an operator needs to
# tell a forgotten key from a busy one, and it keeps a write off almost every authentication.
LAST_USED_RESOLUTION_S = 60
GENERATION_ROW_ID = 1


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    api_key: str  # shown once; only its digest is stored


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A presented key as the database knows it: its row and its participant, whatever their
    state (the caller tells a revoked key and a suspended participant apart for the client)."""

    key: ApiKey
    participant: Participant


def _validate_key_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise DomainError("name_empty", "name must not be empty", field="name")
    if len(cleaned) > MAX_KEY_NAME_LENGTH:
        raise DomainError(
            "name_too_long", f"name is longer than {MAX_KEY_NAME_LENGTH} characters", field="name"
        )
    return cleaned


def add_key(unit: UnitOfWork, participant_id: int, name: str, api_key: str | None = None) -> CreatedKey:
    """A new key row (not yet flushed), with no checks: a new participant's first key."""
    key = api_key or new_api_key()
    row = ApiKey(
        participant_id=participant_id,
        name=name,
        key_sha256=digest_api_key(key),
        key_prefix=display_prefix(key),
        created_at=unit.now,
    )
    unit.session.add(row)
    return CreatedKey(row, key)


async def create_key(unit: UnitOfWork, participant_id: int, name: str) -> CreatedKey:
    """Another named key for a participant; the participant's row lock keeps the live-key count
    and the names right under concurrent creations."""
    cleaned = _validate_key_name(name)
    await lock_row(
        unit, Participant, participant_id, code="participant_not_found", noun="participant", field="id"
    )
    live = (
        await unit.session.execute(
            select(ApiKey.name).where(ApiKey.participant_id == participant_id, ApiKey.revoked_at.is_(None))
        )
    ).scalars()
    names = set(live)
    if cleaned in names:
        raise Conflict("key_name_taken", f"a live key is already named {cleaned!r}", field="name")
    if len(names) >= MAX_LIVE_KEYS:
        raise Conflict(
            "too_many_keys", f"a participant may hold at most {MAX_LIVE_KEYS} live keys; revoke one first"
        )
    created = add_key(unit, participant_id, cleaned)
    await unit.session.flush()
    unit.record(
        "api_key.created",
        f"participant:{participant_id}",
        {"key_id": created.key.id, "name": cleaned, "key_prefix": created.key.key_prefix},
    )
    return created


async def list_keys(session: AsyncSession, participant_id: int) -> list[ApiKey]:
    """Every key of the participant, revoked ones too (with when), oldest first. Bounded: at most
    MAX_LIVE_KEYS are live, and revoked ones are as many as were ever made, so the page is capped."""
    rows = await session.execute(
        select(ApiKey).where(ApiKey.participant_id == participant_id).order_by(ApiKey.id).limit(1_000)
    )
    return list(rows.scalars())


async def revoke_key(unit: UnitOfWork, participant_id: int, key_id: int) -> ApiKey:
    """Revoked at once: the row is marked and the generation raised in the same transaction, so
    every process drops its cached keys within its next generation check (app/http/key_cache.py).
    Another participant's key is not found, exactly like a key that does not exist."""
    key = (
        await unit.session.execute(
            select(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.participant_id == participant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if key is None:
        raise NotFound("api_key_not_found", f"you have no API key {key_id}", field="key_id")
    if key.revoked_at is not None:
        raise Conflict(
            "api_key_already_revoked", f"API key {key_id} was revoked at {key.revoked_at.isoformat()}"
        )
    key.revoked_at = unit.now
    await raise_generation(unit)
    unit.record(
        "api_key.revoked",
        f"participant:{participant_id}",
        {"key_id": key.id, "name": key.name, "key_prefix": key.key_prefix},
    )
    return key


async def resolve_key(session: AsyncSession, api_key: str) -> ResolvedKey | None:
    """The key row and participant of a presented key, revoked or suspended included."""
    found = (
        await session.execute(
            select(ApiKey, Participant)
            .join(Participant, Participant.id == ApiKey.participant_id)
            .where(ApiKey.key_sha256 == digest_api_key(api_key))
        )
    ).one_or_none()
    # The lookup is by digest; the constant-time comparison guards against any timing leak of it.
    if found is None or not digests_match(found[0].key_sha256, api_key):
        return None
    return ResolvedKey(found[0], found[1])


async def note_key_used(session: AsyncSession, key_id: int, now: datetime) -> None:
    """last_used_at, to the minute: a conditional write, so most calls change nothing."""
    stale_before = now - timedelta(seconds=LAST_USED_RESOLUTION_S)
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < stale_before),
        )
        .values(last_used_at=now)
    )


async def first_key_prefixes(session: AsyncSession, participant_ids: list[int]) -> dict[int, str]:
    """Each participant's oldest live key's prefix, for the participant lists."""
    if not participant_ids:
        return {}
    oldest = (
        select(func.min(ApiKey.id))
        .where(ApiKey.participant_id.in_(participant_ids), ApiKey.revoked_at.is_(None))
        .group_by(ApiKey.participant_id)
    )
    rows = await session.execute(
        select(ApiKey.participant_id, ApiKey.key_prefix).where(ApiKey.id.in_(oldest))
    )
    return {participant_id: prefix for participant_id, prefix in rows}


async def ensure_generation_row(session: AsyncSession) -> None:
    found = await session.get(ApiKeyGeneration, GENERATION_ROW_ID)
    if found is None:
        session.add(ApiKeyGeneration(id=GENERATION_ROW_ID, generation=0))
        await session.flush()


async def raise_generation(unit: UnitOfWork) -> None:
    """One conditional update; the row exists from the migration and the bootstrap."""
    result = await unit.session.execute(
        update(ApiKeyGeneration)
        .where(ApiKeyGeneration.id == GENERATION_ROW_ID)
        .values(generation=ApiKeyGeneration.generation + 1)
    )
    assert result.rowcount == 1, "the api_key_generation row is missing: run the bootstrap"  # type: ignore[attr-defined]


async def current_generation(session: AsyncSession) -> int:
    found = (
        await session.execute(
            select(ApiKeyGeneration.generation).where(ApiKeyGeneration.id == GENERATION_ROW_ID)
        )
    ).scalar_one_or_none()
    return 0 if found is None else int(found)
