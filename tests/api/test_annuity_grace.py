"""Time travel over every late-fee month boundary of one fee, on both databases: the late fee the
run pays with it, its status, and the lapse the day after grace ends."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.context import AppContext
from tests.api.annuity_support import (
    UTILITY_NUMBER,
    annuities,
    fees_of,
    fund_escrow,
    item,
    run_on,
    travel_to_day,
)
from tests.api.market_support import loan_body, post_ok
from tests.conftest import FakeClock, Market

pytestmark = pytest.mark.db

# The utility model filed 2019-04-10: year 8's fee of 1,200.00 is due Friday 2026-04-10. Its grace
# months end 2026-05-11 (Sunday 10 May moved), 06-10, 07-10, 08-10, 09-10 and 10-10 (a 调休
# working Saturday); each further month begun adds 5 % of the fee, 25 % at most.
BOUNDARIES = [
    (date(2026, 4, 10), "scheduled", "0.00"),
    (date(2026, 4, 11), "in_grace", "0.00"),
    (date(2026, 5, 11), "in_grace", "0.00"),
    (date(2026, 5, 12), "in_grace", "60.00"),
    (date(2026, 6, 10), "in_grace", "60.00"),
    (date(2026, 6, 11), "in_grace", "120.00"),
    (date(2026, 7, 10), "in_grace", "120.00"),
    (date(2026, 7, 11), "in_grace", "180.00"),
    (date(2026, 8, 10), "in_grace", "180.00"),
    (date(2026, 8, 11), "in_grace", "240.00"),
    (date(2026, 9, 10), "in_grace", "240.00"),
    (date(2026, 9, 11), "in_grace", "300.00"),
    (date(2026, 10, 10), "in_grace", "300.00"),
]


async def _utility_loan(client: httpx.AsyncClient, bank: dict[str, str]) -> dict[str, Any]:
    body = loan_body(collateral=[item("utility_patent", UTILITY_NUMBER, "1000000.00", filed_on="2019-04-10")])
    return dict(await post_ok(client, "/api/v1/loans", body, bank))


@pytest.mark.parametrize(("day", "status_before", "late_fee"), BOUNDARIES)
async def test_a_fee_paid_on_a_grace_boundary_carries_that_months_late_fee(
    client: httpx.AsyncClient,
    market: Market,
    clock: FakeClock,
    context: AppContext,
    day: date,
    status_before: str,
    late_fee: str,
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    loan = await _utility_loan(client, bank)

    await run_on(context, clock, day)
    before = fees_of(await annuities(client, int(loan["id"]), bank))[(UTILITY_NUMBER, 8)]
    await fund_escrow(client, int(loan["id"]), await market.clearing(), "1500.00", f"PREPAY-{day}")
    assert (await run_on(context, clock, day)).paid == 1
    view = await annuities(client, int(loan["id"]), bank)
    after = fees_of(view)[(UTILITY_NUMBER, 8)]

    assert (before["status"], before["late_fee"]) == (status_before, late_fee)
    assert (after["status"], after["late_fee"], after["paid_on"]) == ("paid", late_fee, day.isoformat())
    paid_fen = 120_000 + int(late_fee.replace(".", ""))
    assert view["escrow_balance"] == f"{(150_000 - paid_fen) // 100}.{(150_000 - paid_fen) % 100:02d}"


async def test_the_day_after_grace_the_fee_lapses_and_the_escrow_no_longer_pays_it(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    loan = await _utility_loan(client, bank)

    result = await run_on(context, clock, date(2026, 10, 11))
    await fund_escrow(client, int(loan["id"]), await market.clearing(), "1500.00", "PREPAY-LATE")
    again = await run_on(context, clock, date(2026, 10, 11))

    assert [fee.due_on for fee in result.lapsed] == [date(2026, 4, 10)]
    assert again.paid == 0
    view = await annuities(client, int(loan["id"]), bank)
    fee = fees_of(view)[(UTILITY_NUMBER, 8)]
    assert (fee["status"], fee["lapsed_on"], fee["restore_by"]) == ("lapsed", "2026-10-11", "2026-12-11")
    # Restoring costs 1,200.00 + 300.00 + 1,000.00; the later year's fee is still to come.
    assert (view["escrow_balance"], view["coverage"]) == ("1500.00", "3000.00")

    travel_to_day(clock, date(2026, 12, 14))
    closed = await client.post(f"/api/v1/loans/{loan['id']}/annuities/{fee['id']}/pay", json={}, headers=bank)
    assert closed.status_code == 409 and closed.json()["code"] == "restoration_window_closed", closed.text
