from __future__ import annotations

import asyncio
import json

import httpx

from tests.conftest import Market


async def test_same_key_same_body_replays_the_answer_with_one_effect(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    clearing = await market.clearing()
    headers = {**clearing, "Idempotency-Key": "funds-0001"}
    body = {"amount": "2500.00", "reference": "BANKREF-1"}

    first = await client.post(f"/api/v1/participants/{bank_id}/funds", json=body, headers=headers)
    # Same content, different key order and spacing: still the same request.
    second = await client.post(
        f"/api/v1/participants/{bank_id}/funds",
        content=json.dumps({"reference": "BANKREF-1", "amount": "2500.00"}, indent=2),
        headers={**headers, "content-type": "application/json"},
    )

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await market.balances(bank))["available"] == "2500.00"


async def test_same_key_different_body_is_refused_with_422_and_changes_nothing(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    headers = {**(await market.clearing()), "Idempotency-Key": "funds-0002"}
    url = f"/api/v1/participants/{bank_id}/funds"
    await client.post(url, json={"amount": "10.00", "reference": "A"}, headers=headers)

    refused = await client.post(url, json={"amount": "99.00", "reference": "B"}, headers=headers)

    assert refused.status_code == 422
    assert refused.json()["code"] == "idempotency_key_reused"
    assert refused.json()["errors"] == [
        {
            "field": "Idempotency-Key",
            "reason": "this Idempotency-Key was used with a different request; use a new key",
        }
    ]
    assert (await market.balances(bank))["available"] == "10.00"


async def test_concurrent_retries_with_one_key_have_one_effect(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, admin_headers = None, market.admin
    headers = {**admin_headers, "Idempotency-Key": "create-bank-7"}
    body = {"name": "Concurrent Bank", "roles": ["bank"]}

    responses = await asyncio.gather(
        *(client.post("/api/v1/participants", json=body, headers=headers) for _ in range(12))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    # One made the key and shows it; the replays answer the same without it (a key is shown once).
    keys = [r.json()["api_key"] for r in responses]
    assert len([k for k in keys if k is not None]) == 1 and keys.count(None) == 11
    listing = (await client.get("/api/v1/participants?limit=200", headers=admin_headers)).json()
    assert [p["name"] for p in listing["items"]].count("Concurrent Bank") == 1


async def test_keys_are_per_participant(client: httpx.AsyncClient, market: Market) -> None:
    bank_id, bank = await market.participant(["bank"])
    _, other_clearing = await market.participant(["clearing"])
    url = f"/api/v1/participants/{bank_id}/funds"
    key = {"Idempotency-Key": "shared-key"}

    first = await client.post(
        url, json={"amount": "1.00", "reference": "X1"}, headers={**(await market.clearing()), **key}
    )
    second = await client.post(
        url, json={"amount": "2.00", "reference": "X2"}, headers={**other_clearing, **key}
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert (await market.balances(bank))["available"] == "3.00"


async def test_overlong_idempotency_key_is_refused(client: httpx.AsyncClient, market: Market) -> None:
    response = await client.post(
        "/api/v1/participants",
        json={"name": "N", "roles": ["bank"]},
        headers={**market.admin, "Idempotency-Key": "k" * 201},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
