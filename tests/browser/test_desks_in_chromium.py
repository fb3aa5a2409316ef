"""The bank and agency desks in a real browser: a bank logs in through the form and reads a
bought-out case's waterfall, whose total is the API's; the agency reads what it holds and its pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.disposal_support import patent_loan
from tests.browser.conftest import Api, People, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _yuan(api_amount: str) -> str:
    whole, fraction = api_amount.split(".")
    return f"¥{int(whole):,}.{fraction}"


async def _post(api: Api, path: str, body: object, key: str, status: int = 201) -> dict[str, object]:
    response = await api.http.post(path, json=body, headers=api.bearer(key))
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_a_bank_reads_the_waterfall_of_a_bought_out_case_and_its_total_is_the_apis(
    api: Api, people: People
) -> None:
    _, bank_key = await api.participant(["bank"], "招商银行 Desk Bank")
    _, agency_key = await api.participant(["agency"], "知识产权运营 Desk Agency", funds="2000000.00")
    loan = await _post(api, "/api/v1/loans", patent_loan(number="ZL202110009001.X"), bank_key)
    case = await _post(
        api,
        f"/api/v1/loans/{loan['id']}/default",
        {
            "reason": "three instalments missed",
            "accrued_interest": "50000.00",
            "realization_costs": "8000.00",
        },
        bank_key,
    )
    pool = await _post(api, "/api/v1/pools", {"name": "电池专利运营池"}, agency_key)
    valid_until = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    offer = await _post(
        api,
        f"/api/v1/disposals/{case['id']}/buyout-offers",
        {"price": "760000.00", "pool_id": pool["id"], "valid_until": valid_until},
        agency_key,
    )
    await _post(api, f"/api/v1/buyout-offers/{offer['id']}/accept", {}, bank_key, status=200)
    settled = (await api.http.get(f"/api/v1/disposals/{case['id']}", headers=api.bearer(bank_key))).json()
    lines = settled["waterfall"]
    assert lines, settled
    total_fen = sum(int(line["amount"].replace(".", "")) for line in lines)
    assert total_fen == int(settled["proceeds"]["total"].replace(".", ""))

    bank = await people.person(bank_key)
    await bank.get_by_role("link", name="银行工作台").click()
    await bank.wait_for_url("**/desk/bank")
    table = bank.get_by_test_id(f"waterfall-{case['id']}")
    await table.wait_for()
    shown_total = await bank.get_by_test_id(f"waterfall-total-{case['id']}").inner_text()
    assert shown_total == _yuan(f"{total_fen // 100}.{total_fen % 100:02d}")
    amounts = [await cell.inner_text() for cell in await table.get_by_test_id("waterfall-amount").all()]
    assert amounts == [_yuan(line["amount"]) for line in lines]
    chart = bank.get_by_test_id(f"chart-waterfall-{case['id']}")
    assert await chart.locator("rect").count() == len(lines)
    await bank.get_by_test_id(f"case-{case['id']}").scroll_into_view_if_needed()
    await screenshot(bank, "bank-desk")

    agency = await people.person(agency_key)
    await agency.goto("/desk/agency")
    assert await agency.get_by_test_id(f"offer-held-{offer['id']}").inner_text() == "¥0.00"
    assert await agency.get_by_test_id(f"assets-{pool['id']}").locator("tbody tr").count() == 1
    await screenshot(agency, "agency-desk")
