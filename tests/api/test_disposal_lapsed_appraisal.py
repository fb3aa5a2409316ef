"""A lapsed patent backs nothing: a case opened on a loan with one counts only the items in force
(a restored one included) in its appraisal, so its round minimums come from the rest."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.context import AppContext
from tests.api.annuity_support import (
    INVENTION_NUMBER,
    UTILITY_NUMBER,
    annuities,
    annuity_loan,
    fees_of,
    fund_escrow,
    run_on,
    travel_to_day,
)
from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.api.market_support import post_ok
from tests.conftest import FakeClock, Market

pytestmark = pytest.mark.db


async def _loan_with_a_lapsed_utility_model(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """The invention's year-11 fee (4,000.00, due 2026-03-16) is paid from escrow; the utility
    model's year-8 fee (due 2026-04-10) never is, and lapses on 2026-10-11."""
    travel_to_day(clock, date(2026, 3, 1))
    bank_id, bank = await market.participant(["bank"])
    loan = dict(await post_ok(client, "/api/v1/loans", annuity_loan(), bank))
    await fund_escrow(client, int(loan["id"]), await market.clearing(), "4000.00", "PREPAY-INVENTION")
    assert (await run_on(context, clock, date(2026, 3, 16))).paid == 1
    assert [fee.due_on for fee in (await run_on(context, clock, date(2026, 10, 11))).lapsed] == [
        date(2026, 4, 10)
    ]
    return bank_id, bank, loan


async def test_a_case_on_a_loan_with_a_lapsed_patent_appraises_only_the_rest_and_round_one_starts_at_70_percent_of_it(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext, desk: DisposalDesk
) -> None:
    _, bank, loan = await _loan_with_a_lapsed_utility_model(client, market, clock, context)

    case = await desk.opened(int(loan["id"]), bank)

    # 5,000,000.00 appraised, 1,000,000.00 of it the lapsed utility model.
    assert case["appraisal"] == "4000000.00"
    states = {item["registry_number"]: item["state"] for item in case["collateral"]}
    assert states[UTILITY_NUMBER] == "lapsed"
    assert states[INVENTION_NUMBER] == "in_disposal"
    low = await desk.round(case["id"], bank, 30 * DAY_S + 60, start_price="2790000.00", deposit="200000.00")
    assert low.status_code == 422, low.text
    assert low.json()["errors"][0]["field"] == "start_price"
    first = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60, deposit="200000.00")
    assert first["steps"][0]["start_price"] == "2800000.00"


async def test_a_restored_patent_counts_again_in_the_cases_appraisal(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext, desk: DisposalDesk
) -> None:
    bank_id, bank, loan = await _loan_with_a_lapsed_utility_model(client, market, clock, context)
    lapsed = fees_of(await annuities(client, int(loan["id"]), bank))[(UTILITY_NUMBER, 8)]
    await market.fund(bank_id, "10000.00")
    restored = await client.post(
        f"/api/v1/loans/{loan['id']}/annuities/{lapsed['id']}/pay", json={}, headers=bank
    )
    assert restored.status_code in (200, 201), restored.text

    case = await desk.opened(int(loan["id"]), bank)

    assert case["appraisal"] == "5000000.00"
    assert {item["state"] for item in case["collateral"]} == {"in_disposal"}
    first = await desk.round_ok(case["id"], bank, 30 * DAY_S + 60, deposit="200000.00")
    assert first["steps"][0]["start_price"] == "3500000.00"
