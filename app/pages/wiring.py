"""What the app mounts for the pages: one router (sessions and CSRF on it alone), static assets,
the templates, the session store, and the paths the API-key middleware lets through.

Sessions and CSRF tokens belong to the pages: the router carries their middleware, so the JSON API
keeps its Bearer keys and never sees a CSRF check. Both are shared by every process of the service
through its database: the sessions are rows (`session_store`), and the CSRF secret is read at start
(`shared_secret`; until then a process-local one, which no served request ever uses). Its digest
names the cookie, so a browser holding a token of another secret (the database was replaced) gets a
new one rather than failing every form until the cookie is cleared (README, "Pages").
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig

from app.context import AppContext
from app.http.problems import STATUS_BY_KIND, problem
from app.http.problems import exception_handlers as problem_handlers
from app.pages import i18n
from app.pages.agency_desk import AgencyDeskController
from app.pages.bank_desk import BankDeskController
from app.pages.catalogue import CatalogueController
from app.pages.clearing_desk import ClearingDeskController
from app.pages.login import LoginController
from app.pages.rendering import language, page, template_config
from app.pages.room import RoomController
from app.pages.sessions import SESSION_STORE, session_config
from app.pages.shared_secret import shared_secret
from transfer.kernel.errors import DomainError, ErrorKind

STATIC = Path(__file__).parent / "static"
# A page session lasts a working day, renewed on every page (house setting: a desk left open
# overnight logs in again).
SESSION_MAX_AGE_S = 12 * 3_600
# Paths the API-key middleware lets through: the pages check their own session. (The room's
# live stream, GET /api/v1/auctions/{id}/events, is one of the API's anonymous reads.)
OPEN_PATHS = (
    r"^/$",
    r"^/auctions(/|$)",
    r"^/login$",
    r"^/logout$",
    r"^/lang/",
    r"^/desk/",
    r"^/static/",
)


CSRF_SECRET = "pages_csrf"


class _StartSignedCSRF(CSRFConfig):
    """One config for the app, signed at start: Litestar deep-copies a router (and its middleware's
    arguments) when it registers it, and the copy would keep the placeholder secret."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _StartSignedCSRF:
        return self


def _sign_with(csrf: CSRFConfig, secret: str) -> None:
    csrf.secret = secret
    csrf.cookie_name = f"ipx_csrf_{hashlib.sha256(secret.encode()).hexdigest()[:8]}"


@dataclass(frozen=True, slots=True)
class PageWiring:
    route_handlers: list[Any]
    template_config: TemplateConfig[Any]
    stores: dict[str, Any]
    open_paths: tuple[str, ...]
    csrf: CSRFConfig

    async def start(self, ctx: AppContext) -> None:
        """Before the first request: the CSRF secret every process shares (the middleware reads
        the config on each request)."""
        _sign_with(self.csrf, await shared_secret(ctx, CSRF_SECRET))


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _html_or_problem(status: int, message: Callable[[Request[Any, Any, Any], Any], str]) -> Any:
    """A refusal as a page for a browser navigating; as the API's problem document for a script
    (the room's fetch asks for JSON) or any other client, so every 4xx names its field and reason."""

    def handle(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
        if not _wants_html(request):
            api_handler = next(problem_handlers[k] for k in type(error).__mro__ if k in problem_handlers)
            return api_handler(request, error)  # type: ignore[no-any-return]
        code = getattr(error, "status_code", None) or status
        if isinstance(error, DomainError):
            code = STATUS_BY_KIND[error.kind]
        return page(request, "error.html.j2", None, status_code=code, message=message(request, error))

    return handle


def _t(request: Request[Any, Any, Any]) -> Callable[..., str]:
    return i18n.translator(language(request))


_csrf_page = _html_or_problem(403, lambda request, _: _t(request)("csrf_failed"))


def _csrf_refusal(request: Request[Any, Any, Any], error: PermissionDeniedException) -> Response[Any]:
    """The CSRF middleware's refusal (no token, or not this browser's): the 403 a form meets. The
    room's script posts for JSON and shows the detail, so the problem document (the API's status,
    type and code) carries the page's sentence, not the middleware's English."""
    if _wants_html(request):
        page_answer: Response[Any] = _csrf_page(request, error)
        return page_answer
    return problem(request, error.status_code, "forbidden", _t(request)("csrf_failed"), headers=error.headers)


def _domain_message(request: Request[Any, Any, Any], error: DomainError) -> str:
    # An id that can name nothing (0, -1, past 64 bits) is, to a person, a page that is not there.
    missing = error.kind is ErrorKind.NOT_FOUND or error.code == "id_out_of_range"
    return _t(request)("not_found") if missing else error.message


def browser_aware_handlers(
    api_handlers: dict[type[Exception] | int, Any],
) -> dict[type[Exception] | int, Any]:
    """The app's handlers, but a browser navigating to a path no route matches (a mistyped id,
    /auctions/abc) gets the error page in its language, not the API's JSON."""
    api_http_error = api_handlers[HTTPException]

    def handle(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
        if error.status_code == 404 and _wants_html(request) and not request.url.path.startswith("/api/"):
            return page(request, "error.html.j2", None, status_code=404, message=_t(request)("not_found"))
        return api_http_error(request, error)  # type: ignore[no-any-return]

    return {**api_handlers, HTTPException: handle}


def _http_message(request: Request[Any, Any, Any], error: HTTPException) -> str:
    return _t(request)("not_found") if error.status_code == 404 else str(error.detail)


def page_wiring(session_store: Store) -> PageWiring:
    csrf = _StartSignedCSRF(secret=secrets.token_urlsafe(32), cookie_httponly=True, cookie_samesite="lax")
    _sign_with(csrf, csrf.secret)
    pages = Router(
        path="/",
        route_handlers=[
            CatalogueController,
            RoomController,
            LoginController,
            ClearingDeskController,
            BankDeskController,
            AgencyDeskController,
        ],
        middleware=[
            session_config(SESSION_MAX_AGE_S).middleware,
            DefineMiddleware(CSRFMiddleware, config=csrf),
        ],
        exception_handlers={
            DomainError: _html_or_problem(422, _domain_message),
            PermissionDeniedException: _csrf_refusal,
            ValidationException: _html_or_problem(400, _http_message),
            HTTPException: _html_or_problem(400, _http_message),
        },
        # No other site may frame a page: a framed room would let it steer the one-click bids.
        response_headers=[
            ResponseHeader(name="X-Frame-Options", value="DENY"),
            ResponseHeader(name="Content-Security-Policy", value="frame-ancestors 'none'"),
        ],
        include_in_schema=False,
    )
    static = create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False)
    return PageWiring(
        route_handlers=[pages, static],
        template_config=template_config(),
        stores={SESSION_STORE: session_store},
        open_paths=OPEN_PATHS,
        csrf=csrf,
    )
