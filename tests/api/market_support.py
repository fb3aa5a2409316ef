"""Helpers for transfer-center API tests: loans, listings, trades."""

from __future__ import annotations

from typing import Any

import httpx

VALID_CREDIT_CODE = "914403001922038216"


def loan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "borrower_name": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "borrower_credit_code": VALID_CREDIT_CODE,
        "principal": "5000000.00",
        "outstanding_principal": "4000000.00",
        "rate_bps": 385,
        "originated_on": "2025-01-10",
        "matures_on": "2028-01-10",
        "status": "performing",
        "collateral": [
            {
                "kind": "invention_patent",
                "registry_number": "ZL202010000001.X",
                "title": "Ceramic-coated lithium battery separator",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": "3000000.00",
                "appraised_on": "2024-12-01",
                "filed_on": "2020-06-15",
            },
            {
                "kind": "real_estate",
                "registry_number": "ZJ-HZ-2019-004411",
                "title": "Workshop, Xiaoshan",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": "1000000.00",
                "appraised_on": "2024-12-01",
            },
        ],
    }
    body.update(overrides)
    return body


async def register_loan(http: httpx.AsyncClient, bank: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await http.post("/api/v1/loans", json=loan_body(**overrides), headers=bank)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def post_ok(
    http: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str], status: int = 201
) -> Any:
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def negotiated_trade(
    http: httpx.AsyncClient, loan_id: int, seller: dict[str, str], buyer: dict[str, str]
) -> dict[str, Any]:
    """10 % of a loan's income right sold at 500,000.00 by offer and acceptance: the trade."""
    listing = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": loan_id,
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "500000.00",
        },
        seller,
    )
    offer = await post_ok(http, f"/api/v1/listings/{listing['id']}/offers", {"price": "500000.00"}, buyer)
    return dict(await post_ok(http, f"/api/v1/offers/{offer['id']}/accept", {}, seller))
