"""Helpers for buyout and pool API tests: an agency with a pool, offers, accepts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.scheduler import seal_audit_events
from auction.operation.models import BuyoutCommitment, BuyoutOffer
from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import post_ok
from transfer import ledger
from transfer.models import LedgerTransfer


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


async def commitment(
    agencies: AgencyDesk, agency: dict[str, str], pool_id: int, budget: str, **overrides: Any
) -> httpx.Response:
    body = {
        "pool_id": pool_id,
        "kinds": ["invention_patent"],
        "price_bps_of_appraisal": 7500,
        "max_price_per_case": "800000.00",
        "budget": budget,
        "valid_until": (agencies.desk.clock() + timedelta(days=170)).isoformat(),
        **overrides,
    }
    return await agencies.http.post("/api/v1/buyout-commitments", json=body, headers=agency)


async def commitment_ok(
    agencies: AgencyDesk, agency: dict[str, str], pool_id: int, budget: str, **overrides: Any
) -> dict[str, Any]:
    response = await commitment(agencies, agency, pool_id, budget, **overrides)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def books_are_whole(desk: DisposalDesk) -> None:
    """The ledger sums to zero, the only pending holds are those of live offers and live
    commitments (each exactly its amount), and the audit chain verifies."""
    async with desk.context.database.read() as session:
        assert await ledger.ledger_sum_fen(session) == 0
        pending = dict(
            (
                await session.execute(
                    select(LedgerTransfer.id, LedgerTransfer.amount_fen).where(
                        LedgerTransfer.pending_status == "pending"
                    )
                )
            ).all()
        )
        # A commitment's hold_id is nullable (the query takes only those that have one).
        expected: dict[str | None, int] = dict(
            (
                await session.execute(
                    select(BuyoutOffer.hold_id, BuyoutOffer.price_fen).where(BuyoutOffer.state == "live")
                )
            ).all()
        )
        expected.update(
            (
                await session.execute(
                    select(BuyoutCommitment.hold_id, BuyoutCommitment.unheld_fen).where(
                        BuyoutCommitment.state == "live", BuyoutCommitment.hold_id.is_not(None)
                    )
                )
            ).all()
        )
    assert pending == expected
    await seal_audit_events(desk.context)
    report = (await desk.http.get("/api/v1/audit/verify", headers=desk.market.admin)).json()
    assert report["ok"] is True, report


async def bought_asset(
    agencies: AgencyDesk, bank: dict[str, str], agency: dict[str, str], pool_id: int, number: str
) -> dict[str, Any]:
    """A case on one patent bought out by the agency into its pool at 700,000.00: the pool asset."""
    case = await agencies.desk.case_on_patent(bank, number)
    offer = await agencies.offer_ok(case["id"], agency, pool_id, "700000.00")
    accepted = await agencies.accept(offer["id"], bank)
    assert accepted.status_code == 200, accepted.text
    view = await agencies.pool_view(pool_id, agency)
    return dict(next(asset for asset in view["assets"] if asset["registry_number"] == number))
