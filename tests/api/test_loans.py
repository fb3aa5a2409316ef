"""The loan and collateral registry: registration, validation, visibility and the one-pledge rule."""

from __future__ import annotations

import asyncio
import copy
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from app.context import AppContext
from app.db import Database
from tests.api.repayment_support import post_repayment
from tests.conftest import Market
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import AuditEvent
from transfer.models.loans import CollateralPledge, IncomeRight, Loan
from transfer.registry import loans
from transfer.registry.patent_facts import PatentFacts

BORROWER_CREDIT_CODE = "91330100MA27XL0Q1P"  # check character P over the first seventeen
PATENT_NUMBER = "ZL202110345678.9"


def patent(registry_number: str = PATENT_NUMBER, appraisal: str = "3000000.00") -> dict[str, Any]:
    return {
        "kind": "invention_patent",
        "registry_number": registry_number,
        "title": "Solid-state electrolyte membrane and its preparation",
        "right_holder": "Hangzhou Solid Cell Materials Co., Ltd.",
        "appraisal": appraisal,
        "appraised_on": "2025-02-20",
        "pledge_registration_no": "Y2025330000123",
        "expires_on": "2041-06-30",
        "filed_on": "2021-07-01",
    }


def trademark() -> dict[str, Any]:
    return {
        "kind": "trademark",
        "registry_number": "58213377",
        "title": "SOLIDCELL, class 9",
        "right_holder": "Hangzhou Solid Cell Materials Co., Ltd.",
        "appraisal": "500000.01",
        "appraised_on": "2025-02-20",
    }


def workshop(registry_number: str = "ZJ(2019)HZ-0044113") -> dict[str, Any]:
    return {
        "kind": "real_estate",
        "registry_number": registry_number,
        "title": "Workshop No. 3, Qiantang district",
        "right_holder": "Hangzhou Solid Cell Materials Co., Ltd.",
        "appraisal": "1234567.89",
        "appraised_on": "2025-01-15",
    }


def loan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "borrower_name": "Hangzhou Solid Cell Materials Co., Ltd.",
        "borrower_credit_code": BORROWER_CREDIT_CODE,
        "principal": "4000000.00",
        "outstanding_principal": "3750000.50",
        "rate_bps": 365,
        "originated_on": "2025-03-10",
        "matures_on": "2028-03-10",
        "status": "performing",
        "collateral": [patent(), trademark(), workshop()],
    }
    body.update(overrides)
    return body


async def register(http: httpx.AsyncClient, bank: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await http.post("/api/v1/loans", json=loan_body(**overrides), headers=bank)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def count(database: Database, statement: Any) -> int:
    async with database.read() as session:
        return int((await session.execute(statement)).scalar_one())


async def test_registration_of_mixed_collateral_answers_the_loan_with_the_exact_ip_share(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    bank_id, bank = await market.participant(["bank"])

    loan = await register(client, bank)

    assert loan["creditor_id"] == bank_id
    assert loan["servicer_id"] == bank_id  # the registering bank services by default
    assert (loan["principal"], loan["outstanding_principal"]) == ("4000000.00", "3750000.50")
    assert (loan["originated_on"], loan["matures_on"]) == ("2025-03-10", "2028-03-10")
    assert (loan["rate_bps"], loan["status"]) == (365, "performing")
    assert loan["is_ip_pledge"] is True
    # IP: 3,000,000.00 + 500,000.01 = 350,000,001 fen of 473,456,790 fen appraised in all;
    # 350000001 / 473456790 = 0.7392438093…, so 739,244 ppm rounded half up.
    assert loan["ip_share_ppm"] == 739_244
    assert [(c["kind"], c["is_ip"], c["appraisal"]) for c in loan["collateral"]] == [
        ("invention_patent", True, "3000000.00"),
        ("trademark", True, "500000.01"),
        ("real_estate", False, "1234567.89"),
    ]
    assert len({c["id"] for c in loan["collateral"]}) == 3
    assert loan["collateral"][0]["pledge_registration_no"] == "Y2025330000123"
    assert loan["collateral"][0]["expires_on"] == "2041-06-30"
    assert loan["collateral"][1]["expires_on"] is None
    assert loan["income_rights"] == [{"holder_id": bank_id, "share_ppm": 1_000_000}]
    fetched = await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)
    assert fetched.status_code == 200
    assert fetched.json() == loan
    events = await count(
        database,
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.type == "loan.registered", AuditEvent.subject == f"loan:{loan['id']}"),
    )
    assert events == 1
    assert await count(database, select(func.count()).select_from(CollateralPledge)) == 3


