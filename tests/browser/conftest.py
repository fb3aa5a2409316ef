"""Browser tests: Playwright driving Debian's Chromium against a real server on a free port.

One server (SQLite, scheduler ticking every 0.2 s so lots close promptly) and one browser serve
the whole module; each test opens its own browser contexts (separate cookie jars, as separate
people). The browser reaches the server through a TCP proxy the test can cut, to drop the live
stream the way a network does, or stall, to freeze it the way a network also does. Screenshots at 1366 × 768 go to tests/browser/artefacts/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
CHROMIUM = os.environ.get("IPX_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ADMIN_KEY = "browser-test-admin-key-0123456789"
VIEWPORT = {"width": 1366, "height": 768}
# Playwright's own download is unreachable here: Debian's Chromium, with the flags that keep it from
# calling home (without the background-networking ones it stalls on a closed network). Playwright
# gives every launch a fresh temporary profile (--user-data-dir) itself, and refuses one passed here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Passage:
    """One browser connection through the proxy: the request it last carried, whether it stalls."""

    __slots__ = ("stalled", "target")

    def __init__(self) -> None:
        self.target = ""
        self.stalled = False


_REQUEST_LINE = re.compile(rb"^[A-Z]+ (\S+) HTTP/")


class CuttableProxy:
    """Forwards the browser's connections to the server; cut() drops every one of them at once and
    refuses new ones until restore(), as a network outage would. stall() freezes the connections
    open now without closing them (a mobile hand-over, a buffering proxy): what they carry is
    swallowed, in both directions; new connections pass."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.refusing = False
        self.live: set[asyncio.StreamWriter] = set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._passages: set[_Passage] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()

    def cut(self) -> None:
        self.refusing = True
        for writer in list(self.live):
            writer.transport.abort()
        self.live.clear()

    def restore(self) -> None:
        self.refusing = False

    def stall(self, path_contains: str = "") -> int:
        """Freezes the open connections whose last request's path contains `path_contains` (all by
        default); returns how many. A frozen connection stays frozen until one side closes it."""
        frozen = [p for p in self._passages if path_contains in p.target]
        for passage in frozen:
            passage.stalled = True
        return len(frozen)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.live.update((writer, up_writer))
        passage = _Passage()
        self._passages.add(passage)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, upstream: bool) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65_536):
                    if upstream and (request := _REQUEST_LINE.match(data)):
                        passage.target = request.group(1).decode(errors="replace")
                    if passage.stalled:
                        continue  # swallowed: the connection stays open, nothing gets through
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
        self._passages.discard(passage)
        self.live.discard(writer)
        self.live.discard(up_writer)


class Api:
    """The JSON API of the server under test, for setting the scene (as its users' systems would)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        self._clearing: tuple[int, str] | None = None
        self._checker: tuple[int, str] | None = None

    async def participant(self, roles: list[str], name: str, funds: str | None = None) -> tuple[int, str]:
        response = await self.http.post(
            "/api/v1/participants", json={"name": name, "roles": roles}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        created = response.json()
        if funds is not None:
            _, clearing_key = await self.clearing()
            funded = await self.http.post(
                f"/api/v1/participants/{created['id']}/funds",
                json={"amount": funds, "reference": f"ref-{uuid.uuid4().hex}"},
                headers=self.bearer(clearing_key),
            )
            assert funded.status_code == 201, funded.text
            if funded.json()["status"] == "awaiting_approval":
                # Past dual control a second clearing participant approves the receipt.
                _, checker_key = await self.checker()
                approved = await self.http.post(
                    f"/api/v1/approvals/{funded.json()['approval_id']}/approve",
                    headers=self.bearer(checker_key),
                )
                assert approved.status_code == 200, approved.text
        return int(created["id"]), str(created["api_key"])

    async def clearing(self) -> tuple[int, str]:
        if self._clearing is None:
            self._clearing = await self.participant(["clearing"], "清算中心 Clearing desk")
        return self._clearing

    async def checker(self) -> tuple[int, str]:
        if self._checker is None:
            self._checker = await self.participant(["clearing"], "清算中心 Clearing checker")
        return self._checker

    @staticmethod
    def bearer(api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    async def auction(
        self, bank_key: str, title: str, *, starts_in_s: float, ends_in_s: float, **rules: Any
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        body = {
            "lot": {"title": title, **rules.pop("lot", {})},
            "kind": "english",
            "start_price": "1000.00",
            "increment": "10.00",
            "deposit": "100.00",
            "starts_at": (now + timedelta(seconds=starts_in_s)).isoformat(),
            "ends_at": (now + timedelta(seconds=ends_in_s)).isoformat(),
            **rules,
        }
        response = await self.http.post("/api/v1/auctions", json=body, headers=self.bearer(bank_key))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def register(self, auction_id: int, bidder_key: str) -> int:
        response = await self.http.post(
            f"/api/v1/auctions/{auction_id}/registrations", headers=self.bearer(bidder_key)
        )
        assert response.status_code == 201, response.text
        return int(response.json()["paddle"])

    async def bid(self, auction_id: int, bidder_key: str, amount: str) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/auctions/{auction_id}/bids", json={"amount": amount}, headers=self.bearer(bidder_key)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: scripts/test installs Debian's chromium (scripts/_chromium.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Extra IPX_* settings for the module's server; a module overrides this fixture to change them
    (e.g. a short IPX_LIVE_HEARTBEAT_S)."""
    return {}


@pytest.fixture(scope="module")
def server_url(server_env: dict[str, str]) -> Any:
    folder = tempfile.mkdtemp(prefix="ipx-browser-")
    port = _free_port()
    env = {
        **os.environ,
        "IPX_DATABASE_URL": f"sqlite:///{folder}/browser.db",
        "IPX_PORT": str(port),
        "IPX_ADMIN_API_KEY": ADMIN_KEY,
        "IPX_AUCTION_MIN_DURATION_S": "0",
        "IPX_SCHEDULER_TICK_S": "0.2",
        "IPX_LOG_LEVEL": "WARNING",
        **server_env,
    }
    log = open(f"{folder}/server.log", "w")  # noqa: SIM115 (kept open for the server's life)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                pytest.fail(f"the server exited: {Path(folder, 'server.log').read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("the server did not answer /health")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def proxy(server_url: str) -> AsyncIterator[CuttableProxy]:
    forwarder = CuttableProxy(int(server_url.rsplit(":", 1)[1]))
    await forwarder.start()
    yield forwarder
    await forwarder.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def api(server_url: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        yield Api(http)


class People:
    """Browser contexts (one per person) on the proxy's address, closed after the test."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []

    async def person(self, api_key: str | None = None) -> Any:
        """A page of a new person; logged in through the login form when a key is given."""
        context = await self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT)
        self.contexts.append(context)
        page = await context.new_page()
        if api_key is not None:
            await page.goto("/login?next=/auctions")
            await page.get_by_label("API 密钥").fill(api_key)
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_url("**/auctions")
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def people(browser: Any, proxy: CuttableProxy) -> AsyncIterator[People]:
    crowd = People(browser, f"http://127.0.0.1:{proxy.port}")
    yield crowd
    await crowd.close()


async def screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
