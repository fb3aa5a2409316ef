"""Authentication by bearer API key, and role guards per endpoint.

A key is looked up in this process's cache (app/http/key_cache.py, emptied within half a second
of any revocation or suspension anywhere), else in the database. An unknown or malformed key is
a 401 `unauthenticated`, a revoked one a 401 `api_key_revoked`, a suspended participant's a 403
`participant_suspended`; failures are counted and slowed past a threshold
(app/http/auth_failures.py), never the good keys.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.context import AppContext
from app.http.key_cache import GenerationReader
from app.http.public_reads import admits_anonymous
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry.api_keys import display_prefix
from transfer.registry.keys import LAST_USED_RESOLUTION_S, current_generation, note_key_used, resolve_key

# Paths anyone may call without a key.
PUBLIC_PATHS = ("/health", "/api/v1/clock", "/schema")
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated participant, detached from any database session."""

    id: int
    name: str
    roles: frozenset[str]
    qualified_investor: bool

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


class KeyNotAccepted(NotAuthorizedException):
    """A 401 whose problem document carries its own code (app/http/problems.py reads it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, headers=BEARER_CHALLENGE)
        self.problem_code = code


class ParticipantSuspended(PermissionDeniedException):
    def __init__(self, participant_id: int) -> None:
        super().__init__(
            f"participant {participant_id} is suspended: every key of it is refused until an admin"
            " reinstates it"
        )
        self.problem_code = "participant_suspended"


def bearer_key(header: str) -> str | None:
    """The API key of an `Authorization: Bearer <key>` header, or None."""
    scheme, _, api_key = header.partition(" ")
    api_key = api_key.strip()
    return api_key if scheme.lower() == "bearer" and api_key else None


def generation_reader(context: AppContext) -> GenerationReader:
    async def read() -> int:
        async with context.database.read() as session:
            return await current_generation(session)

    return read


async def cached_actor(context: AppContext, api_key: str) -> Actor | None:
    """The participant a recently resolved key belongs to, with at most a generation read."""
    return await context.key_cache.actor(api_key, generation_reader(context))


async def resolve_actor(context: AppContext, api_key: str, client_address: str) -> Actor:
    """The key's participant from the database, cached; a refusal raises (after its delay)."""
    cache = context.key_cache
    started_at = cache.started()
    async with context.database.read() as session:
        # The generation first: a revocation committed between the two reads raised it past the
        # one this key is cached under, so the cached entry is dropped at the next check.
        generation = await current_generation(session)
        found = await resolve_key(session, api_key)
    cache.observe(generation, started_at)
    if found is None or found.key.revoked_at is not None:
        await slow_failure(context, client_address, display_prefix(api_key))
        if found is None:
            raise KeyNotAccepted("unauthenticated", "unknown API key")
        raise KeyNotAccepted("api_key_revoked", f"API key {found.key.key_prefix}… was revoked")
    participant = found.participant
    if not participant.active:
        raise ParticipantSuspended(participant.id)
    actor = Actor(participant.id, participant.name, participant.role_set, participant.qualified_investor)
    cache.remember(api_key, actor, generation)
    now = context.clock()
    last_used_at = found.key.last_used_at
    if last_used_at is None or (now - last_used_at).total_seconds() >= LAST_USED_RESOLUTION_S:
        key_id = found.key.id

        async def touch(unit: UnitOfWork) -> None:
            await note_key_used(unit.session, key_id, unit.now)

        await context.transact(touch, actor_id=participant.id)
    return actor


async def slow_failure(context: AppContext, client_address: str, key_prefix: str | None) -> None:
    """A failed authentication counted, and its answer held back past the threshold (also the
    pages' login form: a key typed there is the same secret)."""
    delay_s = context.failed_authentications.record_failure(client_address, key_prefix)
    if delay_s > 0:
        await asyncio.sleep(delay_s)


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        # No key at all on a route that declares anonymous reads: the public view, no user. A key
        # that is sent is checked below like everywhere else, so a wrong one is still a 401.
        if header is None and admits_anonymous(connection.scope):
            return AuthenticationResult(user=None, auth=None)
        context: AppContext = connection.app.state["ctx"]
        client_address = connection.client.host if connection.client is not None else "unknown"
        api_key = bearer_key(header or "")
        if api_key is None:
            if header is not None:  # something was presented: a failed authentication
                await slow_failure(context, client_address, None)
            raise KeyNotAccepted("unauthenticated", "missing API key: send Authorization: Bearer <api key>")
        actor = await cached_actor(context, api_key)
        if actor is None:
            actor = await resolve_actor(context, api_key, client_address)
        return AuthenticationResult(user=actor, auth=None)


def ensure_roles(actor: object, wanted: frozenset[str]) -> None:
    """The role check of every guarded endpoint. The bid endpoint calls it in its handler instead
    of through a guard: Litestar copies the route handler object for every guard call, a few
    percent of a bid's CPU on the hottest path."""
    if not isinstance(actor, Actor) or not actor.has_any(wanted):
        raise PermissionDeniedException(f"this endpoint needs the role {' or '.join(sorted(wanted))}")


def requires(*roles: str) -> Any:
    """A guard admitting participants holding any of these roles."""
    wanted = frozenset(roles)

    # async on purpose: Litestar runs a sync guard in a worker thread, a thread hop per request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        # Litestar's automatic OPTIONS answer (the allowed methods, nothing else) inherits a
        # controller's guards, but the authentication middleware lets OPTIONS through without a
        # key, as a CORS preflight carries none: there is no user to check, and nothing to guard.
        if connection.scope.get("method") == "OPTIONS":
            return
        ensure_roles(connection.user, wanted)

    return guard
