"""Applies app/input_bounds.py to the path and query of every route, before any handler runs.

Registered once on the app, so a route added later is bounded without declaring anything: every
int path parameter must be an id, every int query parameter a 64-bit count or cursor (`offset` at
most MAX_OFFSET), every date or time in the calendar's range, and every string free of control
characters. Which query parameters are ints, dates or strings comes from the handler's own
signature (as Litestar itself reads it), once per handler. A value that does not parse at all is
left to Litestar's validation, which refuses it with its own 4xx.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Send

from app.http.input_bounds import check_date, check_datetime, check_id, check_query_int, check_text

# (query name, kind) for the parameters a handler reads from the query string.
QueryPlan = tuple[tuple[str, type], ...]
_CHECKED = (int, datetime, date, str)  # datetime before date: it is a date too


def _kind(annotation: Any, inner: list[Any]) -> type | None:
    candidates = [t for t in inner if t is not type(None)] if inner else [annotation]
    if len(candidates) != 1 or candidates[0] is bool or not isinstance(candidates[0], type):
        return None
    return next((kind for kind in _CHECKED if issubclass(candidates[0], kind)), None)


def query_plan(handler: HTTPRouteHandler, path_params: dict[str, Any]) -> QueryPlan:
    model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_params))  # type: ignore[arg-type]
    plan = []
    for parameter in model.expected_query_params:
        field = handler.parsed_fn_signature.parameters[parameter.field_name]
        inner = [t.annotation for t in field.inner_types] if field.is_optional else []
        kind = _kind(field.annotation, inner)
        if kind is not None:
            plan.append((parameter.field_alias, kind))
    return tuple(plan)


_PARSE_AND_CHECK: dict[type, tuple[Callable[[str], Any], Callable[[Any, str], object]]] = {
    int: (int, check_query_int),
    datetime: (datetime.fromisoformat, check_datetime),
    date: (date.fromisoformat, check_date),
}


def _check_query_value(name: str, kind: type, raw: str) -> None:
    if kind is str:
        check_text(raw, name)
        return
    parse, check = _PARSE_AND_CHECK[kind]
    try:
        value = parse(raw)
    except ValueError:
        return  # not a value of its type at all: Litestar's own validation refuses it
    check(value, name)


class InputBoundsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # One middleware per route; its handlers (one per method) are few.
        self._plans: dict[HTTPRouteHandler, QueryPlan] = {}

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path_params = scope["path_params"]
            for name, value in path_params.items():
                if type(value) is int:
                    # int() reads any script's digits ("٣" is 3); the rest of a path is ASCII.
                    check_id(value, name, ascii_digits=scope["path"].isascii())
                elif type(value) is str:
                    check_text(value, name)
            if scope["query_string"]:
                handler: HTTPRouteHandler = scope["route_handler"]
                plan = self._plans.get(handler)
                if plan is None:
                    plan = self._plans[handler] = query_plan(handler, path_params)
                if plan:
                    query = ASGIConnection(scope).query_params  # parsed once, kept for the handler
                    for name, kind in plan:
                        for raw in query.getall(name, ()):
                            _check_query_value(name, kind, raw)
        await self.app(scope, receive, send)
