"""The whole market as a hypothesis state machine, driven through the HTTP API.

The rules pick their targets from the database (the open listings, the running auctions, the
cases awaiting a round), so whatever the service did, the next step works on what is really
there. Every request is allowed to be refused, but only with a problem document, and a refused
request must leave every table as it was; a 5xx is always a failure. Which invariant each
`@invariant` checks, and what it cannot check, is in tests/api/test_market_stateful.py.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from app.scheduler import run_due_work
from auction.disposal.models import DisposalCase, DisposalStep
from auction.models import Auction, Registration
from auction.operation.models import BuyoutOffer
from tests.api import stateful_invariants as check
from tests.api.market_support import VALID_CREDIT_CODE
from tests.api.stateful_world import LoopThread, World
from tests.conftest import ADMIN_KEY, auth
from transfer.kernel.model_base import Base
from transfer.models.loans import IncomeRight, Loan
from transfer.models.market import Listing, Offer, Trade
from transfer.rules.fee_waiver import shanghai_trade_date

# A fixed start, so a run is the same on any day (a weekday inside the fee waiver's window).
START = datetime.fromisoformat("2026-03-02T02:00:00+00:00")
DAY_S = 86_400
# How far a step moves the clock: a few seconds, into a lot's last window, past a lot's end, a
# day, past the payment deadline, past a disposal round's notice.
TIME_STEPS_S = (5, 60, 290, 3_600, DAY_S, 8 * DAY_S, 31 * DAY_S)
# Money strings a client might send; the last ones must be refused (invariant 8).
BAD_AMOUNTS = ("-1.00", "1.234", "1e5", "", "0.00")
INVESTORS = 3
BANKS = 2
# Every participant starts with this much, and a funds step adds up to a few times it.
OPENING_FUNDS_FEN = 300_000_000
# Disposal rounds (DESIGN §3): announced 30 days ahead, a re-run 15, the first start at 70 % of
# the appraisal and a re-run cut by at most 20 %; the deposit is 10 %, inside 5–20 %.
ROUND_NOTICE_S = (30 * DAY_S + 60, 15 * DAY_S + 60)
ROUND_START_BPS = (7_000, 8_000)
ROUND_DEPOSIT_BPS = 1_000
ROUND_INCREMENT_FEN = 1_000_000
LOT_INCREMENT_FEN = 1_000
TABLES = [table.name for table in Base.metadata.sorted_tables]


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def pick(items: list[Any], choice: int) -> Any:
    return items[choice % len(items)]


def ceil_to(amount_fen: int, step_fen: int) -> int:
    return -(-amount_fen // step_fen) * step_fen


def outcome_key(method: str, path: str, status: int, code: str = "") -> str:
    """How `MarketMachine.outcomes` counts a request: route with ids folded, status, problem code."""
    return f"{method} {re.sub(r'/[0-9]+', '/{id}', path)} -> {status} {code}"


class MarketMachine(RuleBasedStateMachine):
    """Bound to a loop and a database by `MarketMachine.on` before running it."""

    loop: LoopThread
    database_url: str
    # What the requests came to over a run (route, status, problem code), printed by the test.
    outcomes: Counter[str]

    @classmethod
    def on(cls, loop: LoopThread, database_url: str, outcomes: Counter[str]) -> type[MarketMachine]:
        return type("Market", (cls,), {"loop": loop, "database_url": database_url, "outcomes": outcomes})

    def __init__(self) -> None:
        super().__init__()
        self.world: World = self.loop.run(World.open(self.database_url, START))
        self.seen = check.Seen()
        self.registry_numbers = 0
        self._print: dict[str, Any] | None = None

    def teardown(self) -> None:
        self.loop.run(self.world.close())

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.world.http is not None
        return self.world.http

    def run(self, work: Any) -> Any:
        return self.loop.run(work)

    async def _fingerprint(self) -> dict[str, Any]:
        async with self.world.database.read() as session:
            return await check.fingerprint(session, TABLES)

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        # The tables as they are now: kept from the last refusal unless something changed since.
        before = self._print if self._print is not None else await self._fingerprint()
        self._print = None
        response = await self.http.request(method, path, json=body, headers=headers)
        assert response.status_code < 500, f"{method} {path} {body}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json"), response.text
            assert problem.get("code") and problem.get("detail"), response.text
            after = await self._fingerprint()
            changed = [t for t in TABLES if before[t] != after[t]]
            assert not changed, f"{method} {path} refused ({problem['code']}) but changed {changed}"
            self._print = after
        return response

    def post(self, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
        response: httpx.Response = self.run(
            self._request("POST", path, headers, {} if body is None else body)
        )
        outcome = response.json().get("code") if response.status_code >= 400 else ""
        self.outcomes[outcome_key("POST", path, response.status_code, outcome)] += 1
        return response

    def get(self, path: str, headers: dict[str, str]) -> Any:
        response = self.run(self.http.get(path, headers=headers))
        assert response.status_code == 200, response.text
        return response.json()

    def rows(self, statement: Any) -> list[Any]:
        async def read() -> list[Any]:
            async with self.world.database.read() as session:
                return list((await session.execute(statement)).all())

        rows: list[Any] = self.run(read())
        return rows

    def now(self) -> datetime:
        return self.world.clock()

    def headers_of(self, participant_id: int) -> dict[str, str]:
        return self.keys[participant_id]

    # ---- the cast ------------------------------------------------------------------------------

    @initialize()
    def open_the_market(self) -> None:
        admin = auth(ADMIN_KEY)
        self.keys: dict[int, dict[str, str]] = {}

        def participant(name: str, roles: list[str]) -> int:
            created = self.post("/api/v1/participants", admin, {"name": name, "roles": roles})
            assert created.status_code == 201, created.text
            body = created.json()
            self.keys[body["id"]] = auth(body["api_key"])
            return int(body["id"])

        self.clearing = self.keys[participant("Clearing desk", ["clearing"])]
        # Receipts past dual control (the day's total above 1,000,000.00) need a second clerk.
        self.checker = self.keys[participant("Clearing checker", ["clearing"])]
        self.banks = [participant(f"Bank {i}", ["bank"]) for i in range(BANKS)]
        self.investors = [participant(f"Investor {i}", ["bank", "bidder"]) for i in range(INVESTORS)]
        self.agency = participant("Operating agency", ["agency"])
        for who in [*self.banks, *self.investors, self.agency]:
            self._fund(who, OPENING_FUNDS_FEN)
        pool = self.post("/api/v1/pools", self.keys[self.agency], {"name": "Disposed patents"})
        assert pool.status_code == 201, pool.text
        self.pool_id = int(pool.json()["id"])
        # One lot open from the first step, two bidders registered, a bid each (the second with a
        # maximum): left to chance, a short run seldom got a bid accepted, and then invariant 4
        # checked no bid at all.
        self.put_up_a_lot(bank=0, start_fen=1_000_000, reserve_steps=None, duration_s=DAY_S)
        self.let_time_pass(10)
        for bidder in range(2):
            self.register_for_a_lot(auction=0, bidder=bidder)
        self.bid(registration=0, steps=0, max_steps=None, off_grid_fen=0)
        self.bid(registration=1, steps=0, max_steps=5, off_grid_fen=0)

    def _fund(self, who: int, amount_fen: int) -> None:
        body = {"amount": yuan(amount_fen), "reference": f"ref-{uuid.uuid4().hex[:12]}"}
        response = self.post(f"/api/v1/participants/{who}/funds", self.clearing, body)
        assert response.status_code == 201, response.text
        if response.json()["status"] == "awaiting_approval":
            approved = self.post(f"/api/v1/approvals/{response.json()['approval_id']}/approve", self.checker)
            assert approved.status_code == 200, approved.text

    def everyone(self) -> list[int]:
        return [*self.banks, *self.investors, self.agency]

    # ---- money in and out ---------------------------------------------------------------------

    @rule(who=st.integers(0, 99), amount_fen=st.integers(1, 2 * OPENING_FUNDS_FEN))
    def record_funds(self, who: int, amount_fen: int) -> None:
        self._fund(pick(self.everyone(), who), amount_fen)

    @rule(who=st.integers(0, 99), bad=st.sampled_from(BAD_AMOUNTS))
    def record_funds_badly(self, who: int, bad: str) -> None:
        body = {"amount": bad, "reference": "ref-bad"}
        response = self.post(f"/api/v1/participants/{pick(self.everyone(), who)}/funds", self.clearing, body)
        assert response.status_code == 422, response.text

    @rule(who=st.integers(0, 99), amount_fen=st.integers(1, 99_999_999))
    def withdraw(self, who: int, amount_fen: int) -> None:
        # Below the dual-control threshold (1,000,000.00): paid out at once, refused, or (past the
        # day's running total) held for an approval nobody gives.
        body = {"amount": yuan(amount_fen), "reference": f"out-{uuid.uuid4().hex[:12]}"}
        response = self.post(
            f"/api/v1/participants/{pick(self.everyone(), who)}/withdrawals", self.clearing, body
        )
        assert response.status_code in (201, 409), response.text

    @rule(who=st.integers(0, 99), amount_fen=st.integers(1, OPENING_FUNDS_FEN))
    def record_funds_twice_with_one_key(self, who: int, amount_fen: int) -> None:
        participant_id = pick(self.everyone(), who)
        headers = {**self.clearing, "Idempotency-Key": f"funds-{uuid.uuid4().hex}"}
        body = {"amount": yuan(amount_fen), "reference": f"ref-{uuid.uuid4().hex[:12]}"}
        path = f"/api/v1/participants/{participant_id}/funds"
        first = self.post(path, headers, body)
        balance = self.get("/api/v1/participants/me", self.keys[participant_id])["balances"]
        again = self.post(path, headers, body)
        assert first.status_code == again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
        assert self.get("/api/v1/participants/me", self.keys[participant_id])["balances"] == balance

    # ---- loans, listings, trades, repayments ---------------------------------------------------

    @rule(bank=st.integers(0, 99), ip=st.booleans(), appraisal_fen=st.sampled_from([40_000_000, 100_000_000]))
    def register_loan(self, bank: int, ip: bool, appraisal_fen: int) -> None:
        self.registry_numbers += 1
        number = self.registry_numbers
        collateral = [
            {
                "kind": "invention_patent" if ip else "real_estate",
                "registry_number": f"ZL2021{number:06d}.X" if ip else f"ZJ-HZ-2021-{number:06d}",
                "title": "Solid-state electrolyte membrane" if ip else "Workshop, Xiaoshan",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": yuan(appraisal_fen),
                "appraised_on": "2025-06-01",
                **({"filed_on": "2021-04-20"} if ip else {}),
            }
        ]
        body = {
            "borrower_name": "Hangzhou Lithium Separator Technology Co., Ltd.",
            "borrower_credit_code": VALID_CREDIT_CODE,
            "principal": "2000000.00",
            "outstanding_principal": "1500000.00",
            "rate_bps": 385,
            "originated_on": "2025-01-10",
            "matures_on": "2028-01-10",
            "status": "performing",
            "collateral": collateral,
        }
        response = self.post("/api/v1/loans", self.keys[pick(self.banks, bank)], body)
        assert response.status_code == 201, response.text

    def holdings(self) -> list[tuple[int, int, int]]:
        return self.rows(
            select(IncomeRight.loan_id, IncomeRight.holder_id, IncomeRight.share_ppm)
            .join(Loan, Loan.id == IncomeRight.loan_id)
            .where(Loan.status.not_in(["repaid", "defaulted"]))
            .order_by(IncomeRight.loan_id, IncomeRight.holder_id)
        )

    @precondition(lambda self: bool(self.holdings()))
    @rule(
        holding=st.integers(0, 999),
        share_parts=st.integers(1, 12),
        price_fen=st.integers(1_000_000, 100_000_000),
        whole=st.booleans(),
    )
    def list_income_right(self, holding: int, share_parts: int, price_fen: int, whole: bool) -> None:
        loan_id, holder_id, _ = pick(self.holdings(), holding)
        # Up to 120 % of a tenth: sometimes more than the holder has, and refused.
        body: dict[str, Any] = {"loan_id": loan_id, "mode": "negotiated", "asking_price": yuan(price_fen)}
        if whole:
            body.update(kind="whole_loan", holders_consent=True)
        else:
            body.update(kind="income_right", share_ppm=share_parts * 100_000)
        response = self.post("/api/v1/listings", self.keys[holder_id], body)
        assert response.status_code in (201, 403, 409, 422), response.text

    def open_listings(self) -> list[tuple[int, int, int]]:
        return self.rows(
            select(Listing.id, Listing.seller_id, Listing.asking_price_fen)
            .where(Listing.status == "open", Listing.mode == "negotiated")
            .order_by(Listing.id)
        )

    @precondition(lambda self: bool(self.open_listings()))
    @rule(listing=st.integers(0, 999), buyer=st.integers(0, 99), discount_bps=st.integers(-2_000, 2_000))
    def make_offer(self, listing: int, buyer: int, discount_bps: int) -> None:
        listing_id, _, asking_fen = pick(self.open_listings(), listing)
        price_fen = max(1, asking_fen + asking_fen * discount_bps // 10_000)
        buyer_id = pick([*self.banks, *self.investors], buyer)
        response = self.post(
            f"/api/v1/listings/{listing_id}/offers", self.keys[buyer_id], {"price": yuan(price_fen)}
        )
        assert response.status_code in (201, 403, 409), response.text

    def open_offers(self) -> list[tuple[int, int]]:
        return self.rows(
            select(Offer.id, Listing.seller_id)
            .join(Listing, Listing.id == Offer.listing_id)
            .where(Offer.status == "open", Listing.status == "open")
            .order_by(Offer.id)
        )

    @precondition(lambda self: bool(self.open_offers()))
    @rule(offer=st.integers(0, 999))
    def accept_offer(self, offer: int) -> None:
        offer_id, seller_id = pick(self.open_offers(), offer)
        response = self.post(f"/api/v1/offers/{offer_id}/accept", self.keys[seller_id])
        assert response.status_code in (201, 409), response.text

    def pending_trades(self) -> list[int]:
        return [
            row[0] for row in self.rows(select(Trade.id).where(Trade.status == "pending").order_by(Trade.id))
        ]

    @precondition(lambda self: bool(self.pending_trades()))
    @rule(trade=st.integers(0, 999))
    def settle_trade(self, trade: int) -> None:
        trade_id = pick(self.pending_trades(), trade)
        response = self.post(f"/api/v1/trades/{trade_id}/settle", self.clearing)
        assert response.status_code in (200, 409), response.text

    def live_loans(self) -> list[tuple[int, int, int, int]]:
        return self.rows(
            select(Loan.id, Loan.servicer_id, Loan.creditor_id, Loan.outstanding_principal_fen)
            .where(Loan.status.not_in(["repaid"]))
            .order_by(Loan.id)
        )

    @precondition(lambda self: bool(self.live_loans()))
    @rule(
        loan=st.integers(0, 999),
        part_bps=st.integers(0, 12_000),
        interest_fen=st.integers(0, 5_000_000),
        funded=st.booleans(),
    )
    def record_repayment(self, loan: int, part_bps: int, interest_fen: int, funded: bool) -> None:
        """A repayment pays out of the servicer's funds: mostly clearing books the borrower's cash
        first; without it, a servicer short of funds is refused and nothing moves."""
        loan_id, servicer_id, _, outstanding_fen = pick(self.live_loans(), loan)
        principal_fen = outstanding_fen * part_bps // 10_000
        body = {
            "principal": yuan(principal_fen),
            "interest": yuan(interest_fen),
            "received_on": shanghai_trade_date(self.now()).isoformat(),
        }
        if funded and principal_fen + interest_fen > 0:
            self._fund(servicer_id, principal_fen + interest_fen)
        balances = self.get("/api/v1/participants/me", self.keys[servicer_id])["balances"]
        response = self.post(f"/api/v1/loans/{loan_id}/repayments", self.keys[servicer_id], body)
        assert response.status_code in (201, 409, 422), response.text
        if response.status_code != 201:
            assert self.get("/api/v1/participants/me", self.keys[servicer_id])["balances"] == balances

    # ---- auctions -----------------------------------------------------------------------------

    @rule(
        bank=st.integers(0, 99),
        start_fen=st.sampled_from([100_000, 1_000_000, 5_000_000]),
        reserve_steps=st.none() | st.integers(0, 50),
        duration_s=st.sampled_from([600, 3_600, DAY_S]),
    )
    def put_up_a_lot(self, bank: int, start_fen: int, reserve_steps: int | None, duration_s: int) -> None:
        starts_at = self.now() + timedelta(seconds=10)
        body: dict[str, Any] = {
            "lot": {"title": "Invention patent ZL2020 1 0000001.X"},
            "kind": "english",
            "start_price": yuan(start_fen),
            "increment": yuan(LOT_INCREMENT_FEN),
            "deposit": yuan(start_fen // 10),
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(seconds=duration_s)).isoformat(),
        }
        if reserve_steps is not None:
            body["reserve_price"] = yuan(start_fen + reserve_steps * LOT_INCREMENT_FEN)
        response = self.post("/api/v1/auctions", self.keys[pick(self.banks, bank)], body)
        assert response.status_code == 201, response.text

    def running_auctions(self) -> list[tuple[int, int]]:
        return self.rows(
            select(Auction.id, Auction.seller_id)
            .where(Auction.state.in_(["scheduled", "open"]), Auction.ends_at > self.now())
            .order_by(Auction.id)
        )

    @precondition(lambda self: bool(self.running_auctions()))
    @rule(auction=st.integers(0, 999), bidder=st.integers(0, 99))
    def register_for_a_lot(self, auction: int, bidder: int) -> None:
        auction_id, _ = pick(self.running_auctions(), auction)
        bidder_id = pick([*self.investors, self.agency], bidder)
        response = self.post(f"/api/v1/auctions/{auction_id}/registrations", self.keys[bidder_id])
        assert response.status_code in (201, 403, 409), response.text

    def biddable(self) -> list[tuple[int, int, int, int, int | None]]:
        return self.rows(
            select(
                Auction.id,
                Registration.bidder_id,
                Auction.start_price_fen,
                Auction.increment_fen,
                Auction.price_fen,
            )
            .join(Registration, Registration.auction_id == Auction.id)
            .where(Auction.state.in_(["scheduled", "open"]), Auction.ends_at > self.now())
            .order_by(Auction.id, Registration.id)
        )

    @precondition(lambda self: bool(self.biddable()))
    @rule(
        registration=st.integers(0, 999),
        steps=st.integers(-1, 8),
        max_steps=st.none() | st.integers(-1, 40),
        off_grid_fen=st.sampled_from([0, 0, 0, 1]),
    )
    def bid(self, registration: int, steps: int, max_steps: int | None, off_grid_fen: int) -> None:
        auction_id, bidder_id, start_fen, increment_fen, price_fen = pick(self.biddable(), registration)
        minimum_fen = start_fen if price_fen is None else price_fen + increment_fen
        amount_fen = minimum_fen + steps * increment_fen + off_grid_fen
        body: dict[str, Any] = {"amount": yuan(amount_fen)}
        if max_steps is not None:
            body["max_amount"] = yuan(amount_fen + max_steps * increment_fen)
        response = self.post(f"/api/v1/auctions/{auction_id}/bids", self.keys[bidder_id], body)
        assert response.status_code in (200, 201, 403, 409, 422), response.text

    @precondition(lambda self: bool(self.running_auctions()))
    @rule(auction=st.integers(0, 999))
    def cancel_a_lot(self, auction: int) -> None:
        auction_id, seller_id = pick(self.running_auctions(), auction)
        response = self.post(
            f"/api/v1/auctions/{auction_id}/cancel", self.keys[seller_id], {"reason": "withdrawn"}
        )
        assert response.status_code in (200, 409), response.text

    def awaiting_payment(self) -> list[tuple[int, int]]:
        return self.rows(
            select(Auction.id, Auction.winner_id)
            .where(Auction.state == "awaiting_payment")
            .order_by(Auction.id)
        )

    @precondition(lambda self: bool(self.awaiting_payment()))
    @rule(auction=st.integers(0, 999))
    def pay_for_a_lot(self, auction: int) -> None:
        auction_id, winner_id = pick(self.awaiting_payment(), auction)
        response = self.post(f"/api/v1/auctions/{auction_id}/payments", self.keys[winner_id])
        assert response.status_code in (200, 201, 409), response.text

    @rule(step=st.sampled_from(TIME_STEPS_S))
    def let_time_pass(self, step: int) -> None:
        """The clock moves on and the scheduler's tick runs: closes, payment deadlines, rounds."""
        self.world.clock.advance(step)
        self._print = None
        self.run(run_due_work(self.world.context))

    # ---- disposal -----------------------------------------------------------------------------

    @precondition(lambda self: bool(self.live_loans()))
    @rule(loan=st.integers(0, 999), interest_fen=st.integers(0, 10_000_000))
    def declare_default(self, loan: int, interest_fen: int) -> None:
        loan_id, _, creditor_id, _ = pick(self.live_loans(), loan)
        body = {"reason": "three instalments missed", "accrued_interest": yuan(interest_fen)}
        response = self.post(f"/api/v1/loans/{loan_id}/default", self.keys[creditor_id], body)
        assert response.status_code in (201, 409, 422), response.text

    def cases_awaiting_round(self) -> list[tuple[int, int, int, int]]:
        return self.rows(
            select(
                DisposalCase.id,
                DisposalCase.creditor_id,
                DisposalCase.appraisal_fen,
                DisposalCase.round_count,
            )
            .where(DisposalCase.state == "awaiting_round")
            .order_by(DisposalCase.id)
        )

    @precondition(lambda self: bool(self.cases_awaiting_round()))
    @rule(case=st.integers(0, 999))
    def put_up_a_round(self, case: int) -> None:
        case_id, creditor_id, appraisal_fen, rounds = pick(self.cases_awaiting_round(), case)
        if rounds >= len(ROUND_NOTICE_S):
            rounds = len(ROUND_NOTICE_S) - 1  # refused: no third round
        base_fen = appraisal_fen
        if rounds:
            previous = self.rows(
                select(DisposalStep.start_price_fen)
                .where(DisposalStep.case_id == case_id, DisposalStep.kind == "round")
                .order_by(DisposalStep.number.desc())
            )
            base_fen = previous[0][0]
        start_fen = ceil_to(base_fen * ROUND_START_BPS[rounds] // 10_000, ROUND_INCREMENT_FEN)
        starts_at = self.now() + timedelta(seconds=ROUND_NOTICE_S[rounds])
        body = {
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(days=1)).isoformat(),
            "start_price": yuan(start_fen),
            "increment": yuan(ROUND_INCREMENT_FEN),
            "deposit": yuan(start_fen * ROUND_DEPOSIT_BPS // 10_000),
        }
        response = self.post(f"/api/v1/disposals/{case_id}/rounds", self.keys[creditor_id], body)
        assert response.status_code in (201, 409, 422), response.text

    def cases_offering_take_in_payment(self) -> list[tuple[int, int]]:
        return self.rows(
            select(DisposalCase.id, DisposalCase.creditor_id)
            .where(DisposalCase.state == "take_in_payment_offered")
            .order_by(DisposalCase.id)
        )

    @precondition(lambda self: bool(self.cases_offering_take_in_payment()))
    @rule(case=st.integers(0, 999), decision=st.sampled_from(["accept", "decline"]))
    def decide_take_in_payment(self, case: int, decision: str) -> None:
        case_id, creditor_id = pick(self.cases_offering_take_in_payment(), case)
        response = self.post(
            f"/api/v1/disposals/{case_id}/take-in-payment", self.keys[creditor_id], {"decision": decision}
        )
        assert response.status_code in (200, 409), response.text

    def open_cases(self) -> list[tuple[int, int, int]]:
        return self.rows(
            select(DisposalCase.id, DisposalCase.creditor_id, DisposalCase.appraisal_fen)
            .where(DisposalCase.ended_at.is_(None))
            .order_by(DisposalCase.id)
        )

    @precondition(lambda self: bool(self.open_cases()))
    @rule(case=st.integers(0, 999), price_bps=st.integers(3_000, 12_000))
    def offer_a_buyout(self, case: int, price_bps: int) -> None:
        case_id, _, appraisal_fen = pick(self.open_cases(), case)
        body = {
            "price": yuan(max(1, appraisal_fen * price_bps // 10_000)),
            "pool_id": self.pool_id,
            "valid_until": (self.now() + timedelta(days=90)).isoformat(),
        }
        response = self.post(f"/api/v1/disposals/{case_id}/buyout-offers", self.keys[self.agency], body)
        assert response.status_code in (201, 409, 422), response.text

    def live_buyout_offers(self) -> list[tuple[int, int]]:
        return self.rows(
            select(BuyoutOffer.id, DisposalCase.creditor_id)
            .join(DisposalCase, DisposalCase.id == BuyoutOffer.case_id)
            .where(BuyoutOffer.state == "live")
            .order_by(BuyoutOffer.id)
        )

    @precondition(lambda self: bool(self.live_buyout_offers()))
    @rule(offer=st.integers(0, 999))
    def accept_a_buyout(self, offer: int) -> None:
        offer_id, creditor_id = pick(self.live_buyout_offers(), offer)
        response = self.post(f"/api/v1/buyout-offers/{offer_id}/accept", self.keys[creditor_id])
        assert response.status_code in (200, 409), response.text

    @precondition(lambda self: bool(self.live_buyout_offers()))
    @rule(offer=st.integers(0, 999))
    def withdraw_a_buyout(self, offer: int) -> None:
        offer_id, _ = pick(self.live_buyout_offers(), offer)
        response = self.post(f"/api/v1/buyout-offers/{offer_id}/withdraw", self.keys[self.agency])
        assert response.status_code in (200, 409), response.text

    # ---- DESIGN.md section 4 after every step --------------------------------------------------

    def read_check(self, check_fn: Any, *args: Any) -> None:
        async def read() -> None:
            async with self.world.database.read() as session:
                await check_fn(session, *args)

        self.run(read())

    @invariant()
    def money_is_exact(self) -> None:
        self.outcomes["steps checked"] += 1
        self.read_check(check.splits_add_up)

    @invariant()
    def the_ledger_balances(self) -> None:
        self.read_check(check.ledger_balances)
        self.read_check(check.holds_match_what_they_hold_for)

    @invariant()
    def ownership_is_whole(self) -> None:
        self.read_check(check.ownership_is_whole)

    @invariant()
    def an_auction_has_one_truth(self) -> None:
        self.read_check(check.auctions_have_one_truth, self.seen)

    @invariant()
    def deposits_resolve(self) -> None:
        self.read_check(check.deposits_resolve)

    @invariant()
    def fees_are_explainable(self) -> None:
        self.read_check(check.fees_are_explainable, self.world.context)
        self.run(check.reconciliation_is_clean(self.world.context, self.now()))

    @invariant()
    def nothing_is_lost(self) -> None:
        self.run(check.audit_chain_verifies(self.world.context))
