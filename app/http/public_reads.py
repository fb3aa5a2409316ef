"""Reads anyone may make without an API key (the public catalogue: judicial auctions are 公开, so
anyone may look before registering), and how the OpenAPI document says which routes need a key.

A GET handler opts in with one argument: `security=ANONYMOUS_READ`. A request to it that carries
no `Authorization` header reaches the handler with no user (`request.user` is None) and gets the
public view; a request that carries one is authenticated as everywhere else, so a wrong key is
still a 401 and a key holder still sees what its key shows. Every other route needs a key.

The marker is the route's OpenAPI security requirement itself: the empty requirement `{}` is
OpenAPI's "no credentials", listed beside the app-wide API key requirement, so the document says
"key optional" for exactly the routes the middleware (app/http/auth.py) lets through without one,
and the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

API_KEY_SCHEME = "ApiKey"
# The app-wide requirement: every operation needs a key unless its handler adds ANONYMOUS_READ.
API_KEY_REQUIRED: tuple[SecurityRequirement, ...] = ({API_KEY_SCHEME: []},)
ANONYMOUS_READ: tuple[SecurityRequirement, ...] = ({},)
SECURITY_COMPONENTS = Components(
    security_schemes={
        API_KEY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="Authorization: Bearer <api key> (keys are shown once, at creation)",
        )
    }
)
# Only reads may be anonymous: a marker on a mutating route is ignored (and a test refuses it).
READ_METHODS = frozenset({"GET", "HEAD"})


def is_anonymous_read(handler: object) -> bool:
    """The route handler declares ANONYMOUS_READ (its own or a layer's security lists `{}`)."""
    return isinstance(handler, HTTPRouteHandler) and any(
        not requirement for requirement in handler.resolve_security()
    )


def admits_anonymous(scope: Mapping[str, Any]) -> bool:
    """A request without a key may go on to this route, as an anonymous reader."""
    return scope.get("method") in READ_METHODS and is_anonymous_read(scope.get("route_handler"))
