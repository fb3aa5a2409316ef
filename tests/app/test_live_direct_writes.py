"""The feed's direct writes (app/live/direct.py): idle watchers written by the flush itself, the
others left to their task and the ASGI send; and the writer against a real uvicorn connection."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from typing import Any

import httpx
import pytest
import uvicorn

from app.http.request_id import RequestIdMiddleware
from app.live.direct import DirectWriter, chunked
from tests.app.test_live_feed import _bid, _Client, _feed, _Feeds, _settle, _stream


class _Writer:
    """A connection as the feed sees it: writable unless paused, and what was written to it."""

    def __init__(self) -> None:
        self.paused = False
        self.written: list[bytes] = []

    def writable(self) -> bool:
        return not self.paused

    def write(self, framed: bytes) -> None:
        self.written.append(framed)


def _unchunked(framed: list[bytes]) -> bytes:
    body = b""
    for chunk in framed:
        size, rest = chunk.split(b"\r\n", 1)
        assert rest.endswith(b"\r\n") and len(rest) == int(size, 16) + 2, chunk
        body += rest[:-2]
    return body


async def test_idle_watchers_are_written_by_the_flush_with_one_shared_chunk_and_stay_waiting() -> None:
    feed, feeds = _feed(backlog=50), _Feeds()
    clients = [_Client(), _Client()]
    tasks = [_stream(feed, client, feeds) for client in clients]
    await _settle()
    writers = []
    for watcher in list(feed.waiting):
        writer = _Writer()
        watcher.writer = writer  # type: ignore[assignment]
        writers.append(writer)
    assert len(writers) == 2
    for sequence in (1, 2, 3):
        feed.append(_bid(sequence))
    await _settle()
    # Both written by the flush, the same framed bytes object; no ASGI body after the hello.
    assert [len(w.written) for w in writers] == [1, 1]
    assert writers[0].written[0] is writers[1].written[0]
    assert _unchunked(writers[0].written).count(b"event: bid") == 3
    assert [len(c.bodies) for c in clients] == [1, 1]
    assert len(feed.waiting) == 2 and all(not t.done() for t in tasks)

    # A paused connection goes back to its task: it gets the next chunk through the ASGI send.
    writers[1].paused = True
    feed.append(_bid(4))
    await _settle()
    assert len(writers[0].written) == 2 and len(writers[1].written) == 1
    assert b"id: 4\n" in clients[1].bodies[-1] and len(clients[0].bodies) == 1
    # ... and once its send returns it waits on the feed again, written directly when writable.
    writers[1].paused = False
    feed.append(_bid(5))
    await _settle()
    assert b"id: 5\n" in _unchunked(writers[1].written[-1:])
    ids = b"".join(
        [_unchunked(writers[1].written[:1]), clients[1].bodies[-1], _unchunked(writers[1].written[1:])]
    )
    assert [line for line in ids.split(b"\n") if line.startswith(b"id: ")] == [
        b"id: %d" % n for n in range(1, 6)
    ]
    for client in clients:
        client.disconnected.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert feeds.left == 2


def test_a_send_that_is_not_uvicorns_gives_no_direct_writer() -> None:
    async def send(message: Any) -> None:
        return None

    assert DirectWriter.of({"state": {"ipx.server_send": send}}) is None
    assert DirectWriter.of({"state": {}}) is None
    assert DirectWriter.of(None) is None


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_on_a_real_uvicorn_connection_a_direct_write_is_a_well_framed_chunk(free_port: int) -> None:
    found: list[DirectWriter | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"event: hello\ndata: {}\n\n", "more_body": True})
        writer = DirectWriter.of(scope)
        found.append(writer)
        if writer is not None and writer.writable():
            writer.write(chunked(b"id: 1\nevent: bid\ndata: {}\n\n"))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    config = uvicorn.Config(
        RequestIdMiddleware(app),
        host="127.0.0.1",
        port=free_port,
        http="httptools",
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{free_port}/api/v1/auctions/1/events")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 5)
    assert found and found[0] is not None, (
        "uvicorn's httptools cycle no longer has what the direct writes need"
    )
    assert response.status_code == 200
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b"event: hello\ndata: {}\n\nid: 1\nevent: bid\ndata: {}\n\n"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_finished_request_leaves_no_reference_cycle_through_the_servers_send(method: str) -> None:
    """uvicorn's send is a method of the cycle that holds the scope. A GET (an event stream) has it
    in the scope's state while it runs, a POST (a bid) never; after either, nothing is left that
    only the garbage collector could free."""

    class _Cycle:
        def __init__(self, scope: dict[str, Any]) -> None:
            self.scope = scope
            self.sent: list[dict[str, Any]] = []

        async def send(self, message: dict[str, Any]) -> None:
            self.sent.append(message)

    seen_during: list[object] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen_during.append(scope["state"].get("ipx.server_send"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/api/v1/auctions/1", "headers": []}
    cycle = _Cycle(scope)
    alive = weakref.ref(cycle)
    gc.disable()
    try:
        await RequestIdMiddleware(app)(scope, None, cycle.send)
        if method == "GET":
            assert getattr(seen_during[0], "__self__", None) is cycle  # there while it ran
        else:
            assert seen_during == [None]
        assert [m["type"] for m in cycle.sent] == ["http.response.start", "http.response.body"]
        assert "ipx.server_send" not in scope["state"]
        seen_during.clear()
        del cycle, scope
        assert alive() is None, "the request's objects wait for the garbage collector"
    finally:
        gc.enable()
