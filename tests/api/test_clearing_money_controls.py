"""The clearing desk's money controls over HTTP, on both databases: twins of one money movement
(the same bank reference, 20 at once) get the answer a sequential retry gets, never a 5xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.api.annuity_support import annuity_loan
from tests.api.market_support import post_ok
from tests.conftest import Market

pytestmark = pytest.mark.db
BURST = 20


async def _burst(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(BURST))))


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


async def test_twenty_twin_funds_receipts_at_once_all_answer_the_one_credit(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/funds",
        {"amount": "100.00", "reference": "RACE-F"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert {r.json()["transfer_id"] for r in responses} == {responses[0].json()["transfer_id"]}
    assert await market.balances(bank) == {"available": "100.00", "held": "0.00"}


async def test_twenty_twin_withdrawals_at_once_all_answer_the_one_payout(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="1000.00")
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/withdrawals",
        {"amount": "100.00", "reference": "RACE-SAME"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert {(r.json()["transfer_id"], r.json()["status"]) for r in responses} == {
        (responses[0].json()["transfer_id"], "done")
    }
    assert await market.balances(bank) == {"available": "900.00", "held": "0.00"}


async def test_twenty_twin_large_withdrawals_at_once_hold_once_and_ask_one_approval(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="3000000.00")
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/withdrawals",
        {"amount": "1500000.00", "reference": "RACE-LARGE"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert len({(r.json()["approval_id"], r.json()["status"]) for r in responses}) == 1
    assert responses[0].json()["status"] == "awaiting_approval"
    assert await market.balances(bank) == {"available": "1500000.00", "held": "1500000.00"}


async def test_a_different_amount_under_a_booked_reference_is_the_defined_conflict_at_once_too(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    clearing = await market.clearing()
    path = f"/api/v1/participants/{bank_id}/funds"
    responses = list(
        await asyncio.gather(
            *(
                client.post(
                    path, json={"amount": f"{100 + i % 2}.00", "reference": "RACE-MIXED"}, headers=clearing
                )
                for i in range(BURST)
            )
        )
    )
    statuses = _statuses(responses)
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"transfer_id_reused"}
    credited = {r.json()["amount"] for r in responses if r.status_code == 201}
    assert len(credited) == 1
    assert (await market.balances(bank))["available"] == credited.pop()


async def test_twenty_twin_compensation_fund_receipts_at_once_credit_the_fund_once(
    client: httpx.AsyncClient, market: Market
) -> None:
    body = {"name": "Race fund", "region": "Zhejiang", "fund_share_bps": 4000, "per_loan_cap": "1000000.00"}
    fund = await post_ok(client, "/api/v1/compensation-funds", body, market.admin)
    clearing = await market.clearing()
    responses = await _burst(
        client,
        f"/api/v1/compensation-funds/{fund['id']}/funds",
        {"amount": "500.00", "reference": "GRANT-RACE"},
        clearing,
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    detail = await client.get(f"/api/v1/compensation-funds/{fund['id']}", headers=clearing)
    assert detail.json()["balance"] == "500.00", detail.text


async def test_twenty_twin_annuity_escrow_receipts_at_once_book_once_and_refuse_the_rest(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    responses = await _burst(
        client,
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        {"amount": "4000.00", "reference": "PREPAY-RACE"},
        await market.clearing(),
    )
    # A sequential retry of an escrow receipt is refused by name: so is every twin but the one.
    assert _statuses(responses) == {201: 1, 409: BURST - 1}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"reference_already_booked"}
    view = await client.get(f"/api/v1/loans/{loan['id']}/annuities", headers=bank)
    assert view.json()["escrow_balance"] == "4000.00"
