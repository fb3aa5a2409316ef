"""Watchers that fall behind or reconnect, against a real server process (SSE streams are endless):
a stalled watcher is cut off with `reconnect` while the others get everything, and a reconnect
with Last-Event-ID gets exactly the events it missed, in the public view."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.db import Database
from tests.api.test_live_events import _participant, _registered_auction, _running_server
from tests.api.test_public_catalogue import PRIVATE_KEYS, _keys

Frame = tuple[str | None, str, str]  # id, event, data as sent
STALL_BACKLOG = 10
SEND_BUFFER_BYTES = 4_096
# Enough bids that a watcher which stopped reading fills its socket's buffers (a small receive
# window on our side, the server's bounded send buffer, its transport's 64 KiB) and the backlog,
# with a margin: one bidder bids here, so each bid after the first is the leader's and its event
# carries no amount, a few bytes shorter (400 bids were too close to the buffers' size).
STALL_BIDS = 700


async def _frames(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    """Server-sent events as (id, event, data), one per blank-line-terminated block."""
    fields: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if fields:
                yield fields.get("id"), fields["event"], fields["data"]
            fields = {}
        else:
            name, _, value = line.partition(": ")
            fields[name] = value


async def _watch(
    http: httpx.AsyncClient, auction_id: int, until: Any, headers: dict[str, str] | None = None, **params: Any
) -> list[Frame]:
    """Frames of one connection, up to and including the first that `until` accepts."""
    got: list[Frame] = []
    async with http.stream(
        "GET", f"/api/v1/auctions/{auction_id}/events", headers=headers, params=params
    ) as s:
        assert s.status_code == 200, await s.aread()
        async for frame in _frames(s.aiter_lines()):
            got.append(frame)
            if until(frame):
                return got
    return got


def _bid_ids(frames: list[Frame]) -> list[int]:
    return [int(i) for i, name, _ in frames if name == "bid" and i is not None]


def _seen(sequence: int, name: str = "bid") -> Any:
    return lambda frame: frame[1] == name and frame[0] == str(sequence)


@pytest.fixture
async def server(database: Database) -> AsyncIterator[str]:
    async with _running_server(
        database,
        IPX_LIVE_WATCHER_BACKLOG=str(STALL_BACKLOG),
        IPX_SOCKET_SEND_BUFFER_BYTES=str(SEND_BUFFER_BYTES),
    ) as base:
        yield base


async def test_a_reconnect_with_last_event_id_gets_exactly_the_missed_events_then_the_live_ones(
    server: str,
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        # Every bid falls in the last window and moves the end; a reserve met on the fourth bid.
        auction, a = await _registered_auction(
            http, "Patent ZL202210000001.1", starts_in_s=0.2, ends_in_s=120,
            extension_window_s=3600, extension_s=600, reserve_price="1730.00",
        )  # fmt: skip
        _, clearing = await _participant(http, ["clearing"], None, None)
        _, b = await _participant(http, ["bidder"], "10000.00", clearing)
        await http.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=b)
        await asyncio.sleep(0.3)
        everything = asyncio.create_task(_watch(http, auction["id"], _seen(7, "extended")))
        await asyncio.sleep(0.5)
        bids = [
            (a, {"amount": "1000.00", "max_amount": "1650.00"}),
            (b, {"amount": "1100.00"}),  # a's proxy keeps the lead at 1110.00
            (b, {"amount": "1700.00"}),  # b leads; the reserve is not met
            (a, {"amount": "1800.00", "max_amount": "2000.00"}),  # a leads; reserve met
            (a, {"amount": "2050.00"}),  # the leader raises its own hidden maximum
            (b, {"amount": "1900.00"}),
        ]
        for key, body in bids:
            answer = await http.post(f"/api/v1/auctions/{auction['id']}/bids", json=body, headers=key)
            assert answer.status_code == 201, answer.text
        a_view = (await http.get(f"/api/v1/auctions/{auction['id']}", headers=a)).json()

        resumed = asyncio.create_task(
            _watch(http, auction["id"], _seen(7, "extended"), headers={"Last-Event-ID": "2"})
        )
        from_start = asyncio.create_task(_watch(http, auction["id"], _seen(6, "extended"), since=0))
        await asyncio.sleep(1.0)
        answer = await http.post(
            f"/api/v1/auctions/{auction['id']}/bids", json={"amount": "2100.00"}, headers=b
        )
        assert answer.status_code == 201, answer.text
        live, caught_up, replayed = await asyncio.wait_for(
            asyncio.gather(everything, resumed, from_start), 15
        )
        history = (await http.get(f"/api/v1/auctions/{auction['id']}/bids")).json()["items"]

    # The live stream: hello at sequence 0, then a bid and its extension per bid.
    assert live[0][:2] == ("0", "hello")
    assert [(i, name) for i, name, _ in live[1:]] == [
        (str(s), n) for s in range(1, 8) for n in ("bid", "extended")
    ]
    # Resumed after 2: the hello of the lot as it stood (sequence 6), bids 3 to 6 as they went out
    # live, byte for byte, then bid 7 live, once.
    assert caught_up[0][:2] == ("6", "hello")
    assert caught_up[1:] == live[5:]
    assert replayed[0][:2] == ("6", "hello")
    assert replayed[1:] == live[1:13]
    payloads = [json.loads(data) for _, name, data in live if name == "bid"]
    assert [(p["leading_paddle"], p["current_price"], p["reserve_met"]) for p in payloads] == [
        (1, "1000.00", False),
        (1, "1110.00", False),
        (2, "1700.00", False),
        (1, "1800.00", True),
        (1, "1800.00", True),
        (1, "1910.00", True),
        (2, "2100.00", True),
    ]
    # The leader's own bid only raised its maximum: its amount is that maximum, and is not shown,
    # live, caught up or in the history; the leader alone sees it.
    public_amounts = ["1000.00", "1100.00", "1700.00", "1800.00", None, "1900.00", "2100.00"]
    assert [p["amount"] for p in payloads] == public_amounts
    assert [(i["paddle"], i["amount"], i["price_after"]) for i in history][3:5] == [
        (1, "1800.00", "1800.00"),
        (1, None, "1800.00"),
    ]
    assert [i["amount"] for i in history] == public_amounts
    assert a_view["you"]["your_max"] == "2050.00"
    for _, _, data in [*live, *caught_up, *replayed]:
        assert not _keys(json.loads(data)) & PRIVATE_KEYS
        for secret in ("1650.00", "2000.00", "2050.00", "1730.00"):
            assert secret not in data


async def test_a_resume_point_that_is_no_event_of_the_lot_is_refused(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        auction, _ = await _registered_auction(http, "Trademark 11223344", starts_in_s=0.2, ends_in_s=3600)
        path = f"/api/v1/auctions/{auction['id']}/events"
        for headers, code in (({"Last-Event-ID": "abc"}, "invalid_last_event_id"),
                              ({"Last-Event-ID": "1"}, "last_event_id_ahead")):  # fmt: skip
            answer = await http.get(path, headers=headers)
            assert (answer.status_code, answer.json()["code"]) == (422, code)


async def test_a_sealed_lot_has_no_ids_and_nothing_to_catch_up_before_its_close(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        _, clearing = await _participant(http, ["clearing"], None, None)
        _, bank = await _participant(http, ["bank"], None, None)
        now = datetime.now(UTC)
        created = await http.post(
            "/api/v1/auctions",
            json={
                "lot": {"title": "Design patent 2023300001234"}, "kind": "sealed_first_price",
                "start_price": "1000.00", "increment": "10.00", "deposit": "100.00",
                "starts_at": (now + timedelta(seconds=0.2)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
            },
            headers=bank,
        )  # fmt: skip
        auction = created.json()
        for amount in ("1300.00", "1400.00"):
            _, bidder = await _participant(http, ["bidder"], "10000.00", clearing)
            await http.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=bidder)
            await asyncio.sleep(0.3)
            answer = await http.post(
                f"/api/v1/auctions/{auction['id']}/bids", json={"amount": amount}, headers=bidder
            )
            assert answer.status_code == 201, answer.text
        got = await _watch(
            http, auction["id"], lambda frame: frame[1] == "hello", headers={"Last-Event-ID": "0"}
        )

    [(event_id, name, data)] = got
    assert (event_id, name) == (None, "hello")
    hello = json.loads(data)["auction"]
    assert (hello["current_price"], hello["bid_count"], hello["leading_paddle"]) == (None, None, None)
    assert "1300.00" not in data and "1400.00" not in data


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """An HTTP/1.1 chunked body to its end."""
    body = b""
    while True:
        line = (await reader.readline()).strip()
        if not line:  # the end of a chunk already read into
            continue
        size = int(line, 16)
        if size == 0:
            await reader.readline()
            return body
        body += await reader.readexactly(size)
        await reader.readline()


async def test_a_stalled_watcher_is_cut_off_with_reconnect_and_resumes_where_it_was_cut(
    server: str,
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        auction, bidder = await _registered_auction(
            http, "Patent ZL202310000002.2", starts_in_s=0.2, ends_in_s=3600
        )
        await asyncio.sleep(0.3)
        normal = asyncio.create_task(_watch(http, auction["id"], _seen(STALL_BIDS)))

        # The stalled watcher: a tiny receive window, and after the hello it reads nothing.
        host, port = server.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        writer.write(f"GET /api/v1/auctions/{auction['id']}/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        assert b"event: hello" in await reader.readuntil(b"\n\n")

        slowest_s = 0.0
        for index in range(STALL_BIDS):
            started = time.perf_counter()
            answer = await http.post(
                f"/api/v1/auctions/{auction['id']}/bids",
                json={"amount": f"{1000 + 10 * index}.00"},
                headers=bidder,
            )
            slowest_s = max(slowest_s, time.perf_counter() - started)
            assert answer.status_code == 201, answer.text
        # The normal watcher has every bid while the stalled one still reads nothing.
        got = await asyncio.wait_for(normal, 15)
        assert _bid_ids(got) == list(range(1, STALL_BIDS + 1))
        assert slowest_s < 1.0  # no bid waited on the stalled socket

        body = await asyncio.wait_for(_read_chunked(reader), 15)
        writer.close()
        stalled: list[Frame] = []

        async def lines() -> AsyncIterator[str]:
            for line in body.decode().split("\n"):
                yield line

        stalled = [frame async for frame in _frames(lines())]
        *sent, (_, name, data) = stalled
        cut_at = json.loads(data)["last_event_id"]
        assert name == "reconnect"
        assert _bid_ids(sent) == list(range(1, cut_at + 1))
        assert cut_at < STALL_BIDS - STALL_BACKLOG

        async with httpx.AsyncClient(base_url=server, timeout=30) as again:
            resumed = await _watch(
                again, auction["id"], _seen(STALL_BIDS), headers={"Last-Event-ID": str(cut_at)}
            )
    assert resumed[0][:2] == (str(STALL_BIDS), "hello")
    assert resumed[1:] == [frame for frame in got if frame[1] == "bid" and int(frame[0] or 0) > cut_at]
