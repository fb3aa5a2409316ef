"""Paid cases wait `settling` for the scheduler's split: a batch of them, a case that cannot be
split (it never holds up another), and a repayment arriving in between (refused, nothing changed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auction.disposal import proceeds
from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.repayment_support import post_repayment
from tests.conftest import Market

pytestmark = pytest.mark.db


async def _paid_case(desk: DisposalDesk, bank: dict[str, str], number: str) -> dict[str, Any]:
    """A case whose round 1 sold at 700,000.00 and whose winner has paid."""
    _, bidder = await desk.market.participant(["bidder"], funds="1000000.00")
    case = await desk.case_on_patent(bank, number)
    case = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60)
    step = case["steps"][0]
    assert (await desk.register(step["auction_id"], bidder)).status_code == 201
    desk.travel_to(step["starts_at"])
    await desk.bid(step["auction_id"], bidder, "700000.00")
    desk.travel_to(step["ends_at"])
    await desk.tick()
    paid = await desk.http.post(f"/api/v1/auctions/{step['auction_id']}/payments", json={}, headers=bidder)
    assert paid.status_code in (200, 201), paid.text
    return case


async def test_a_case_that_cannot_be_split_never_holds_up_another(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, bank = await market.participant(["bank"])
    stuck = await _paid_case(desk, bank, "ZL202110000101.X")
    claim_of = proceeds.claim_of

    def broken_for_one(case: Any, loan: Any, **kwargs: Any) -> Any:
        if case.id == stuck["id"]:
            raise RuntimeError("a bug in one case's claim")
        return claim_of(case, loan, **kwargs)

    monkeypatch.setattr(proceeds, "claim_of", broken_for_one)
    fine = await _paid_case(desk, bank, "ZL202110000102.X")
    await desk.tick()

    assert (await desk.case(fine["id"], bank))["state"] == "settled"
    held = await desk.case(stuck["id"], bank)
    assert (held["state"], held["waterfall"]) == ("settling", [])
    await desk.books_are_whole()

    # Fixed, it is split on its retry, an hour later; not before.
    monkeypatch.setattr(proceeds, "claim_of", claim_of)
    await desk.tick()
    assert (await desk.case(stuck["id"], bank))["state"] == "settling"
    desk.clock.advance(3_601)
    await desk.tick()
    settled = await desk.case(stuck["id"], bank)
    assert settled["state"] == "settled"
    assert sum(int(line["amount"].replace(".", "")) for line in settled["waterfall"]) == 70_000_000
    await desk.books_are_whole()


async def test_a_repayment_while_the_proceeds_are_being_split_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    case = await _paid_case(desk, bank, "ZL202110000103.X")
    before = (await client.get(f"/api/v1/loans/{case['loan_id']}", headers=bank)).json()

    response = await post_repayment(
        client,
        market,
        case["loan_id"],
        {"principal": "2000000.00", "interest": "0.00", "received_on": "2026-11-30"},
        bank,
    )
    assert response.status_code == 409 and response.json()["code"] == "disposal_settling", response.text
    assert (await client.get(f"/api/v1/loans/{case['loan_id']}", headers=bank)).json() == before

    await desk.tick()
    settled = await desk.case(case["id"], bank)
    assert (settled["state"], settled["outcome"]) == ("settled", "sold")
    await desk.books_are_whole()
