"""Request ids: taken from X-Request-ID when sane, else generated; echoed back and logged."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import structlog

from app.live.direct import SERVER_SEND_KEY

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
log = structlog.get_logger("ipx.access")


def request_id_of(scope: Any) -> str | None:
    """The id RequestIdMiddleware gave this request (None outside it)."""
    request_id = scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def _request_ids() -> Iterator[str]:
    """32 hex digits: a random prefix per process, then a counter. Unique across processes and
    restarts, and a tenth of the cost of uuid4() on the bid path."""
    prefix = os.urandom(8).hex()
    for number in itertools.count(1):
        yield f"{prefix}{number:016x}"


class RequestIdMiddleware:
    """Raw ASGI middleware: the cheapest place to bind the id before any handler runs."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._ids = _request_ids()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan and websockets pass straight through
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if _SAFE_REQUEST_ID.match(value):
                    request_id = value.decode()
                break
        if request_id is None:
            request_id = next(self._ids)
        # A fresh dict per request: a server may hand every request the same lifespan state.
        state = scope["state"] = {**scope.get("state", {}), "request_id": request_id}
        # An event stream is a GET: the server's own send goes along for the live feeds' direct
        # writes (app/live/direct.py); the bids' POSTs are left exactly as they were.
        streams = scope["method"] == "GET"
        if streams:
            state[SERVER_SEND_KEY] = send
        # Each request runs in a task of its own, with its own copy of the context: binding here
        # cannot leak into another request, so there is nothing to clear first.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        access_log = log.is_enabled_for(logging.INFO)
        started = time.perf_counter() if access_log else 0.0
        status_code = 500
        id_header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Any) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # uvicorn's send is a method of the request cycle that holds this scope: left in the
            # state it makes the request a reference cycle, freed only by the garbage collector,
            # whose pauses land on the bids' tail.
            if streams:
                state.pop(SERVER_SEND_KEY, None)
            if access_log:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
