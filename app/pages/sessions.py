"""Server-side login sessions for the pages: an HttpOnly, SameSite cookie naming a session in a store.

The cookie holds only a random id; the store (`session_store`: rows every process shares) holds
the participant's id and the id of the key it logged in with. The API key typed at login is checked
once and kept nowhere; revoking that key, or suspending the participant, ends the session at its
next request. A login gets a
new session id (the old one is deleted), so an id planted in a browser before login is worthless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import select

from app.context import AppContext
from app.http.auth import Actor
from transfer.models import Participant
from transfer.models.api_keys import ApiKey

SESSION_COOKIE = "ipx_session"
SESSION_STORE = "page_sessions"
PARTICIPANT_KEY = "participant_id"
API_KEY_ID_KEY = "api_key_id"
FLASH_KEY = "flash"
# Marks a session whose id must change when the answer is sent (a login).
_ROTATE_KEY = "_rotate_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if isinstance(scope_session, dict) and not scope_session:
            # An anonymous watcher gets no session at all (and no entry in the store); an emptied
            # one is deleted.
            if connection.cookies.get(self.config.key):
                await super().store_in_message(Empty, message, connection)
            return
        if not (isinstance(scope_session, dict) and scope_session.pop(_ROTATE_KEY, False)):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old_id = connection.cookies.get(self.config.key)
        if old_id:
            await self.delete(old_id, store=store)
        new_id = self.generate_session_id()
        await self.set(new_id, self.serialize_data(scope_session, connection.scope), store=store)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=new_id, key=self.config.key, **cookie_params).to_header(header="")
        )


@dataclass
class PageSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(max_age_s: int) -> PageSessionConfig:
    return PageSessionConfig(
        key=SESSION_COOKIE,
        store=SESSION_STORE,
        max_age=max_age_s,
        httponly=True,
        samesite="lax",
        renew_on_access=True,
    )


def log_in(request: Request[Any, Any, Any], participant_id: int, api_key_id: int) -> None:
    request.set_session({PARTICIPANT_KEY: participant_id, API_KEY_ID_KEY: api_key_id, _ROTATE_KEY: True})


def log_out(request: Request[Any, Any, Any]) -> None:
    request.clear_session()


def flash(request: Request[Any, Any, Any], message: str, level: str = "info") -> None:
    """A message for the next page this browser opens (after a form's redirect)."""
    request.session[FLASH_KEY] = {"message": message, "level": level}


def _session(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The session, or nothing when a refusal comes before the session middleware ran (input bounds)."""
    return request.session if "session" in request.scope and request.session else {}


def take_flash(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    if FLASH_KEY not in _session(request):
        return None
    found: dict[str, str] = request.session.pop(FLASH_KEY)
    return found


async def viewer_of(request: Request[Any, Any, Any], ctx: AppContext) -> Actor | None:
    """The logged-in participant, read afresh: a suspended participant, or one whose login key was
    revoked since, is logged out at once."""
    stored = _session(request)
    participant_id = stored.get(PARTICIPANT_KEY)
    api_key_id = stored.get(API_KEY_ID_KEY)
    if not isinstance(participant_id, int) or not isinstance(api_key_id, int):
        if participant_id is not None:
            # A session from before login kept the key's id: it logs in again.
            log_out(request)
        return None
    async with ctx.database.read() as session:
        participant = (
            await session.execute(
                select(Participant)
                .join(ApiKey, ApiKey.participant_id == Participant.id)
                .where(
                    Participant.id == participant_id,
                    ApiKey.id == api_key_id,
                    ApiKey.revoked_at.is_(None),
                )
            )
        ).scalar_one_or_none()
    if participant is None or not participant.active:
        log_out(request)
        return None
    return Actor(participant.id, participant.name, participant.role_set, participant.qualified_investor)
