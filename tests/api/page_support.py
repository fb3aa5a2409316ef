"""A browser-like HTTP client for page tests: its own cookie jar, CSRF tokens read from the forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.http.request_id import RequestIdMiddleware

HTML = {"Accept": "text/html,application/xhtml+xml"}
JSON = {"Accept": "application/json"}
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "the page has no CSRF token in a form"
    return found.group(1)


class Visitor:
    """One browser: cookies kept between requests, like a person's."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def page(self, path: str) -> httpx.Response:
        return await self.http.get(path, headers=HTML)

    async def token(self, path: str = "/login") -> str:
        response = await self.page(path)
        assert response.status_code == 200, response.text
        return csrf_token(response.text)

    async def log_in(self, api_key: str, next_path: str = "/") -> httpx.Response:
        token = await self.token()
        return await self.http.post(
            "/login",
            data={"api_key": api_key, "next": next_path, "_csrf_token": token},
            headers=HTML,
        )

    async def post_form(
        self, path: str, form: dict[str, str], *, from_page: str, accept: dict[str, str] = JSON
    ) -> httpx.Response:
        token = await self.token(from_page)
        return await self.http.post(path, data={**form, "_csrf_token": token}, headers=accept)

    async def state(self, auction_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/auctions/{auction_id}/state", headers=JSON)
        assert response.status_code == 200, response.text
        return dict(response.json())


@asynccontextmanager
async def visitor(app: RequestIdMiddleware) -> AsyncIterator[Visitor]:
    """A fresh browser on the app (whose lifespan the `client` fixture already runs)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ipx.test", timeout=60
    ) as http:
        yield Visitor(http)


def api_key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
