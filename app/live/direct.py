"""Writing a feed's chunk straight to a watcher's connection, below the ASGI `send`.

At thousands of watchers the fan-out's cost is not the socket write but what surrounds it: per
watcher and per flush, a future resolved, a task woken, the middleware's send wrapper and the
server's send coroutine. When the server is uvicorn's httptools protocol, the feed's flush writes
the shared, already-framed chunk to each idle watcher's transport itself, in one pass. Anything
else (another server, a paused or closing connection, a response not yet started) is left to the
watcher's own task and the ASGI `send`, which keeps the flow control and the reconnect rule.

uvicorn's request cycle is not a public API, so its attributes are checked when a watcher starts
and a mismatch simply means no direct writes.
"""

from __future__ import annotations

from typing import Any

# RequestIdMiddleware, the outermost layer, leaves the server's own `send` here in scope["state"].
SERVER_SEND_KEY = "ipx.server_send"
_CYCLE_ATTRIBUTES = ("transport", "flow", "disconnected", "response_started", "response_complete")


class DirectWriter:
    __slots__ = ("_cycle", "_flow", "_transport")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._transport = cycle.transport
        self._flow = cycle.flow

    @classmethod
    def of(cls, scope: Any) -> DirectWriter | None:
        """The writer of this response's connection, once its start is sent; None when the
        server's send is not uvicorn's httptools cycle with a chunked response under way."""
        state = scope.get("state") if isinstance(scope, dict) else None
        send = state.get(SERVER_SEND_KEY) if isinstance(state, dict) else None
        cycle = getattr(send, "__self__", None)
        if cycle is None or type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
            return None
        if not all(hasattr(cycle, name) for name in _CYCLE_ATTRIBUTES):
            return None
        if getattr(cycle, "chunked_encoding", None) is not True or not cycle.response_started:
            return None
        if not hasattr(cycle.flow, "write_paused"):
            return None
        return cls(cycle)

    def writable(self) -> bool:
        """Idle and open: a paused (full) or closing connection goes back to the ASGI send."""
        cycle = self._cycle
        return not (
            self._flow.write_paused
            or cycle.disconnected
            or cycle.response_complete
            or self._transport.is_closing()
        )

    def write(self, framed: bytes) -> None:
        self._transport.write(framed)


def chunked(body: bytes) -> bytes:
    """One HTTP/1.1 chunk, framed as uvicorn frames a body with more to come."""
    return b"%x\r\n%b\r\n" % (len(body), body)
