"""质物状态查询: any participant asks where a right stands; never a borrower's figures."""

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
    run_on,
    travel_to_day,
)
from tests.api.disposal_support import DisposalDesk
from tests.api.market_support import post_ok
from tests.api.pool_support import AgencyDesk, bought_asset
from tests.api.test_pool_licenses import LICENSEE, licence
from tests.conftest import FakeClock, Market

pytestmark = pytest.mark.db
ANSWER_KEYS = {
    "kind",
    "registry_number",
    "state",
    "pledged",
    "in_disposal",
    "creditor",
    "pledged_since",
    "lapsed_on",
    "restored_on",
    "pool",
    "licences",
}


async def _status(http: httpx.AsyncClient, headers: dict[str, str], kind: str, number: str) -> dict[str, Any]:
    response = await http.get(
        "/api/v1/collateral/status", params={"kind": kind, "registry_number": number}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_bidder_sees_a_pledged_right_its_creditor_and_since_when_but_no_loan_figures(
    client: httpx.AsyncClient, market: Market, clock: FakeClock
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    bank_id, bank = await market.participant(["bank"], name="Bank of Hangzhou")
    _, bidder = await market.participant(["bidder"])
    await post_ok(client, "/api/v1/loans", annuity_loan(), bank)

    # Typed as people type it: lower case, spaces.
    status = await _status(client, bidder, "invention_patent", " zl 201610000315.x ")
    free = await _status(client, bidder, "invention_patent", "ZL209910000001.X")
    other_kind = await _status(client, bidder, "utility_patent", INVENTION_NUMBER)

    assert set(status) == ANSWER_KEYS
    assert (status["registry_number"], status["state"], status["pledged"], status["in_disposal"]) == (
        INVENTION_NUMBER,
        "pledged",
        True,
        False,
    )
    assert status["creditor"] == {"id": bank_id, "name": "Bank of Hangzhou"}
    assert str(status["pledged_since"]).startswith("2026-03-01T02:00:00")
    assert (free["state"], free["pledged"], free["creditor"]) == ("not_pledged", False, None)
    assert other_kind["state"] == "not_pledged"


async def test_the_status_follows_a_right_into_disposal_and_through_a_lapse_and_its_restoration(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, context: AppContext
) -> None:
    travel_to_day(clock, date(2026, 3, 1))
    _, bank = await market.participant(["bank"], funds="10000.00")
    _, other_bank = await market.participant(["bank"])
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)

    await run_on(context, clock, date(2026, 10, 11))  # the utility model's year 8 is six months late
    lapsed = await _status(client, other_bank, "utility_patent", UTILITY_NUMBER)
    assert (lapsed["state"], lapsed["lapsed_on"], lapsed["restored_on"]) == ("lapsed", "2026-10-11", None)

    fee = fees_of(await annuities(client, loan["id"], bank))[(UTILITY_NUMBER, 8)]
    travel_to_day(clock, date(2026, 11, 2))
    await post_ok(client, f"/api/v1/loans/{loan['id']}/annuities/{fee['id']}/pay", {}, bank, 200)
    restored = await _status(client, other_bank, "utility_patent", UTILITY_NUMBER)
    assert (restored["state"], restored["lapsed_on"], restored["restored_on"]) == (
        "pledged",
        "2026-10-11",
        "2026-11-02",
    )

    default = {"reason": "three instalments missed", "accrued_interest": "50000.00"}
    await post_ok(client, f"/api/v1/loans/{loan['id']}/default", default, bank)
    in_disposal = await _status(client, other_bank, "utility_patent", UTILITY_NUMBER)
    assert (in_disposal["state"], in_disposal["pledged"], in_disposal["in_disposal"]) == (
        "in_disposal",
        True,
        True,
    )
    # The invention's year-11 fee (due 2026-03-16) was never paid either: it lapsed too, and a
    # default does not make a lapsed patent one in disposal.
    still_lapsed = await _status(client, other_bank, "invention_patent", INVENTION_NUMBER)
    assert (still_lapsed["state"], still_lapsed["pledged"], still_lapsed["in_disposal"]) == (
        "lapsed",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "domain_name", "registry_number": "X1"}, "kind"),
        ({"kind": "trademark", "registry_number": "   "}, "registry_number"),
        ({"kind": "trademark"}, "registry_number"),
        ({"registry_number": "X1"}, "kind"),
    ],
)
async def test_a_bad_status_query_is_a_422_naming_the_field(
    client: httpx.AsyncClient, market: Market, query: dict[str, str], field: str
) -> None:
    _, bidder = await market.participant(["bidder"])
    response = await client.get("/api/v1/collateral/status", params=query, headers=bidder)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_the_status_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/collateral/status", params={"kind": "trademark", "registry_number": "X"}
    )
    assert response.status_code == 401


async def test_a_right_bought_into_a_pool_shows_the_pool_since_when_and_its_binding_licences_but_no_figures(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, bank = await market.participant(["bank"])
    agency_id, agency = await agencies.agency(name="Zhejiang IP Operations")
    _, lender = await market.participant(["bank"])
    pool = await agencies.pool(agency, name="Battery patents")
    licensed = await bought_asset(agencies, bank, agency, pool["id"], "ZL202110000501.X")
    opened = await bought_asset(agencies, bank, agency, pool["id"], "ZL202110000502.X")
    for body in (
        licence(licensed["id"], "exclusive"),
        licence(licensed["id"], "non_exclusive", territory="US"),
        licence(opened["id"], "open"),
    ):
        granted = await client.post(f"/api/v1/pools/{pool['id']}/licenses", json=body, headers=agency)
        assert granted.status_code == 201, granted.text

    status = await _status(client, lender, "invention_patent", "zl 202110000501.x")
    other = await _status(client, lender, "invention_patent", "ZL202110000502.X")
    unpooled = await _status(client, lender, "invention_patent", "ZL202110000599.X")

    assert set(status) == ANSWER_KEYS
    assert (status["state"], status["pledged"], status["creditor"]) == ("not_pledged", False, None)
    assert status["pool"] == {
        "id": pool["id"],
        "name": "Battery patents",
        "agency": {"id": agency_id, "name": "Zhejiang IP Operations"},
        "since": licensed["acquired_at"],
    }
    # The non-exclusive licence binds nobody else: only the exclusive one is listed, with no figure.
    assert status["licences"] == [
        {
            "kind": "exclusive",
            "licensee_name": LICENSEE[0],
            "territory": "CN",
            "field": "batteries",
            "starts_on": "2027-01-01",
            "ends_on": "2029-12-31",
        }
    ]
    assert [(item["kind"], item["licensee_name"]) for item in other["licences"]] == [("open", None)]
    assert (unpooled["pool"], unpooled["licences"]) == (None, [])
