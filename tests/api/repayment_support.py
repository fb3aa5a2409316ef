"""Posting a repayment as a servicer really does: clearing first books the borrower's cash as the
servicer's funds (`POST /participants/{id}/funds`), then the servicer distributes it. A repayment
pays out of those funds and never creates money (transfer/servicing/repayments.py), so a test that
repays without funding gets 409 `insufficient_funds`.

Funding exactly the repayment's total leaves every balance as a repayment used to: a holder's
available funds rise by its part, the servicer's by its own part."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Market


async def participant_id(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/api/v1/participants/me", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def repayment_total(body: dict[str, Any]) -> str:
    return f"{Decimal(str(body['principal'])) + Decimal(str(body['interest'])):.2f}"


async def fund_repayment(
    client: httpx.AsyncClient, market: Market, servicer: dict[str, str], body: dict[str, Any]
) -> None:
    """Clearing books the repayment's cash (principal + interest) to the servicer's funds."""
    total = repayment_total(body)
    if Decimal(total) > 0:
        await market.fund(await participant_id(client, servicer), total)


async def post_repayment(
    client: httpx.AsyncClient,
    market: Market,
    loan_id: int,
    body: dict[str, Any],
    servicer: dict[str, str],
) -> httpx.Response:
    """Fund the servicer with the repayment's total, then post the repayment."""
    await fund_repayment(client, market, servicer, body)
    return await client.post(f"/api/v1/loans/{loan_id}/repayments", json=body, headers=servicer)
