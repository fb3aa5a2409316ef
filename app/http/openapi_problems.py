"""The refusals every operation can give, stated in the OpenAPI document with the problem schema.

Refusals come from layers a handler's signature does not show (the key middleware, the bounds
middleware, the role guards, the domain errors mapped in problems.py), so Litestar's generator,
which reads signatures, documents none of them but a 400 of its own shape that the API never
sends. One pass over the route table after the app is built states them from what each route is:
every route can answer 400 (Litestar's own refusal of a request it cannot parse), 401 (a wrong
key, even on an anonymous read), 403, 404, 422 and 429; a route with a body also 413 (too large);
a route that writes also 409.
A generated client then knows every answer, and the fuzzer's status and schema checks hold.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from app.http.openapi_bounds import BoundedOperation
from app.http.problems import PROBLEM_MEDIA_TYPE, TITLES

EVERY_ROUTE = (400, 401, 403, 404, 422, 429)
WITH_A_BODY = (413,)
WRITES = (409,)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ProblemFieldError(msgspec.Struct):
    """One field's refusal: which field, and why."""

    field: str
    reason: str


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem-details document, as every refusal is sent (app/http/problems.py); some
    refusals add members of their own (a bid's nearest valid amounts, an approval's id)."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: list[ProblemFieldError] | msgspec.UnsetType = msgspec.UNSET
    request_id: str | msgspec.UnsetType = msgspec.UNSET


def refusal_statuses(handler: HTTPRouteHandler) -> tuple[int, ...]:
    """The problem statuses this route can answer with."""
    statuses = set(EVERY_ROUTE)
    if "data" in handler.parsed_fn_signature.parameters:
        statuses.update(WITH_A_BODY)
    if handler.http_methods & WRITE_METHODS:
        statuses.update(WRITES)
    return tuple(sorted(statuses))


def _problem_spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=TITLES.get(status, "Error"),
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


def document_refusals(app: Litestar, *, path_prefix: str = "/api/") -> None:
    """State each API route's refusals, and its parameters' bounds (app/http/openapi_bounds.py),
    on its handler, before the document is first built."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(path_prefix):
            continue
        for handler, _ in route.route_handler_map.values():
            if not handler.resolve_include_in_schema():
                continue
            declared = dict(handler.responses or {})
            for status in refusal_statuses(handler):
                # Replaces the generator's own 400, whose shape is not what the API sends.
                declared.setdefault(status, _problem_spec(status))
            handler.responses = declared
            handler.operation_class = BoundedOperation
    # The document is built lazily and cached; drop any copy built before the pass.
    app.plugins.get(OpenAPIPlugin)._openapi = None
