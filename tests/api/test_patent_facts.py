"""PATCH /loans/{id}/collateral/{cid}: the creditor gives an existing patent its facts, and its
fees are scheduled from them; refusals name the field and change nothing."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import delete, update

from app.context import AppContext
from tests.api.annuity_support import INVENTION_NUMBER, annuities, annuity_loan, fees_of, travel_to_day
from tests.api.market_support import post_ok
from tests.conftest import FakeClock, Market
from transfer.models.annuities import Annuity, AnnuityGraceMonth
from transfer.models.loans import CollateralItem

pytestmark = pytest.mark.db


async def _pre_annuity_loan(
    client: httpx.AsyncClient, context: AppContext, bank: dict[str, str]
) -> tuple[int, int]:
    """A loan whose invention was registered before patents had facts (as migrated data is)."""
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    patent_id = loan["collateral"][0]["id"]
    async with context.database.write() as session, session.begin():
        await session.execute(delete(AnnuityGraceMonth))
        await session.execute(delete(Annuity))
        await session.execute(
            update(CollateralItem)
            .where(CollateralItem.id == patent_id)
            .values(filed_on=None, granted_on=None, fee_reduction_bps=None)
        )
    return loan["id"], patent_id


async def test_the_creditor_sets_an_existing_patents_facts_and_its_fees_are_scheduled(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    loan_id, patent_id = await _pre_annuity_loan(client, context, bank)
    assert (INVENTION_NUMBER, 11) not in fees_of(await annuities(client, loan_id, bank))

    response = await client.patch(
        f"/api/v1/loans/{loan_id}/collateral/{patent_id}",
        json={"filed_on": "2016-03-15", "granted_on": "2017-04-01", "fee_reduction_bps": 8500},
        headers=bank,
    )

    assert response.status_code == 200, response.text
    item = response.json()["collateral"][0]
    assert (item["filed_on"], item["granted_on"], item["fee_reduction_bps"]) == (
        "2016-03-15",
        "2017-04-01",
        8500,
    )
    fees = fees_of(await annuities(client, loan_id, bank))
    # Granted in year 2: years 2-11 reduced by 85 %, year 12 in full.
    assert (fees[(INVENTION_NUMBER, 11)]["fee"], fees[(INVENTION_NUMBER, 12)]["fee"]) == ("600.00", "4000.00")

    # A later correction re-schedules the fees not yet due.
    corrected = await client.patch(
        f"/api/v1/loans/{loan_id}/collateral/{patent_id}", json={"fee_reduction_bps": 0}, headers=bank
    )
    assert corrected.status_code == 200, corrected.text
    fees = fees_of(await annuities(client, loan_id, bank))
    assert fees[(INVENTION_NUMBER, 11)]["fee"] == "4000.00"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, None, "nothing_to_change"),
        ({"granted_on": "2017-04-01"}, "filed_on", "filed_on_required"),
        ({"filed_on": "2016-03-15", "granted_on": "2016-01-01"}, "granted_on", "granted_before_filed"),
        ({"filed_on": "2016-03-15", "fee_reduction_bps": 8500}, "granted_on", "grant_date_required"),
        (
            {"filed_on": "2016-03-15", "granted_on": "2017-04-01", "fee_reduction_bps": 9000},
            "fee_reduction_bps",
            "unknown_fee_reduction",
        ),
        ({"filed_on": "1990-01-01"}, "filed_on", "patent_term_ended"),
        ({"filed_on": "2016-02-30"}, None, "validation_failed"),
        ({"filed_on": "2016-03-15", "title": "x"}, None, "validation_failed"),
    ],
)
async def test_bad_patent_facts_are_refused_naming_the_field_and_change_nothing(
    client: httpx.AsyncClient,
    market: Market,
    clock: FakeClock,
    context: AppContext,
    body: dict[str, object],
    field: str | None,
    code: str,
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    loan_id, patent_id = await _pre_annuity_loan(client, context, bank)

    response = await client.patch(f"/api/v1/loans/{loan_id}/collateral/{patent_id}", json=body, headers=bank)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code, problem
    if field is not None:
        assert problem["errors"][0]["field"] == field, problem
    loan = (await client.get(f"/api/v1/loans/{loan_id}", headers=bank)).json()
    assert loan["collateral"][0]["filed_on"] is None
    assert fees_of(await annuities(client, loan_id, bank)).get((INVENTION_NUMBER, 11)) is None


async def test_a_stranger_bank_cannot_patch_another_banks_collateral_nor_a_non_patent(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"])
    _, stranger = await market.participant(["bank"])
    loan_id, patent_id = await _pre_annuity_loan(client, context, bank)
    loan = (await client.get(f"/api/v1/loans/{loan_id}", headers=bank)).json()
    trademark_id = loan["collateral"][2]["id"]
    facts = {"filed_on": "2016-03-15"}

    foreign = await client.patch(
        f"/api/v1/loans/{loan_id}/collateral/{patent_id}", json=facts, headers=stranger
    )
    elsewhere = await client.patch(f"/api/v1/loans/{loan_id}/collateral/999999", json=facts, headers=bank)
    trademark = await client.patch(
        f"/api/v1/loans/{loan_id}/collateral/{trademark_id}", json=facts, headers=bank
    )

    assert foreign.status_code == 404 and foreign.json()["code"] == "loan_not_found", foreign.text
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "collateral_not_found", elsewhere.text
    assert trademark.status_code == 422 and trademark.json()["code"] == "not_a_patent", trademark.text
    assert (await client.get(f"/api/v1/loans/{loan_id}", headers=bank)).json()["collateral"][0][
        "filed_on"
    ] is None


async def test_alerts_are_the_callers_own_and_an_unknown_kind_is_refused(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    unknown = await client.get("/api/v1/participants/me/alerts?kind=everything", headers=bank)
    none = await client.get("/api/v1/participants/me/alerts", headers=bank)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "kind", unknown.text
    assert none.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
