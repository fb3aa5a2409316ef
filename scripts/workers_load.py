"""The workload of scripts/workers, run from its own process against N services over HTTP.

Setup (participants, funds, English lots, registrations) is spread over the services; then SSE
watchers on every lot on every service, concurrent bids on every lot through every service (a
share with an Idempotency-Key, which takes the unit-of-work path instead of the driver's), the
lots' ends, each winner's payment sent twice at once through two services, and one winner who
never pays. Everything seen is recorded in a Workload for scripts/workers_checks.py to judge.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

START_PRICE = "1000.00"
START_PRICE_FEN = 100_000
INCREMENT_FEN = 1_000
DEPOSIT = "100.00"
BIDDER_FUNDS = "1000000.00"
# The stream of a lot ends with its last event: the winner's payment or default.
FINAL_EVENTS = frozenset({"sold", "defaulted", "unsold", "cancelled"})


@dataclass(frozen=True, slots=True)
class Plan:
    bases: list[str]
    admin_key: str
    lots: int
    bidders: int
    concurrency: int
    bid_s: float
    # A bid takes the unit-of-work path (an Idempotency-Key) with this probability.
    idempotent_share: float
    payment_deadline_s: float
    seed: int


@dataclass(slots=True)
class Watcher:
    service: int
    auction_id: int
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class Workload:
    auction_ids: list[int] = field(default_factory=list)
    defaulting_auction_id: int = 0
    watchers: list[Watcher] = field(default_factory=list)
    # (service, auction id, sequence) of every bid answered 201.
    accepted: list[tuple[int, int, int]] = field(default_factory=list)
    answers: Counter[tuple[int, int]] = field(default_factory=Counter)  # (service, status) -> count
    # auction id -> the statuses of the two payment requests sent at once, and their services.
    payments: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    bid_s: float = 0.0
    wall_s: float = 0.0


class Market:
    def __init__(self, plan: Plan, clients: list[httpx.AsyncClient]) -> None:
        self.plan = plan
        self.clients = clients
        self._turn = itertools.count()

    def next_service(self) -> int:
        return next(self._turn) % len(self.clients)

    async def participant(self, roles: list[str]) -> tuple[int, dict[str, str]]:
        service = self.next_service()
        answer = await self.clients[service].post(
            "/api/v1/participants",
            json={"name": "-".join(roles), "roles": roles},
            headers={"Authorization": f"Bearer {self.plan.admin_key}"},
        )
        assert answer.status_code == 201, answer.text
        created = answer.json()
        return created["id"], {"Authorization": f"Bearer {created['api_key']}"}


async def _setup(
    market: Market, workload: Workload
) -> tuple[list[dict[str, str]], dict[tuple[int, int], int]]:
    """The bidders' headers, and who holds which paddle: (auction id, paddle) -> bidder index."""
    plan = market.plan
    _, clearing = await market.participant(["clearing"])
    _, bank = await market.participant(["bank"])
    bidders: list[dict[str, str]] = []
    for index in range(plan.bidders):
        bidder_id, headers = await market.participant(["bidder"])
        funded = await market.clients[market.next_service()].post(
            f"/api/v1/participants/{bidder_id}/funds",
            json={"amount": BIDDER_FUNDS, "reference": f"WORKERS-{bidder_id}-{index}"},
            headers=clearing,
        )
        assert funded.status_code in (200, 201), funded.text
        bidders.append(headers)
    now = datetime.now(UTC)
    for number in range(plan.lots):
        created = await market.clients[market.next_service()].post(
            "/api/v1/auctions",
            json={
                "lot": {"title": f"Patent ZL2026{number:05d}.0 (workers)"},
                "kind": "english",
                "start_price": START_PRICE,
                "increment": f"{INCREMENT_FEN / 100:.2f}",
                "deposit": DEPOSIT,
                # Starts once the watchers are on; the last seconds carry the soft close.
                "starts_at": (now + timedelta(seconds=3)).isoformat(),
                "ends_at": (now + timedelta(seconds=3 + plan.bid_s)).isoformat(),
                "extension_window_s": 1,
                "extension_s": 1,
            },
            headers=bank,
        )
        assert created.status_code == 201, created.text
        workload.auction_ids.append(created.json()["id"])
    paddles: dict[tuple[int, int], int] = {}
    for auction_id in workload.auction_ids:
        for index, headers in enumerate(bidders):
            registered = await market.clients[market.next_service()].post(
                f"/api/v1/auctions/{auction_id}/registrations", headers=headers
            )
            assert registered.status_code == 201, registered.text
            paddles[(auction_id, registered.json()["paddle"])] = index
    workload.defaulting_auction_id = workload.auction_ids[0]
    return bidders, paddles


async def _watch(client: httpx.AsyncClient, watcher: Watcher, subscribed: asyncio.Event) -> None:
    try:
        async with client.stream("GET", f"/api/v1/auctions/{watcher.auction_id}/events") as stream:
            name = ""
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    if name == "hello":
                        subscribed.set()
                        continue
                    if name == "heartbeat":
                        continue
                    watcher.events.append((name, json.loads(line.split(":", 1)[1])))
                    if name in FINAL_EVENTS:
                        return
    except httpx.HTTPError as error:
        watcher.error = f"{type(error).__name__}: {error}"
        subscribed.set()


