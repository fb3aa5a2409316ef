"""Participants of the market: who they are, their roles, their first API key and their ledger
accounts; suspension and reinstatement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Participant
from transfer.registry import keys
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
    participant = Participant(
        name=_validate_name(name),
        roles=normalize_roles(roles),
        credit_code=_validate_credit_code(credit_code),
        qualified_investor=qualified_investor,
        active=True,
        created_at=unit.now,
    )
    unit.session.add(participant)
    await unit.session.flush()
    first = keys.add_key(unit, participant.id, keys.DEFAULT_KEY_NAME, api_key)
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
            "api_key_prefix": first.key.key_prefix,
            "key_id": first.key.id,
        },
    )
    return CreatedParticipant(participant, first.api_key)


async def find_live_key(session: AsyncSession, api_key: str) -> keys.ResolvedKey | None:
    """A live key and its active participant; None for an unknown or revoked key or a suspended
    participant."""
    found = await keys.resolve_key(session, api_key)
    if found is None or found.key.revoked_at is not None or not found.participant.active:
        return None
    return found


async def find_by_api_key(session: AsyncSession, api_key: str) -> Participant | None:
    """The active participant a live key belongs to (see find_live_key)."""
    found = await find_live_key(session, api_key)
    return None if found is None else found.participant


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
    found = await keys.resolve_key(unit.session, api_key)
    if found is not None:
        # Suspended or with this key revoked, it stays so: the setting names a key, it does not
        # overrule an admin's decision about it.
        existing = found.participant
        if "admin" not in existing.role_set:
            existing.roles = normalize_roles([*existing.role_set, "admin"])
            # Processes that cached this participant's keys read its new roles at once.
            await keys.raise_generation(unit)
            unit.record("participant.roles_changed", f"participant:{existing.id}", {"roles": existing.roles})
        return existing
    created = await create_participant(unit, name="Administrator", roles=["admin"], api_key=api_key)
    return created.participant


async def set_suspended(unit: UnitOfWork, participant_id: int, *, suspended: bool) -> Participant:
    """Suspend (every key refused at once, in every process: the key generation is raised) or
    reinstate a participant. Nothing else changes: its open bids and offers stand, its holds stay
    held, its keys work again on reinstatement (those not revoked meanwhile)."""
    participant = await lock_row(
        unit, Participant, participant_id, code="participant_not_found", noun="participant", field="id"
    )
    if participant.active == (not suspended):
        state = "suspended" if suspended else "active"
        raise Conflict(f"participant_already_{state}", f"participant {participant_id} is already {state}")
    if suspended and unit.actor_id == participant_id:
        raise Conflict("cannot_suspend_yourself", "an admin cannot suspend itself; ask another admin")
    participant.active = not suspended
    await keys.raise_generation(unit)
    unit.record(
        "participant.suspended" if suspended else "participant.reinstated",
        f"participant:{participant_id}",
        {"active": participant.active},
    )
    return participant
