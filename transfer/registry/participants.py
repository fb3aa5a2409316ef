"""Participants of the market: who they are, their roles, their API key and their ledger accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.errors import DomainError, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Participant
from transfer.registry.api_keys import digest_api_key, digests_match, display_prefix, new_api_key
from transfer.rules.uscc import validate_uscc

ROLES = ("admin", "bank", "bidder", "agency", "clearing")
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CreatedParticipant:
    participant: Participant
    api_key: str  # shown once; only its digest is stored


def normalize_roles(roles: Iterable[str], field: str = "roles") -> str:
    role_set = {role.strip() for role in roles}
    unknown = sorted(role_set - set(ROLES))
    if unknown:
        raise DomainError(
            "unknown_role", f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}", field=field
        )
    if not role_set:
        raise DomainError("no_roles", "at least one role is required", field=field)
    return ",".join(sorted(role_set))


def _validate_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise DomainError("name_empty", "name must not be empty", field="name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise DomainError("name_too_long", f"name is longer than {MAX_NAME_LENGTH} characters", field="name")
    return cleaned


def _validate_credit_code(credit_code: str | None) -> str | None:
    if credit_code is None:
        return None
    reason = validate_uscc(credit_code)
    if reason is not None:
        raise DomainError("invalid_credit_code", reason, field="credit_code")
    return credit_code


async def create_participant(
    unit: UnitOfWork,
    *,
    name: str,
    roles: Sequence[str],
    credit_code: str | None = None,
    qualified_investor: bool = False,
    api_key: str | None = None,
) -> CreatedParticipant:
    key = api_key or new_api_key()
    participant = Participant(
        name=_validate_name(name),
        roles=normalize_roles(roles),
        credit_code=_validate_credit_code(credit_code),
        qualified_investor=qualified_investor,
        api_key_sha256=digest_api_key(key),
        api_key_prefix=display_prefix(key),
        active=True,
        created_at=unit.now,
    )
    unit.session.add(participant)
    await unit.session.flush()
    await ledger.open_participant_accounts(unit.session, participant.id)
    unit.record(
        "participant.created",
        f"participant:{participant.id}",
        {
            "name": participant.name,
            "roles": participant.roles,
            "credit_code": participant.credit_code,
            "qualified_investor": qualified_investor,
            "api_key_prefix": participant.api_key_prefix,
        },
    )
    return CreatedParticipant(participant, key)


async def find_by_api_key(session: AsyncSession, api_key: str) -> Participant | None:
    found = (
        await session.execute(
            select(Participant).where(Participant.api_key_sha256 == digest_api_key(api_key))
        )
    ).scalar_one_or_none()
    # The lookup is by digest; the constant-time comparison guards against any timing leak of it.
    if found is None or not found.active or not digests_match(found.api_key_sha256, api_key):
        return None
    return found


async def get_participant(session: AsyncSession, participant_id: int) -> Participant:
    found = await session.get(Participant, participant_id)
    if found is None:
        raise NotFound("participant_not_found", f"participant {participant_id} does not exist", field="id")
    return found


async def list_participants(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[Participant], int]:
    total = int((await session.execute(select(func.count()).select_from(Participant))).scalar_one())
    rows = await session.execute(select(Participant).order_by(Participant.id).limit(limit).offset(offset))
    return list(rows.scalars()), total


async def ensure_admin(unit: UnitOfWork, api_key: str) -> Participant:
    """Make sure an admin holding this key exists (the IPX_ADMIN_API_KEY setting)."""
    existing = await find_by_api_key(unit.session, api_key)
    if existing is not None:
        if "admin" not in existing.role_set:
            existing.roles = normalize_roles([*existing.role_set, "admin"])
            unit.record("participant.roles_changed", f"participant:{existing.id}", {"roles": existing.roles})
        return existing
    created = await create_participant(unit, name="Administrator", roles=["admin"], api_key=api_key)
    return created.participant