async def test_a_loan_without_ip_collateral_is_not_an_ip_pledge(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    _, bank = await market.participant(["bank"])
    equipment = {**workshop("EQ-2024-7781"), "kind": "equipment", "title": "Coating line"}

    plain = await register(client, bank, collateral=[workshop(), equipment])
    mixed = await register(client, bank, collateral=[patent()])

    assert (plain["is_ip_pledge"], plain["ip_share_ppm"]) == (False, 0)
    assert (mixed["is_ip_pledge"], mixed["ip_share_ppm"]) == (True, 1_000_000)
    async with database.read() as session:
        assert await loans.is_ip_pledge_loan(session, plain["id"]) is False
        assert await loans.is_ip_pledge_loan(session, mixed["id"]) is True


def _with_collateral(position: int, **changes: Any) -> dict[str, Any]:
    collateral = [patent(), trademark(), workshop()]
    collateral[position] = {**collateral[position], **changes}
    return {"collateral": collateral}


@pytest.mark.parametrize(
    ("overrides", "field", "reason_fragment"),
    [
        ({"borrower_credit_code": "91330100MA27XL0Q1A"}, "borrower_credit_code", "check character"),
        ({"borrower_credit_code": "91330100MA27XL0Q1"}, "borrower_credit_code", "18 characters"),
        (_with_collateral(1, kind="domain_name"), "collateral[1].kind", "unknown kind"),
        ({"outstanding_principal": "4000000.01"}, "outstanding_principal", "cannot exceed"),
        ({"matures_on": "2025-03-10"}, "matures_on", "later than originated_on"),
        ({"matures_on": "2024-03-10"}, "matures_on", "later than originated_on"),
        ({"collateral": []}, "collateral", "1 to 100"),
        (_with_collateral(2, appraisal="0.00"), "collateral[2].appraisal", "greater than zero"),
        (_with_collateral(0, appraisal=3000000), "collateral[0].appraisal", "Expected `str`"),
        ({"principal": "4000000.001"}, "principal", "more than two decimals"),
        ({"status": "defaulted"}, "status", "performing, overdue, non_performing"),
        ({"rate_bps": 100_001}, "rate_bps", "<= 100000"),
        ({"rate_bps": -1}, "rate_bps", ">= 0"),
        ({"originated_on": "2025-02-30"}, "originated_on", "date"),
        (_with_collateral(1, registry_number=" "), "collateral[1].registry_number", "empty"),
        (
            _with_collateral(2, registry_number=PATENT_NUMBER, kind="invention_patent"),
            "collateral[2].registry_number",
            "collateral[0]",
        ),
        ({"borrower_name": "  "}, "borrower_name", "empty"),
        (_with_collateral(0, filed_on=None), "collateral[0].filed_on", "needs its filing date"),
        (_with_collateral(2, filed_on="2020-01-01"), "collateral[2].filed_on", "a real_estate has no"),
        (_with_collateral(0, granted_on="2021-06-30"), "collateral[0].granted_on", "before filed_on"),
        (_with_collateral(0, filed_on="2199-01-01"), "collateral[0].filed_on", "after today"),
        (_with_collateral(0, filed_on="2001-07-01"), "collateral[0].filed_on", "expired on 2021-06-30"),
        (
            _with_collateral(0, granted_on="2022-01-05", fee_reduction_bps=5_000),
            "collateral[0].fee_reduction_bps",
            "0, 7000, 8500",
        ),
        (_with_collateral(0, fee_reduction_bps=8_500), "collateral[0].granted_on", "grant year"),
        (_with_collateral(0, fee_reduction_bps=10_001), "collateral[0].fee_reduction_bps", "<= 10000"),
        ({"collateral": [patent(f"ZL2021{i:08d}.1") for i in range(101)]}, "collateral", "<= 100"),
    ],
)
async def test_a_bad_loan_is_refused_with_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    market: Market,
    database: Database,
    overrides: dict[str, Any],
    field: str,
    reason_fragment: str,
) -> None:
    _, bank = await market.participant(["bank"])

    response = await client.post("/api/v1/loans", json=loan_body(**copy.deepcopy(overrides)), headers=bank)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert reason_fragment in problem["errors"][0]["reason"], problem
    assert await count(database, select(func.count()).select_from(Loan)) == 0
    assert await count(database, select(func.count()).select_from(CollateralPledge)) == 0


