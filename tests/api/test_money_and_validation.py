from __future__ import annotations

import httpx
import pytest

from tests.conftest import Market


@pytest.mark.parametrize(
    ("amount", "reason_fragment"),
    [
        ("10.001", "more than two decimals"),
        ("-5.00", "must not be negative"),
        (12.5, "Expected `str`, got `float`"),
        (100, "Expected `str`, got `int`"),
        ("1e3", "is not an amount"),
        ("", "is not an amount"),
        ("0.00", "greater than zero"),
        ("01.00", "is not an amount"),
        ("10000000000000.01", "exceeds the maximum"),
        (None, "Expected `str`, got `null`"),
    ],
)
async def test_bad_money_is_refused_with_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, market: Market, amount: object, reason_fragment: str
) -> None:
    bank_id, bank = await market.participant(["bank"])

    response = await client.post(
        f"/api/v1/participants/{bank_id}/funds",
        json={"amount": amount, "reference": "R1"},
        headers=await market.clearing(),
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"][0]["field"] == "amount"
    assert reason_fragment in problem["errors"][0]["reason"] or reason_fragment in problem["detail"]
    assert (await market.balances(bank))["available"] == "0.00"


@pytest.mark.parametrize("amount", ["1", "1.5", "1.50", "1234567.89", "0.01"])
async def test_good_money_is_booked_to_the_fen(
    client: httpx.AsyncClient, market: Market, amount: str
) -> None:
    bank_id, bank = await market.participant(["bank"])

    response = await client.post(
        f"/api/v1/participants/{bank_id}/funds",
        json={"amount": amount, "reference": "R1"},
        headers=await market.clearing(),
    )

    assert response.status_code == 201, response.text
    whole, _, decimals = amount.partition(".")
    assert response.json()["amount"] == f"{whole}.{decimals.ljust(2, '0')}"
    if response.json()["status"] == "awaiting_approval":  # past dual control (1,000,000.00)
        approval = f"/api/v1/approvals/{response.json()['approval_id']}/approve"
        assert (await client.post(approval, headers=await market.checker())).status_code == 200
    assert (await market.balances(bank))["available"] == f"{whole}.{decimals.ljust(2, '0')}"


async def test_withdrawal_beyond_funds_says_by_how_much(client: httpx.AsyncClient, market: Market) -> None:
    bank_id, bank = await market.participant(["bank"], funds="100.00")

    response = await client.post(
        f"/api/v1/participants/{bank_id}/withdrawals",
        json={"amount": "250.50", "reference": "W1"},
        headers=await market.clearing(),
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert response.json()["shortfall"] == "150.50"
    assert (await market.balances(bank))["available"] == "100.00"


async def test_funds_for_unknown_participant_is_404(client: httpx.AsyncClient, market: Market) -> None:
    response = await client.post(
        "/api/v1/participants/999999/funds",
        json={"amount": "1.00", "reference": "R"},
        headers=await market.clearing(),
    )

    assert response.status_code == 404
    assert response.json()["code"] == "participant_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "roles": ["bank"], "colour": "red"}, "colour"),
        ({"name": "X"}, "roles"),
        ({"name": "X", "roles": []}, "roles"),
        ({"name": "X", "roles": ["king"]}, "roles"),
        ({"name": "", "roles": ["bank"]}, "name"),
        ({"name": "X", "roles": ["bank"], "credit_code": "91350100M000100Y4A"}, "credit_code"),
        ({"name": "X", "roles": ["bank"], "qualified_investor": "yes"}, "qualified_investor"),
    ],
)
async def test_bad_participant_is_refused_naming_the_field(
    client: httpx.AsyncClient, market: Market, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/participants", json=body, headers=market.admin)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    listing = (await client.get("/api/v1/participants", headers=market.admin)).json()
    assert listing["total"] == 1  # only the admin


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient, market: Market) -> None:
    response = await client.post(
        "/api/v1/participants",
        content=b"{not json",
        headers={**market.admin, "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_participant_list_is_paginated(client: httpx.AsyncClient, market: Market) -> None:
    for index in range(5):
        await market.participant(["bidder"], name=f"Bidder {index}")

    page = (await client.get("/api/v1/participants?limit=2&offset=2", headers=market.admin)).json()
    too_big = await client.get("/api/v1/participants?limit=5000", headers=market.admin)

    assert page["total"] == 6
    assert [p["name"] for p in page["items"]] == ["Bidder 1", "Bidder 2"]
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "limit"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    chosen = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    generated = await client.get("/nowhere")

    assert chosen.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
