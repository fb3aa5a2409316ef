"""The clearing desk's money controls over HTTP, on both databases: twins of one money movement
(the same bank reference, 20 at once) get the answer a sequential retry gets, never a 5xx; a clerk
never books to its own participant; receipts and withdrawals past IPX_DUAL_CONTROL_ABOVE
(1,000,000.00) over the Asia/Shanghai day's running total wait for a second clearing participant,
also when split or sent at once; a bank reference is one receipt across the center."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from tests.api.annuity_support import annuity_loan, travel_to_day
from tests.api.market_support import post_ok
from tests.conftest import FakeClock, Market
from transfer import ledger
from transfer.kernel.audit_tables import AuditEvent
from transfer.kernel.unit_of_work import UnitOfWork

pytestmark = pytest.mark.db
BURST = 20


async def _burst(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(BURST))))


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


async def test_twenty_twin_funds_receipts_at_once_all_answer_the_one_credit(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/funds",
        {"amount": "100.00", "reference": "RACE-F"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert {r.json()["transfer_id"] for r in responses} == {responses[0].json()["transfer_id"]}
    assert await market.balances(bank) == {"available": "100.00", "held": "0.00"}


async def test_twenty_twin_withdrawals_at_once_all_answer_the_one_payout(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="1000.00")
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/withdrawals",
        {"amount": "100.00", "reference": "RACE-SAME"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert {(r.json()["transfer_id"], r.json()["status"]) for r in responses} == {
        (responses[0].json()["transfer_id"], "done")
    }
    assert await market.balances(bank) == {"available": "900.00", "held": "0.00"}


async def test_twenty_twin_large_withdrawals_at_once_hold_once_and_ask_one_approval(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"], funds="3000000.00")
    responses = await _burst(
        client,
        f"/api/v1/participants/{bank_id}/withdrawals",
        {"amount": "1500000.00", "reference": "RACE-LARGE"},
        await market.clearing(),
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    assert len({(r.json()["approval_id"], r.json()["status"]) for r in responses}) == 1
    assert responses[0].json()["status"] == "awaiting_approval"
    assert await market.balances(bank) == {"available": "1500000.00", "held": "1500000.00"}


async def test_a_different_amount_under_a_booked_reference_is_the_defined_conflict_at_once_too(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    clearing = await market.clearing()
    path = f"/api/v1/participants/{bank_id}/funds"
    responses = list(
        await asyncio.gather(
            *(
                client.post(
                    path, json={"amount": f"{100 + i % 2}.00", "reference": "RACE-MIXED"}, headers=clearing
                )
                for i in range(BURST)
            )
        )
    )
    statuses = _statuses(responses)
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"transfer_id_reused"}
    credited = {r.json()["amount"] for r in responses if r.status_code == 201}
    assert len(credited) == 1
    assert (await market.balances(bank))["available"] == credited.pop()


async def test_twenty_twin_compensation_fund_receipts_at_once_credit_the_fund_once(
    client: httpx.AsyncClient, market: Market
) -> None:
    body = {"name": "Race fund", "region": "Zhejiang", "fund_share_bps": 4000, "per_loan_cap": "1000000.00"}
    fund = await post_ok(client, "/api/v1/compensation-funds", body, market.admin)
    clearing = await market.clearing()
    responses = await _burst(
        client,
        f"/api/v1/compensation-funds/{fund['id']}/funds",
        {"amount": "500.00", "reference": "GRANT-RACE"},
        clearing,
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    detail = await client.get(f"/api/v1/compensation-funds/{fund['id']}", headers=clearing)
    assert detail.json()["balance"] == "500.00", detail.text


async def test_twenty_twin_annuity_escrow_receipts_at_once_book_once_and_refuse_the_rest(
    client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    loan = await post_ok(client, "/api/v1/loans", annuity_loan(), bank)
    responses = await _burst(
        client,
        f"/api/v1/loans/{loan['id']}/annuity-escrow",
        {"amount": "4000.00", "reference": "PREPAY-RACE"},
        await market.clearing(),
    )
    # A sequential retry of an escrow receipt is refused by name: so is every twin but the one.
    assert _statuses(responses) == {201: 1, 409: BURST - 1}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"reference_already_booked"}
    view = await client.get(f"/api/v1/loans/{loan['id']}/annuities", headers=bank)
    assert view.json()["escrow_balance"] == "4000.00"


async def _move(
    client: httpx.AsyncClient,
    direction: str,
    participant_id: int,
    amount: str,
    reference: str,
    clerk: dict[str, str],
) -> httpx.Response:
    return await client.post(
        f"/api/v1/participants/{participant_id}/{direction}",
        json={"amount": amount, "reference": reference},
        headers=clerk,
    )


@pytest.mark.parametrize("direction", ["funds", "withdrawals"])
async def test_a_clerk_may_not_book_money_of_its_own_participant(
    client: httpx.AsyncClient, market: Market, direction: str
) -> None:
    clerk = await market.clearing()
    me = (await client.get("/api/v1/participants/me", headers=clerk)).json()
    response = await _move(client, direction, me["id"], "10.00", "SELF-1", clerk)
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "own_participant" and str(me["id"]) in problem["detail"]
    assert problem["errors"][0]["field"] == "participant_id"
    assert await market.balances(clerk) == {"available": "0.00", "held": "0.00"}


async def test_a_large_receipt_credits_nothing_until_a_second_clearing_participant_approves(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    bank_id, bank = await market.participant(["bank"])
    maker, checker = await market.clearing(), await market.checker()
    waiting = await _move(client, "funds", bank_id, "1500000.00", "WIRE-BIG", maker)
    assert waiting.status_code == 201, waiting.text
    assert (waiting.json()["status"], waiting.json()["transfer_id"]) == (
        "awaiting_approval",
        "receipt:WIRE-BIG",
    )
    approval_id = waiting.json()["approval_id"]
    assert await market.balances(bank) == {"available": "0.00", "held": "0.00"}
    again = await _move(client, "funds", bank_id, "1500000.00", "WIRE-BIG", maker)
    assert again.json()["approval_id"] == approval_id
    other = await _move(client, "funds", bank_id, "1400000.00", "WIRE-BIG", maker)
    assert other.status_code == 409 and other.json()["code"] == "reference_reused", other.text

    own = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=maker)
    assert own.status_code == 403 and own.json()["code"] == "maker_cannot_approve"
    assert await market.balances(bank) == {"available": "0.00", "held": "0.00"}
    approved = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=checker)
    assert approved.status_code == 200 and approved.json()["kind"] == "funds_receipt", approved.text
    assert await market.balances(bank) == {"available": "1500000.00", "held": "0.00"}
    replay = await _move(client, "funds", bank_id, "1500000.00", "WIRE-BIG", maker)
    assert (replay.status_code, replay.json()["status"]) == (201, "done")
    assert await market.balances(bank) == {"available": "1500000.00", "held": "0.00"}

    async with context.database.read() as session:
        events = (
            await session.execute(
                select(AuditEvent.type, AuditEvent.payload).where(
                    AuditEvent.type.in_(["approval.requested", "approval.approved", "funds.recorded"]),
                    AuditEvent.subject.in_([f"approval:{approval_id}", f"participant:{bank_id}"]),
                )
            )
        ).all()
    types = [type_ for type_, _ in events]
    assert types.count("approval.requested") == 1 and types.count("approval.approved") == 1
    credited = [json.loads(payload) for type_, payload in events if type_ == "funds.recorded"]
    assert credited[0]["approval_id"] == approval_id
    verify = await client.get("/api/v1/audit/verify", headers=checker)
    assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text


async def test_a_rejected_receipt_is_never_credited(client: httpx.AsyncClient, market: Market) -> None:
    bank_id, bank = await market.participant(["bank"])
    waiting = await _move(client, "funds", bank_id, "2000000.00", "WIRE-NO", await market.clearing())
    rejected = await client.post(
        f"/api/v1/approvals/{waiting.json()['approval_id']}/reject",
        json={"reason": "no such wire on the statement"},
        headers=await market.checker(),
    )
    assert rejected.status_code == 200, rejected.text
    assert await market.balances(bank) == {"available": "0.00", "held": "0.00"}
    replay = await _move(client, "funds", bank_id, "2000000.00", "WIRE-NO", await market.clearing())
    assert replay.json()["status"] == "rejected"


async def test_a_checker_may_not_approve_a_receipt_to_its_own_participant(
    client: httpx.AsyncClient, market: Market
) -> None:
    checker = await market.checker()
    checker_id = (await client.get("/api/v1/participants/me", headers=checker)).json()["id"]
    # Another clerk records a receipt for the checker's participant: the checker cannot approve it.
    waiting = await _move(client, "funds", checker_id, "1500000.00", "WIRE-CHK", await market.clearing())
    approved = await client.post(
        f"/api/v1/approvals/{waiting.json()['approval_id']}/approve", headers=checker
    )
    assert approved.status_code == 403 and approved.json()["code"] == "own_participant", approved.text
    assert await market.balances(checker) == {"available": "0.00", "held": "0.00"}


@pytest.mark.parametrize("direction", ["funds", "withdrawals"])
async def test_small_slices_past_the_days_total_wait_for_approval_and_the_next_shanghai_day_starts_afresh(
    client: httpx.AsyncClient, market: Market, clock: FakeClock, direction: str
) -> None:
    travel_to_day(clock, date(2026, 6, 1))
    bank_id, _ = await market.participant(
        ["bank"], funds="3000000.00" if direction == "withdrawals" else None
    )
    clerk = await market.clearing()
    first = await _move(client, direction, bank_id, "900000.00", "SLICE-1", clerk)
    second = await _move(client, direction, bank_id, "100000.00", "SLICE-2", clerk)
    third = await _move(client, direction, bank_id, "0.01", "SLICE-3", clerk)
    assert [r.json()["status"] for r in (first, second, third)] == ["done", "done", "awaiting_approval"]
    # A replay of a slice paid at once stays paid at once, though the day is now past the threshold.
    assert (await _move(client, direction, bank_id, "900000.00", "SLICE-1", clerk)).json()["status"] == "done"
    # 23:59 the same Shanghai day still counts the day; 00:00 the next day starts a new total.
    travel_to_day(clock, date(2026, 6, 1))
    clock.advance(14 * 3600 - 1)
    assert (await _move(client, direction, bank_id, "1.00", "SLICE-4", clerk)).json()[
        "status"
    ] == "awaiting_approval"
    clock.advance(1)
    assert (await _move(client, direction, bank_id, "900000.00", "SLICE-5", clerk)).json()["status"] == "done"


@pytest.mark.parametrize("direction", ["funds", "withdrawals"])
async def test_twenty_sub_threshold_requests_at_once_past_the_days_total_let_none_slip_through(
    client: httpx.AsyncClient, market: Market, direction: str
) -> None:
    bank_id, bank = await market.participant(
        ["bank"], funds="3000000.00" if direction == "withdrawals" else None
    )
    before = await market.balances(bank)
    clerk = await market.clearing()
    responses = list(
        await asyncio.gather(
            *(_move(client, direction, bank_id, "150000.00", f"BURST-{i}", clerk) for i in range(BURST))
        )
    )
    assert _statuses(responses) == {201: BURST}, [r.text for r in responses if r.status_code != 201]
    statuses = Counter(r.json()["status"] for r in responses)
    # 6 × 150,000.00 = 900,000.00 fits under 1,000,000.00; a seventh would pass it.
    assert statuses == {"done": 6, "awaiting_approval": BURST - 6}, statuses
    moved_fen = 6 * 15_000_000
    after = await market.balances(bank)
    if direction == "funds":
        assert after == {"available": "900000.00", "held": "0.00"}
    else:
        assert after == {"available": "0.00", "held": "2100000.00"}
        assert before["available"] == "3000000.00" and moved_fen == 90_000_000


async def test_a_bank_reference_is_one_receipt_across_the_center(
    client: httpx.AsyncClient, market: Market
) -> None:
    first_id, first = await market.participant(["bank"])
    second_id, second = await market.participant(["bidder"])
    clerk = await market.clearing()
    assert (await _move(client, "funds", first_id, "1000.00", "BANK-WIRE-777", clerk)).status_code == 201
    twice = await _move(client, "funds", second_id, "1000.00", "BANK-WIRE-777", clerk)
    assert twice.status_code == 409 and twice.json()["code"] == "reference_already_booked", twice.text
    # A large receipt waiting under a reference holds it too: another participant cannot use it.
    assert (await _move(client, "funds", first_id, "1500000.00", "BANK-WIRE-778", clerk)).status_code == 201
    waiting = await _move(client, "funds", second_id, "1500000.00", "BANK-WIRE-778", clerk)
    assert waiting.status_code == 409 and waiting.json()["code"] == "reference_already_booked", waiting.text
    # A withdrawal's reference is the participant's own bank's: two participants may share one.
    assert (await market.balances(first))["available"] == "1000.00"
    assert (await market.balances(second))["available"] == "0.00"


async def test_twin_receipts_for_two_participants_at_once_credit_one(
    client: httpx.AsyncClient, market: Market
) -> None:
    ids = [(await market.participant(["bank"]))[0] for _ in range(2)]
    clerk = await market.clearing()
    responses = list(
        await asyncio.gather(
            *(_move(client, "funds", ids[i % 2], "100.00", "WIRE-TWIN", clerk) for i in range(BURST))
        )
    )
    statuses = _statuses(responses)
    assert set(statuses) == {201, 409}, [r.text for r in responses]
    assert len({r.json()["participant_id"] for r in responses if r.status_code == 201}) == 1


async def test_a_receipt_booked_before_references_were_center_wide_replays_under_its_old_id(
    client: httpx.AsyncClient, market: Market, context: AppContext
) -> None:
    bank_id, bank = await market.participant(["bank"])

    async def legacy(unit: UnitOfWork) -> None:
        await ledger.post_transfer(
            unit,
            f"funds:{bank_id}:OLD-WIRE",
            debit_account_id=await ledger.account_id(
                unit.session, ledger.center_account_key(ledger.EXTERNAL)
            ),
            credit_account_id=await ledger.participant_account_id(unit.session, bank_id, ledger.AVAILABLE),
            amount_fen=500_00,
            code="funds",
            reference="OLD-WIRE",
        )

    await context.transact(legacy, actor_id=None)
    replay = await _move(client, "funds", bank_id, "500.00", "OLD-WIRE", await market.clearing())
    assert (replay.status_code, replay.json()["transfer_id"]) == (201, f"funds:{bank_id}:OLD-WIRE"), (
        replay.text
    )
    assert (await market.balances(bank))["available"] == "500.00"


async def test_a_reference_of_a_hundred_characters_is_booked_and_held_like_any_other(
    client: httpx.AsyncClient, market: Market
) -> None:
    bank_id, bank = await market.participant(["bank"])
    clerk, checker = await market.clearing(), await market.checker()
    reference = "R" * 100
    for direction, amount in (("funds", "1500010.00"), ("withdrawals", "1500000.00")):
        waiting = await _move(client, direction, bank_id, amount, reference, clerk)
        assert (waiting.status_code, waiting.json()["status"]) == (201, "awaiting_approval"), waiting.text
        assert len(waiting.json()["transfer_id"]) <= 100
        approval_id = waiting.json()["approval_id"]
        approved = await client.post(f"/api/v1/approvals/{approval_id}/approve", headers=checker)
        assert approved.status_code == 200, approved.text
    assert await market.balances(bank) == {"available": "10.00", "held": "0.00"}
