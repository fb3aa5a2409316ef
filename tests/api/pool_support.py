"""Helpers for buyout and pool API tests: an agency with a pool, offers, accepts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import post_ok


class AgencyDesk:
    """An operating agency's side of the API, on top of a disposal desk."""

    def __init__(self, desk: DisposalDesk) -> None:
        self.desk = desk
        self.http: httpx.AsyncClient = desk.http

    async def agency(self, funds: str = "5000000.00", name: str | None = None) -> tuple[int, dict[str, str]]:
        return await self.desk.market.participant(["agency"], funds=funds, name=name)

    async def pool(self, agency: dict[str, str], name: str = "Battery patents") -> dict[str, Any]:
        return dict(await post_ok(self.http, "/api/v1/pools", {"name": name}, agency))

    def offer_body(
        self, pool_id: int, price: str, valid_for_s: int = 90 * DAY_S, **extra: Any
    ) -> dict[str, Any]:
        valid_until = self.desk.clock() + timedelta(seconds=valid_for_s)
        return {"price": price, "pool_id": pool_id, "valid_until": valid_until.isoformat(), **extra}

    async def offer(
        self, case_id: int, agency: dict[str, str], pool_id: int, price: str, **extra: Any
    ) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/disposals/{case_id}/buyout-offers",
            json=self.offer_body(pool_id, price, **extra),
            headers=agency,
        )

    async def offer_ok(
        self, case_id: int, agency: dict[str, str], pool_id: int, price: str, **extra: Any
    ) -> dict[str, Any]:
        response = await self.offer(case_id, agency, pool_id, price, **extra)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def accept(self, offer_id: int, bank: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"/api/v1/buyout-offers/{offer_id}/accept", headers=bank)

    async def withdraw(self, offer_id: int, agency: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"/api/v1/buyout-offers/{offer_id}/withdraw", headers=agency)

    async def offers(self, case_id: int, viewer: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.http.get(f"/api/v1/disposals/{case_id}/buyout-offers", headers=viewer)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def pool_view(self, pool_id: int, viewer: dict[str, str]) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/pools/{pool_id}", headers=viewer)
        assert response.status_code == 200, response.text
        return dict(response.json())


def refusal(response: httpx.Response) -> tuple[int, str, str | None]:
    """A refusal's status, code and the field its problem document names."""
    body = response.json()
    errors = body.get("errors") or [{}]
    return response.status_code, body.get("code"), errors[0].get("field")
