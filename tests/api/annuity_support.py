"""Helpers for annuity API tests: a loan with two patents, a trademark and a workshop; time travel
to a Shanghai day and the scheduler's annuity run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from app.context import AppContext
from app.scheduler import run_annuities
from tests.api.market_support import loan_body, post_ok
from tests.conftest import FakeClock
from transfer import ledger
from transfer.annuities.daily_run import RunResult
from transfer.models import Account
from transfer.rules.fee_waiver import SHANGHAI

INVENTION_NUMBER = "ZL201610000315.X"  # filed 2016-03-15: year 11 due 2026-03-16, year 12 2027-03-15
UTILITY_NUMBER = "ZL201920000410.1"  # filed 2019-04-10: year 8 due 2026-04-10, year 9 2027-04-12


def item(kind: str, number: str, appraisal: str, **facts: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "registry_number": number,
        "title": f"{kind} {number}",
        "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "appraisal": appraisal,
        "appraised_on": "2025-12-01",
        **facts,
    }


def annuity_loan(invention: str = INVENTION_NUMBER, utility: str = UTILITY_NUMBER) -> dict[str, Any]:
    """Matures 2028-01-10; its IP is 4,500,000.00 of 5,000,000.00 appraised (900,000 ppm)."""
    return loan_body(
        collateral=[
            item("invention_patent", invention, "3000000.00", filed_on="2016-03-15", granted_on="2016-11-20"),
            item("utility_patent", utility, "1000000.00", filed_on="2019-04-10"),
            item("trademark", f"TM-{invention[-6:]}", "500000.00"),
            item("real_estate", f"ZJ-{invention[-6:]}", "500000.00"),
        ]
    )


def travel_to_day(clock: FakeClock, day: date) -> None:
    """10:00 in Shanghai on `day`."""
    clock.set(datetime.combine(day, time(10), tzinfo=SHANGHAI).astimezone(UTC))


async def run_on(context: AppContext, clock: FakeClock, day: date) -> RunResult:
    travel_to_day(clock, day)
    return await run_annuities(context)


async def annuities(http: httpx.AsyncClient, loan_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await http.get(f"/api/v1/loans/{loan_id}/annuities", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def fees_of(view: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """(registry number, patent year) -> the fee's line."""
    return {
        (patent["registry_number"], fee["patent_year"]): fee
        for patent in view["patents"]
        for fee in patent["annuities"]
    }


async def fund_escrow(
    http: httpx.AsyncClient, loan_id: int, headers: dict[str, str], amount: str, reference: str
) -> dict[str, Any]:
    body = {"amount": amount, "reference": reference}
    return dict(await post_ok(http, f"/api/v1/loans/{loan_id}/annuity-escrow", body, headers))


async def payee_balance_fen(context: AppContext) -> int:
    async with context.database.read() as session:
        return int(
            (
                await session.execute(
                    select(Account.balance_fen).where(
                        Account.key == ledger.center_account_key(ledger.PATENT_OFFICE)
                    )
                )
            ).scalar_one()
        )


async def ledger_sum_fen(context: AppContext) -> int:
    async with context.database.read() as session:
        return int(
            (await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one()
        )


def next_day(day: date) -> date:
    return day + timedelta(days=1)
