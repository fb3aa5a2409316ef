"""Helpers for auction API tests: a bank, funded bidders, auctions put up and closed by the tick."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.context import AppContext
from app.scheduler import run_due_work
from auction.models import Auction, Bid
from auction.rules import EnglishBid, EnglishRules, replay
from tests.conftest import FakeClock, Market


class AuctionHouse:
    def __init__(
        self, http: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
    ) -> None:
        self.http = http
        self.market = market
        self.clock = clock
        self.context = context

    async def bank(self) -> tuple[int, dict[str, str]]:
        return await self.market.participant(["bank"], name="Seller Bank")

    async def bidders(self, count: int, funds: str = "100000.00") -> list[tuple[int, dict[str, str]]]:
        return [
            await self.market.participant(["bidder"], funds=funds, name=f"Bidder {i}") for i in range(count)
        ]

    def body(self, **overrides: Any) -> dict[str, Any]:
        now = self.clock()
        body: dict[str, Any] = {
            "lot": {"title": "Invention patent ZL2020 1 0000001.X"},
            "kind": "english",
            "start_price": "1000.00",
            "increment": "10.00",
            "deposit": "100.00",
            "starts_at": (now + timedelta(seconds=10)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
        }
        body.update(overrides)
        return body

    async def create(self, seller: dict[str, str], **overrides: Any) -> dict[str, Any]:
        response = await self.http.post("/api/v1/auctions", json=self.body(**overrides), headers=seller)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def listing_lot(self, seller: dict[str, str], loan_id: int, **overrides: Any) -> dict[str, Any]:
        """A lot naming a performing loan's collateral: the auction of an income-right listing of
        that loan (a bank's own lot may not sell pledged collateral, auction/creation.py); the
        auction as its seller reads it."""
        terms = self.body(**overrides)
        listing = await self.http.post(
            "/api/v1/listings",
            json={
                "loan_id": loan_id,
                "kind": "income_right",
                "mode": "auction",
                "share_ppm": 100_000,
                "asking_price": terms["start_price"],
                "auction": terms,
            },
            headers=seller,
        )
        assert listing.status_code == 201, listing.text
        auction = await self.http.get(f"/api/v1/auctions/{listing.json()['auction_id']}", headers=seller)
        assert auction.status_code == 200, auction.text
        return dict(auction.json())

    async def open_lot(
        self, bidders: int, **overrides: Any
    ) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]], dict[str, Any]]:
        """A bank's lot with `bidders` funded bidders registered on it (their keys now known to
        the server), and the clock moved past its start: the seller, the bidders, the auction."""
        _, seller = await self.bank()
        people = await self.bidders(bidders)
        auction = await self.create(seller, **overrides)
        for _, headers in people:
            await self.register(auction["id"], headers)
        self.clock.advance(60)
        return seller, people, auction

    async def register(self, auction_id: int, bidder: dict[str, str]) -> int:
        response = await self.http.post(f"/api/v1/auctions/{auction_id}/registrations", headers=bidder)
        assert response.status_code == 201, response.text
        return int(response.json()["paddle"])

    async def bid(
        self, auction_id: int | str, bidder: dict[str, str], amount: str, max_amount: str | None = None
    ) -> httpx.Response:
        body = {"amount": amount} if max_amount is None else {"amount": amount, "max_amount": max_amount}
        return await self.http.post(f"/api/v1/auctions/{auction_id}/bids", json=body, headers=bidder)

    async def view(self, auction_id: int, viewer: dict[str, str]) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/auctions/{auction_id}", headers=viewer)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def tick(self) -> None:
        """One scheduler tick's closing work, as APScheduler runs it."""
        await run_due_work(self.context)

    async def ledger_sum(self) -> int:
        from transfer import ledger

        async with self.context.database.read() as session:
            return await ledger.ledger_sum_fen(session)

    async def pending_holds(self) -> int:
        from sqlalchemy import func, select

        from transfer.models import LedgerTransfer

        async with self.context.database.read() as session:
            query = (
                select(func.count())
                .select_from(LedgerTransfer)
                .where(LedgerTransfer.pending_status == "pending")
            )
            return int((await session.execute(query)).scalar_one())

    async def replayed_history(self, auction_id: int) -> list[Bid]:
        """The lot's stored bids in sequence order, after asserting that replaying them through the
        pure English rules gives the lot's stored price, leader, leader's maximum and bid count."""
        async with self.context.database.read() as session:
            stored = await session.get(Auction, auction_id)
            history = list(
                (
                    await session.execute(
                        select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.sequence)
                    )
                ).scalars()
            )
        assert stored is not None
        replayed = replay(
            [
                EnglishBid(b.bidder_id, b.amount_fen, b.max_amount_fen, b.received_at, b.sequence)
                for b in history
            ],
            EnglishRules(stored.start_price_fen, stored.increment_fen, stored.reserve_price_fen),
        )
        assert (replayed.price_fen, replayed.leader_id, replayed.leader_max_fen, replayed.bid_count) == (
            stored.price_fen,
            stored.leader_id,
            stored.leader_max_fen,
            stored.bid_count,
        )
        return history
