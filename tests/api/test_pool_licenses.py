"""Licences of pool assets: the overlap rule, open licences taken by anyone, and the pledgee's
consent for a right pledged again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.api.disposal_support import DisposalDesk
from tests.api.market_support import loan_body, post_ok
from tests.api.pool_support import AgencyDesk, bought_asset, refusal
from tests.conftest import Market

pytestmark = __import__("pytest").mark.db

LICENSEE = ("Ningbo Cell Works Co., Ltd.", "91330200MA2AB1C23K")
OTHER_LICENSEE = ("Suzhou Anode Materials Co., Ltd.", "91320500MA1MAB1237")


def licence(asset_id: int, kind: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "asset_id": asset_id,
        "kind": kind,
        "territory": "CN",
        "field": "batteries",
        "upfront": "50000.00",
        "running_royalty_bps": 300,
        "starts_on": "2027-01-01",
        "ends_on": "2029-12-31",
    }
    if kind != "open":
        body.update(licensee_name=LICENSEE[0], licensee_credit_code=LICENSEE[1])
    body.update(overrides)
    return body


async def _grant(
    client: httpx.AsyncClient, pool_id: int, agency: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/pools/{pool_id}/licenses", json=body, headers=agency)


async def _setup(
    market: Market, agencies: AgencyDesk, number: str
) -> tuple[dict[str, str], dict[str, str], dict[str, Any], dict[str, Any]]:
    _, bank = await market.participant(["bank"])
    _, agency = await agencies.agency()
    pool = await agencies.pool(agency)
    asset = await bought_asset(agencies, bank, agency, pool["id"], number)
    return bank, agency, pool, asset


async def test_an_exclusive_licence_refuses_an_overlapping_one_naming_it_and_admits_the_rest(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency, pool, asset = await _setup(market, agencies, "ZL202110000801.X")
    _, stranger = await agencies.agency()
    granted = await _grant(client, pool["id"], agency, licence(asset["id"], "exclusive"))
    assert granted.status_code == 201, granted.text
    exclusive = granted.json()
    assert (exclusive["kind"], exclusive["upfront"], exclusive["licensee_credit_code"]) == (
        "exclusive",
        "50000.00",
        LICENSEE[1],
    )

    overlapping = await _grant(
        client,
        pool["id"],
        agency,
        licence(asset["id"], "non_exclusive", territory="all", starts_on="2029-12-31", ends_on="2031-01-01"),
    )
    assert refusal(overlapping)[:2] == (409, "license_conflict"), overlapping.text
    assert overlapping.json()["conflicting_license_id"] == exclusive["id"]
    assert str(exclusive["id"]) in overlapping.json()["detail"]
    opened = await _grant(
        client, pool["id"], agency, licence(asset["id"], "open", territory="CN-HK", field="cars")
    )
    assert refusal(opened)[:2] == (409, "license_conflict"), opened.text
    for apart in (
        licence(asset["id"], "sole", territory="US"),
        licence(asset["id"], "non_exclusive", field="medical devices"),
        licence(asset["id"], "exclusive", starts_on="2030-01-01", ends_on="2032-12-31"),
    ):
        response = await _grant(client, pool["id"], agency, apart)
        assert response.status_code == 201, response.text

    assert refusal(await _grant(client, pool["id"], stranger, licence(asset["id"], "sole")))[:2] == (
        404,
        "pool_not_found",
    )
    assert refusal(await _grant(client, pool["id"], agency, licence(10**9, "sole")))[::2] == (404, "asset_id")
    bad_code = licence(asset["id"], "sole", territory="JP", licensee_credit_code="91330200MA2AB1C230")
    assert refusal(await _grant(client, pool["id"], agency, bad_code))[::2] == (422, "licensee_credit_code")
    backwards = licence(asset["id"], "sole", territory="JP", starts_on="2029-01-02", ends_on="2029-01-01")
    assert refusal(await _grant(client, pool["id"], agency, backwards))[::2] == (422, "ends_on")
    named_open = licence(
        asset["id"], "open", territory="JP", licensee_name="x", licensee_credit_code=LICENSEE[1]
    )
    assert refusal(await _grant(client, pool["id"], agency, named_open))[::2] == (422, "licensee_name")
    assert refusal(await _grant(client, pool["id"], agency, licence(asset["id"], "perpetual")))[::2] == (
        422,
        "kind",
    )
    view = await agencies.pool_view(pool["id"], agency)
    assert [entry["kind"] for entry in view["licenses"]] == [
        "exclusive",
        "sole",
        "non_exclusive",
        "exclusive",
    ]


async def test_an_open_licence_is_public_and_taken_by_two_licensees_at_its_terms(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency, pool, asset = await _setup(market, agencies, "ZL202110000802.X")
    _, taker = await market.participant(["bidder"])
    published = await _grant(
        client, pool["id"], agency, licence(asset["id"], "open", running_royalty_bps=250)
    )
    assert published.status_code == 201, published.text
    open_id = published.json()["id"]

    listed = await client.get("/api/v1/open-licenses")
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["items"]
    assert (entry["id"], entry["registry_number"], entry["running_royalty_bps"]) == (
        open_id,
        "ZL202110000802.X",
        250,
    )
    path = f"/api/v1/open-licenses/{open_id}/take"
    assert (
        await client.post(path, json={"licensee_name": "x", "licensee_credit_code": LICENSEE[1]})
    ).status_code == 401
    taken = []
    for name, code in (LICENSEE, OTHER_LICENSEE):
        response = await client.post(
            path, json={"licensee_name": name, "licensee_credit_code": code}, headers=taker
        )
        assert response.status_code == 201, response.text
        taken.append(response.json())
    assert [(t["kind"], t["open_license_id"], t["running_royalty_bps"], t["ends_on"]) for t in taken] == [
        ("non_exclusive", open_id, 250, "2029-12-31")
    ] * 2
    again = await client.post(
        path, json={"licensee_name": LICENSEE[0], "licensee_credit_code": LICENSEE[1]}, headers=taker
    )
    assert refusal(again)[:2] == (409, "already_licensed"), again.text
    not_open = await client.post(
        f"/api/v1/open-licenses/{taken[0]['id']}/take",
        json={"licensee_name": LICENSEE[0], "licensee_credit_code": LICENSEE[1]},
        headers=taker,
    )
    assert refusal(not_open)[:2] == (404, "open_license_not_found"), not_open.text
    sole = await _grant(
        client, pool["id"], agency, licence(asset["id"], "sole", territory="JP", field="cars")
    )
    assert refusal(sole)[:2] == (409, "license_conflict") and sole.json()["conflicting_license_id"] == open_id
    assert len((await agencies.pool_view(pool["id"], agency))["licenses"]) == 3


async def test_a_right_pledged_again_is_licensed_only_under_its_pledgees_consent(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency, pool, asset = await _setup(market, agencies, "ZL202110000803.X")
    _, lender = await market.participant(["bank"])
    _, stranger_bank = await market.participant(["bank"])
    repledge = loan_body(
        collateral=[
            {
                "kind": "invention_patent",
                "registry_number": "ZL202110000803.X",
                "title": "Solid-state electrolyte membrane",
                "right_holder": "The agency",
                "appraisal": "900000.00",
                "appraised_on": "2026-11-01",
                "filed_on": "2021-04-20",
            }
        ]
    )
    loan = dict(await post_ok(client, "/api/v1/loans", repledge, lender))
    cid = loan["collateral"][0]["id"]
    wanted = licence(asset["id"], "exclusive")

    refused = await _grant(client, pool["id"], agency, wanted)
    assert refusal(refused)[::2] == (409, "asset_id") and refused.json()["code"] == "consent_required", (
        refused.text
    )
    assert refused.json()["loan_id"] == loan["id"]
    consent_path = f"/api/v1/loans/{loan['id']}/collateral/{cid}/license-consents"
    consent_body = {
        key: wanted[key]
        for key in (
            "kind",
            "territory",
            "field",
            "starts_on",
            "ends_on",
            "licensee_name",
            "licensee_credit_code",
        )
    }
    assert (await client.post(consent_path, json=consent_body, headers=stranger_bank)).status_code == 403
    wrong_item = await client.post(
        f"/api/v1/loans/{loan['id']}/collateral/{asset['collateral_id']}/license-consents",
        json=consent_body,
        headers=lender,
    )
    assert wrong_item.status_code == 404, wrong_item.text
    narrower = await client.post(consent_path, json={**consent_body, "territory": "CN-ZJ"}, headers=lender)
    assert narrower.status_code == 201, narrower.text
    assert (await _grant(client, pool["id"], agency, wanted)).json()["code"] == "consent_required"

    consent = await client.post(consent_path, json=consent_body, headers=lender)
    assert consent.status_code == 201, consent.text
    granted = await _grant(client, pool["id"], agency, wanted)
    assert granted.status_code == 201, granted.text
    assert granted.json()["consent_id"] == consent.json()["id"]


async def test_two_exclusive_licences_asked_at_once_grant_exactly_one(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    _, agency, pool, asset = await _setup(market, agencies, "ZL202110000804.X")

    answers = await asyncio.gather(
        _grant(client, pool["id"], agency, licence(asset["id"], "exclusive")),
        _grant(
            client,
            pool["id"],
            agency,
            licence(
                asset["id"], "sole", licensee_name=OTHER_LICENSEE[0], licensee_credit_code=OTHER_LICENSEE[1]
            ),
        ),
    )

    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert len((await agencies.pool_view(pool["id"], agency))["licenses"]) == 1