async def _bid_until(
    market: Market,
    workload: Workload,
    bidders: list[dict[str, str]],
    minimums_fen: dict[int, int],
    deadline: float,
    lane: int,
) -> None:
    plan = market.plan
    chooser = random.Random(plan.seed * 1_000 + lane)
    while time.monotonic() < deadline:
        auction_id = chooser.choice(workload.auction_ids)
        service = market.next_service()
        minimum_fen = minimums_fen.get(auction_id, START_PRICE_FEN)
        amount_fen = minimum_fen + INCREMENT_FEN * chooser.randint(0, 2)
        headers = dict(chooser.choice(bidders))
        if chooser.random() < plan.idempotent_share:
            headers["Idempotency-Key"] = f"workers-{lane}-{time.monotonic_ns()}"
        answer = await market.clients[service].post(
            f"/api/v1/auctions/{auction_id}/bids",
            json={"amount": f"{amount_fen // 100}.{amount_fen % 100:02d}"},
            headers=headers,
        )
        workload.answers[(service, answer.status_code)] += 1
        if answer.status_code == 201:
            body = answer.json()
            workload.accepted.append((service, auction_id, body["sequence"]))
            after_fen = _fen(body["current_price"]) + INCREMENT_FEN
            minimums_fen[auction_id] = max(minimums_fen.get(auction_id, 0), after_fen)
        elif answer.status_code < 500:
            # Refused (outbid meanwhile): learn the least valid bid and go on.
            lot = await market.clients[service].get(f"/api/v1/auctions/{auction_id}")
            if lot.status_code == 200 and lot.json().get("minimum_bid"):
                minimum_fen = _fen(lot.json()["minimum_bid"])
                minimums_fen[auction_id] = max(minimums_fen.get(auction_id, 0), minimum_fen)


def _fen(amount: str) -> int:
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


async def _settle(
    market: Market, workload: Workload, bidders: list[dict[str, str]], paddles: dict[tuple[int, int], int]
) -> None:
    """Each winner but the defaulting lot's pays, twice at once through two services; the
    defaulting lot's winner does nothing and the deadline passes."""
    for auction_id in workload.auction_ids:
        lot = await _until_closed(market, auction_id)
        if auction_id == workload.defaulting_auction_id or lot.get("winning_paddle") is None:
            continue
        headers = bidders[paddles[(auction_id, lot["winning_paddle"])]]
        services = [market.next_service(), market.next_service()]
        answers = await asyncio.gather(
            *(
                market.clients[s].post(f"/api/v1/auctions/{auction_id}/payments", json={}, headers=headers)
                for s in services
            )
        )
        workload.payments[auction_id] = [(s, a.status_code) for s, a in zip(services, answers, strict=True)]


async def _until_closed(market: Market, auction_id: int) -> dict[str, Any]:
    for _ in range(600):
        answer = await market.clients[market.next_service()].get(f"/api/v1/auctions/{auction_id}")
        lot: dict[str, Any] = answer.json()
        if lot["state"] not in ("scheduled", "open", "closing"):
            return lot
        await asyncio.sleep(0.1)
    raise AssertionError(f"auction {auction_id} did not close within a minute of its end")


async def run_workload(plan: Plan) -> Workload:
    workload = Workload()
    started = time.monotonic()
    limits = httpx.Limits(max_connections=plan.concurrency + plan.lots + 8)
    clients = [httpx.AsyncClient(base_url=b, timeout=60, limits=limits) for b in plan.bases]
    watch_clients = [
        httpx.AsyncClient(
            base_url=b, timeout=httpx.Timeout(60, read=None), limits=httpx.Limits(max_connections=None)
        )
        for b in plan.bases
    ]
    market = Market(plan, clients)
    try:
        bidders, paddles = await _setup(market, workload)
        subscriptions: list[asyncio.Event] = []
        tasks: list[asyncio.Task[None]] = []
        for auction_id in workload.auction_ids:
            for service, client in enumerate(watch_clients):
                watcher = Watcher(service, auction_id)
                workload.watchers.append(watcher)
                subscribed = asyncio.Event()
                subscriptions.append(subscribed)
                tasks.append(asyncio.create_task(_watch(client, watcher, subscribed)))
        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in subscriptions)), timeout=30)
        lots = (await clients[0].get(f"/api/v1/auctions/{workload.auction_ids[0]}")).json()
        opens_at = datetime.fromisoformat(lots["starts_at"]).timestamp()
        ends_at = datetime.fromisoformat(lots["ends_at"]).timestamp()
        await asyncio.sleep(max(0.0, opens_at - time.time()))
        bidding_started = time.monotonic()
        deadline = bidding_started + max(0.0, ends_at - time.time())
        minimums_fen: dict[int, int] = {}
        await asyncio.gather(
            *(
                _bid_until(market, workload, bidders, minimums_fen, deadline, lane)
                for lane in range(plan.concurrency)
            )
        )
        workload.bid_s = time.monotonic() - bidding_started
        await _settle(market, workload, bidders, paddles)
        # The watchers end with each lot's payment, or the default once the deadline has passed.
        await asyncio.wait(tasks, timeout=plan.payment_deadline_s + 30)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for client in clients + watch_clients:
            await client.aclose()
    workload.wall_s = time.monotonic() - started
    return workload
