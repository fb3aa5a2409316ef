"""The one working calendar over HTTP: a trade's settlement date and the daily statement."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.api.market_support import negotiated_trade, register_loan
from tests.conftest import FakeClock, Market

pytestmark = __import__("pytest").mark.db


async def test_a_trade_struck_before_national_day_settles_t_plus_3_on_the_working_saturday(
    client: httpx.AsyncClient, market: Market, clock: FakeClock
) -> None:
    clock.set(datetime(2025, 9, 30, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai, Tuesday 30 September
    _, bank = await market.participant(["bank"])
    _, buyer = await market.participant(["bank"], funds="600000.00")
    loan = await register_loan(client, bank)

    trade = await negotiated_trade(client, loan["id"], bank, buyer)

    assert trade["trade_date"] == "2025-09-30"
    # 1-8 October is the holiday; Thu 9 and Fri 10 count, and Sat 11 October is a 调休 working day.
    assert trade["settlement_due_on"] == "2025-10-11"


async def test_the_statement_says_whether_its_day_is_a_working_day_and_its_value_date(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    holiday = (await client.get("/api/v1/participants/me/statement?date=2026-02-17", headers=bank)).json()
    saturday = (await client.get("/api/v1/participants/me/statement?date=2026-02-14", headers=bank)).json()

    assert (holiday["working_day"], holiday["value_date"]) == (False, "2026-02-24")
    assert (saturday["working_day"], saturday["value_date"]) == (True, "2026-02-14")