async def test_the_servicer_must_be_an_existing_bank(client: httpx.AsyncClient, market: Market) -> None:
    _, bank = await market.participant(["bank"])
    bidder_id, _ = await market.participant(["bidder"])

    not_bank = await client.post("/api/v1/loans", json=loan_body(servicer_id=bidder_id), headers=bank)
    missing = await client.post("/api/v1/loans", json=loan_body(servicer_id=987_654), headers=bank)

    assert (not_bank.status_code, not_bank.json()["code"]) == (422, "servicer_not_bank")
    assert (missing.status_code, missing.json()["code"]) == (422, "servicer_not_found")
    assert not_bank.json()["errors"][0]["field"] == missing.json()["errors"][0]["field"] == "servicer_id"


async def test_only_banks_register_loans(client: httpx.AsyncClient, market: Market) -> None:
    _, bidder = await market.participant(["bidder"])

    response = await client.post("/api/v1/loans", json=loan_body(), headers=bidder)

    assert response.status_code == 403


async def test_a_loan_is_visible_to_its_parties_and_clearing_and_hidden_from_anyone_else(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    _, creditor = await market.participant(["bank"], name="Creditor bank")
    servicer_id, servicer = await market.participant(["bank"], name="Servicing bank")
    holder_id, holder = await market.participant(["bank"], name="Income-right holder")
    _, stranger = await market.participant(["bank", "bidder"], name="Stranger bank")
    loan = await register(client, creditor, servicer_id=servicer_id)
    # A settled income-right trade, as transfer.registry.ownership leaves the register: 25 % to the holder.
    async with database.write() as session, session.begin():
        await session.execute(
            update(IncomeRight).where(IncomeRight.loan_id == loan["id"]).values(share_ppm=750_000)
        )
        session.add(IncomeRight(loan_id=loan["id"], holder_id=holder_id, share_ppm=250_000))
    path = f"/api/v1/loans/{loan['id']}"

    seen_by = {
        name: await client.get(path, headers=headers)
        for name, headers in [
            ("creditor", creditor),
            ("servicer", servicer),
            ("holder", holder),
            ("clearing", await market.clearing()),
            ("admin", market.admin),
            ("stranger", stranger),
        ]
    }
    never_existed = await client.get("/api/v1/loans/999999", headers=stranger)

    assert {name: r.status_code for name, r in seen_by.items()} == {
        "creditor": 200,
        "servicer": 200,
        "holder": 200,
        "clearing": 200,
        "admin": 200,
        "stranger": 404,
    }
    assert sorted((r["holder_id"], r["share_ppm"]) for r in seen_by["holder"].json()["income_rights"]) == [
        (seen_by["creditor"].json()["creditor_id"], 750_000),
        (holder_id, 250_000),
    ]
    # Not even the wording tells a hidden loan from one that does not exist.
    hidden, missing = seen_by["stranger"].json(), never_existed.json()
    assert (hidden["code"], missing["code"]) == ("loan_not_found", "loan_not_found")
    assert hidden["detail"].replace(str(loan["id"]), "N") == missing["detail"].replace("999999", "N")


async def test_own_loans_are_listed_by_page_and_nobody_elses(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    _, other = await market.participant(["bank"])
    mine = []
    for i in range(3):
        principal = f"{i + 1}000000.00"
        mine.append(
            await register(
                client,
                bank,
                collateral=[patent(f"ZL2022{i:08d}.5")],
                principal=principal,
                outstanding_principal=principal,
            )
        )
    await register(client, other, collateral=[patent("ZL202299999999.1")])

    page = (await client.get("/api/v1/loans?limit=2&offset=1", headers=bank)).json()
    others = (await client.get("/api/v1/loans", headers=other)).json()
    too_big = await client.get("/api/v1/loans?limit=201", headers=bank)

    assert page["total"] == 3
    assert [loan["id"] for loan in page["items"]] == [mine[1]["id"], mine[2]["id"]]
    assert [loan["principal"] for loan in page["items"]] == ["2000000.00", "3000000.00"]
    assert page["items"][0]["collateral"][0]["registry_number"] == "ZL202200000001.5"
    assert others["total"] == 1
    assert (too_big.status_code, too_big.json()["errors"][0]["field"]) == (422, "limit")


async def test_the_same_right_cannot_back_two_live_loans(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    _, first_bank = await market.participant(["bank"])
    _, second_bank = await market.participant(["bank"])
    await register(client, first_bank, collateral=[patent()])

    # Same patent typed with a space and in lower case, second in the list.
    refused = await client.post(
        "/api/v1/loans",
        json=loan_body(collateral=[workshop(), patent("zl 202110345678.9")]),
        headers=second_bank,
    )
    # The same number under another kind is another right.
    other_kind = await client.post(
        "/api/v1/loans",
        json=loan_body(collateral=[{**trademark(), "registry_number": PATENT_NUMBER}]),
        headers=second_bank,
    )

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "collateral_already_pledged"
    assert refused.json()["errors"] == [
        {"field": "collateral[1].registry_number", "reason": refused.json()["detail"]}
    ]
    assert other_kind.status_code == 201, other_kind.text
    assert await count(database, select(func.count()).select_from(Loan)) == 2
    # The refused loan's workshop was not left pledged by the refusal.
    assert await count(database, select(func.count()).select_from(CollateralPledge)) == 2


async def test_the_last_principal_repaid_frees_the_collateral_for_a_new_loan(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    _, bank = await market.participant(["bank"])
    _, other_bank = await market.participant(["bank"])
    loan = await register(client, bank, collateral=[patent()], outstanding_principal="1000.00")

    async def repay(principal: str) -> httpx.Response:
        body = {"principal": principal, "interest": "5.00", "received_on": "2026-06-01"}
        return await post_repayment(client, market, loan["id"], body, bank)

    listed = await client.post(
        "/api/v1/listings",
        json={
            "loan_id": loan["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 100_000,
            "asking_price": "50.00",
        },
        headers=bank,
    )
    assert listed.status_code == 201, listed.text
    partly = await repay("999.99")
    still_pledged = await client.post(
        "/api/v1/loans", json=loan_body(collateral=[patent()]), headers=other_bank
    )
    last = await repay("0.01")
    pledged_again = await client.post(
        "/api/v1/loans", json=loan_body(collateral=[patent()]), headers=other_bank
    )
    relisting = await client.post(
        "/api/v1/listings",
        json={"loan_id": loan["id"], "kind": "whole_loan", "mode": "negotiated", "asking_price": "1.00"},
        headers=bank,
    )
    shown = await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)
    _, buyer = await market.participant(["bank"], funds="100.00")
    late_offer = await client.post(
        f"/api/v1/listings/{listed.json()['id']}/offers", json={"price": "50.00"}, headers=buyer
    )

    assert partly.status_code == 201, partly.text
    assert still_pledged.status_code == 409
    assert still_pledged.json()["code"] == "collateral_already_pledged"
    assert last.status_code == 201, last.text
    assert last.json()["outstanding_principal"] == "0.00"
    assert pledged_again.status_code == 201, pledged_again.text
    assert relisting.status_code == 409
    assert relisting.json()["code"] == "loan_repaid"
    # Listed before the last repayment: the listing is still there, but nothing is left to buy.
    assert late_offer.status_code == 409, late_offer.text
    assert late_offer.json()["code"] == "loan_repaid"
    assert shown.json()["status"] == "repaid"
    assert shown.json()["outstanding_principal"] == "0.00"
    async with database.read() as session:
        pledges = (await session.execute(select(CollateralPledge.loan_id))).scalars().all()
        events = (
            (await session.execute(select(AuditEvent.type).where(AuditEvent.subject == f"loan:{loan['id']}")))
            .scalars()
            .all()
        )
    assert pledges == [pledged_again.json()["id"]]
    assert events.count("loan.repaid") == 1


async def test_simultaneous_registrations_of_one_right_give_exactly_one_loan(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    banks = [await market.participant(["bank"], name=f"Bank {i}") for i in range(8)]

    answers = await asyncio.gather(
        *(
            client.post(
                "/api/v1/loans",
                json=loan_body(collateral=[workshop(f"ZJ-OWN-{i}"), patent()]),
                headers=headers,
            )
            for i, (_, headers) in enumerate(banks)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * 7, [a.text for a in answers]
    assert {a.json()["errors"][0]["field"] for a in answers if a.status_code == 409} == {
        "collateral[1].registry_number"
    }
    assert await count(database, select(func.count()).select_from(Loan)) == 1
    assert await count(database, select(func.count()).select_from(CollateralPledge)) == 2


async def _lock_waiters(database: Database) -> int:
    async with database.read() as session:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        return int((await session.execute(text(query))).scalar_one())


async def test_a_registration_that_loses_the_race_at_the_pledge_key_gets_a_409_not_a_500(
    client: httpx.AsyncClient, market: Market, database: Database, context: AppContext
) -> None:
    """Forces the narrow race: the loser's check ran before the winner committed, so only the
    pledge key stops it. On PostgreSQL the loser's insert waits on the winner's key; on SQLite the
    loser waits for the write lock and its check then sees the pledge."""
    first_id, _ = await market.participant(["bank"])
    _, second = await market.participant(["bank"])
    spec = loans.LoanSpec(
        borrower_name="Hangzhou Solid Cell Materials Co., Ltd.",
        borrower_credit_code=BORROWER_CREDIT_CODE,
        principal_fen=400_000_000,
        outstanding_principal_fen=400_000_000,
        rate_bps=365,
        originated_on=date.fromisoformat("2025-03-10"),
        matures_on=date.fromisoformat("2028-03-10"),
        status="performing",
        collateral=[
            loans.CollateralSpec(
                kind="invention_patent",
                registry_number=PATENT_NUMBER,
                title="Solid-state electrolyte membrane",
                right_holder="Hangzhou Solid Cell Materials Co., Ltd.",
                appraisal_fen=300_000_000,
                appraised_on=date.fromisoformat("2025-02-20"),
                patent=PatentFacts(filed_on=date(2021, 7, 1)),
            )
        ],
    )
    registered, release = asyncio.Event(), asyncio.Event()

    async def register_and_hold(unit: UnitOfWork) -> int:
        view = await loans.register_loan(unit, first_id, spec)
        registered.set()
        await release.wait()  # keep the transaction open, pledge uncommitted
        return view.loan.id

    winner = asyncio.create_task(context.transact(register_and_hold, actor_id=first_id))
    await registered.wait()
    loser = asyncio.create_task(
        client.post("/api/v1/loans", json=loan_body(collateral=[patent()]), headers=second)
    )
    if not database.is_sqlite:
        for _ in range(500):  # until the loser's insert blocks on the winner's pledge key
            if await _lock_waiters(database) > 0:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the second registration never waited on the pledge key")
    else:
        await asyncio.sleep(0.2)
    release.set()
    winner_id = await winner
    answer = await loser

    assert answer.status_code == 409, answer.text
    assert answer.json()["errors"][0]["field"] == "collateral[0].registry_number"
    async with database.read() as session:
        pledges = (await session.execute(select(CollateralPledge.loan_id))).scalars().all()
    assert pledges == [winner_id]


async def test_a_retried_registration_with_the_same_key_registers_once(
    client: httpx.AsyncClient, market: Market, database: Database
) -> None:
    _, bank = await market.participant(["bank"])
    headers = {**bank, "Idempotency-Key": "loan-2025-0001"}

    first = await client.post("/api/v1/loans", json=loan_body(), headers=headers)
    again = await client.post("/api/v1/loans", json=loan_body(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert await count(database, select(func.count()).select_from(Loan)) == 1
