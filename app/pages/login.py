"""Log in with a participant's API key, log out, and switch the pages' language."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.context import AppContext
from app.http.auth import slow_failure
from app.pages import i18n
from app.pages.rendering import page, safe_next
from app.pages.sessions import log_in, log_out, viewer_of
from transfer.registry.api_keys import display_prefix
from transfer.registry.participants import find_live_key

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
# An API key longer than this is not one of ours (they are 43 characters); refused before hashing.
API_KEY_MAX_LENGTH = 200
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 86_400


class LoginController(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def form(self, request: Request[Any, Any, Any], ctx: AppContext) -> Template:
        target = safe_next(request.query_params.get("next"))
        return page(request, "login.html.j2", await viewer_of(request, ctx), next_path=target, error=None)

    @post("/login", name="login_submit", status_code=303)
    async def submit(
        self, request: Request[Any, Any, Any], ctx: AppContext, data: Form
    ) -> Redirect | Template:
        api_key = str(data.get("api_key") or "").strip()
        target = safe_next(str(data.get("next") or "/"))
        found = None
        if 0 < len(api_key) <= API_KEY_MAX_LENGTH:
            async with ctx.database.read() as session:
                found = await find_live_key(session, api_key)
        if found is None:
            client_address = request.client.host if request.client is not None else "unknown"
            await slow_failure(ctx, client_address, display_prefix(api_key) if api_key else None)
            lang = i18n.language_of(request.cookies.get(i18n.LANGUAGE_COOKIE))
            return page(
                request,
                "login.html.j2",
                None,
                status_code=401,
                next_path=target,
                error=i18n.translator(lang)("login_failed"),
            )
        log_in(request, found.participant.id, found.key.id)
        return Redirect(path=target, status_code=303)

    @post("/logout", name="logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        log_out(request)
        return Redirect(path="/", status_code=303)

    @get("/lang/{code:str}", name="language")
    async def language(self, request: Request[Any, Any, Any], code: str) -> Redirect:
        chosen = i18n.language_of(code)
        target = safe_next(request.query_params.get("next"))
        return Redirect(
            path=target,
            status_code=303,
            cookies=[
                Cookie(
                    key=i18n.LANGUAGE_COOKIE,
                    value=chosen,
                    max_age=LANGUAGE_COOKIE_MAX_AGE_S,
                    samesite="lax",
                    httponly=True,
                )
            ],
        )
