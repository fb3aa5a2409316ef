"""Helpers for disposal API tests: a defaulted loan with income-right holders, rounds, time travel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from app.context import AppContext
from app.scheduler import run_due_work, seal_audit_events
from tests.api.market_support import loan_body, negotiated_trade, post_ok
from tests.conftest import FakeClock, Market
from transfer import ledger
from transfer.models import LedgerTransfer

DAY_S = 86_400


def patent_loan(
    outstanding: str = "2000000.00", appraisal: str = "1000000.00", number: str = "ZL202110000001.X"
) -> dict[str, Any]:
    """A loan secured by one invention patent (the pledgor is the borrower)."""
    return loan_body(
        principal="2000000.00",
        outstanding_principal=outstanding,
        collateral=[
            {
                "kind": "invention_patent",
                "registry_number": number,
                "title": "Solid-state electrolyte membrane",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": appraisal,
                "appraised_on": "2025-06-01",
            }
        ],
    )


class DisposalDesk:
    def __init__(
        self, http: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
    ) -> None:
        self.http = http
        self.market = market
        self.clock = clock
        self.context = context

    async def loan(self, bank: dict[str, str], **overrides: Any) -> dict[str, Any]:
        return dict(await post_ok(self.http, "/api/v1/loans", {**patent_loan(), **overrides}, bank))

    async def sell_share(self, loan_id: int, seller: dict[str, str], buyer: dict[str, str]) -> None:
        """10 % of the loan's income right, sold and settled by clearing."""
        trade = await negotiated_trade(self.http, loan_id, seller, buyer)
        await post_ok(
            self.http, f"/api/v1/trades/{trade['id']}/settle", {}, await self.market.clearing(), 200
        )

    async def default(self, loan_id: int, bank: dict[str, str], **overrides: Any) -> httpx.Response:
        body = {"reason": "three instalments missed", "accrued_interest": "50000.00", **overrides}
        return await self.http.post(f"/api/v1/loans/{loan_id}/default", json=body, headers=bank)

    async def opened(self, loan_id: int, bank: dict[str, str], **overrides: Any) -> dict[str, Any]:
        response = await self.default(loan_id, bank, **overrides)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def round_body(self, starts_in_s: int, **overrides: Any) -> dict[str, Any]:
        starts_at = self.clock() + timedelta(seconds=starts_in_s)
        body: dict[str, Any] = {
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(days=1)).isoformat(),
            "increment": "10000.00",
            "deposit": "70000.00",
        }
        body.update(overrides)
        return body

    async def round(
        self, case_id: int, bank: dict[str, str], starts_in_s: int, **overrides: Any
    ) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/disposals/{case_id}/rounds",
            json=self.round_body(starts_in_s, **overrides),
            headers=bank,
        )

    async def round_ok(
        self, case_id: int, bank: dict[str, str], starts_in_s: int, **overrides: Any
    ) -> dict[str, Any]:
        response = await self.round(case_id, bank, starts_in_s, **overrides)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def case(self, case_id: int, viewer: dict[str, str]) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/disposals/{case_id}", headers=viewer)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def travel_to(self, instant: str | datetime, after_s: float = 1) -> None:
        moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        self.clock.set(moment + timedelta(seconds=after_s))

    async def tick(self) -> None:
        await run_due_work(self.context)

    async def register(self, auction_id: int, bidder: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"/api/v1/auctions/{auction_id}/registrations", headers=bidder)

    async def bid(self, auction_id: int, bidder: dict[str, str], amount: str) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/auctions/{auction_id}/bids", json={"amount": amount}, headers=bidder
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    async def books_are_whole(self) -> None:
        """The ledger sums to zero, no hold is pending, and the audit chain verifies."""
        async with self.context.database.read() as session:
            assert await ledger.ledger_sum_fen(session) == 0
            pending = await session.execute(
                select(func.count())
                .select_from(LedgerTransfer)
                .where(LedgerTransfer.pending_status == "pending")
            )
            assert pending.scalar_one() == 0
        await seal_audit_events(self.context)
        report = (await self.http.get("/api/v1/audit/verify", headers=self.market.admin)).json()
        assert report["ok"] is True, report


def line_amounts(case: dict[str, Any]) -> list[tuple[str, int | None, str]]:
    return [(line["part"], line["payee_id"], line["amount"]) for line in case["waterfall"]]
