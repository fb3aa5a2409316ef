"""Authentication by bearer API key, and role guards per endpoint."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.bidding.bounded_cache import BoundedCache
from app.context import AppContext
from app.http.public_reads import admits_anonymous
from transfer.registry.api_keys import digest_api_key
from transfer.registry.participants import find_by_api_key

# Paths anyone may call without a key.
PUBLIC_PATHS = ("/health", "/api/v1/clock", "/schema")
# Resolved keys are cached briefly so a burst of bids does not look the key up every time; a
# deactivated key stops working within this many seconds.
KEY_CACHE_TTL_S = 5.0
KEY_CACHE_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated participant, detached from any database session."""

    id: int
    name: str
    roles: frozenset[str]
    qualified_investor: bool

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


# Key digest -> (monotonic expiry, the participant it belongs to).
_key_cache: BoundedCache[str, tuple[float, Actor]] = BoundedCache(KEY_CACHE_MAX_ENTRIES)


def forget_cached_keys() -> None:
    _key_cache.clear()


def bearer_key(header: str) -> str | None:
    """The API key of an `Authorization: Bearer <key>` header, or None."""
    scheme, _, api_key = header.partition(" ")
    api_key = api_key.strip()
    return api_key if scheme.lower() == "bearer" and api_key else None


def cached_actor(api_key: str) -> Actor | None:
    """The participant a recently resolved key belongs to, without a database read."""
    cached = _key_cache.get(digest_api_key(api_key))
    return cached[1] if cached is not None and cached[0] > time.monotonic() else None


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        # No key at all on a route that declares anonymous reads: the public view, no user. A key
        # that is sent is checked below like everywhere else, so a wrong one is still a 401.
        if header is None and admits_anonymous(connection.scope):
            return AuthenticationResult(user=None, auth=None)
        api_key = bearer_key(header or "")
        if api_key is None:
            raise NotAuthorizedException(
                "missing API key: send Authorization: Bearer <api key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        actor = cached_actor(api_key)
        if actor is not None:
            return AuthenticationResult(user=actor, auth=None)
        context: AppContext = connection.app.state["ctx"]
        async with context.database.read() as session:
            participant = await find_by_api_key(session, api_key)
        if participant is None:
            raise NotAuthorizedException(
                "unknown or inactive API key", headers={"WWW-Authenticate": "Bearer"}
            )
        actor = Actor(participant.id, participant.name, participant.role_set, participant.qualified_investor)
        _key_cache.put(digest_api_key(api_key), (time.monotonic() + KEY_CACHE_TTL_S, actor))
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
