from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.db import Database
from tests.service.support import balances, ledger_sum, new_participant, run
from transfer import ledger
from transfer.kernel.errors import Conflict, InsufficientFunds
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import LedgerTransfer


async def test_fifty_concurrent_holds_against_funds_for_ten_exactly_ten_succeed(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"], funds_fen=10 * 5_000_00)

    async def one_hold(index: int) -> bool:
        async def work(unit: UnitOfWork) -> None:
            await ledger.hold(
                unit, f"hold-{index}", participant_id=bidder, amount_fen=5_000_00, code="deposit_hold"
            )

        try:
            await run(database, work)
        except InsufficientFunds:
            return False
        return True

    outcomes = await asyncio.gather(*(one_hold(i) for i in range(50)))

    assert sum(outcomes) == 10
    assert await balances(database, bidder) == ledger.Balances(available_fen=0, held_fen=50_000_00)
    assert await ledger_sum(database) == 0
    async with database.read() as session:
        pending = await session.execute(
            select(func.count()).select_from(LedgerTransfer).where(LedgerTransfer.pending_status == "pending")
        )
        assert pending.scalar_one() == 10


async def test_repeated_transfer_id_has_one_effect(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"])

    async def fund(unit: UnitOfWork) -> LedgerTransfer:
        return await ledger.record_funds(unit, bidder, 123_45, "bank-ref-1")

    first = await run(database, fund)
    second = await run(database, fund)

    assert first.id == second.id == "receipt:bank-ref-1"
    assert (await balances(database, bidder)).available_fen == 123_45
    assert await ledger_sum(database) == 0


async def test_same_transfer_id_with_different_amount_is_refused(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"])
    await run(database, lambda unit: ledger.record_funds(unit, bidder, 100_00, "bank-ref-1"))

    with pytest.raises(Conflict) as refused:
        await run(database, lambda unit: ledger.record_funds(unit, bidder, 200_00, "bank-ref-1"))

    assert refused.value.code == "transfer_id_reused"
    assert (await balances(database, bidder)).available_fen == 100_00


async def test_withdrawal_beyond_available_is_refused_with_shortfall_and_changes_nothing(
    database: Database,
) -> None:
    bank = await new_participant(database, ["bank"], funds_fen=300_00)

    with pytest.raises(InsufficientFunds) as refused:
        await run(database, lambda unit: ledger.withdraw(unit, bank, 500_00, "payout-1"))

    assert refused.value.shortfall_fen == 200_00
    assert (await balances(database, bank)).available_fen == 300_00
    assert await ledger_sum(database) == 0


async def test_hold_posts_in_part_and_releases_the_rest(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"], funds_fen=1_000_00)
    seller = await new_participant(database, ["bank"])

    async def work(unit: UnitOfWork) -> None:
        await ledger.hold(unit, "h1", participant_id=bidder, amount_fen=600_00, code="deposit_hold")
        seller_account = await ledger.participant_account_id(unit.session, seller, ledger.AVAILABLE)
        await ledger.post_hold(
            unit,
            "h1:post",
            pending_id="h1",
            credit_account_id=seller_account,
            amount_fen=250_00,
            code="deposit_apply",
        )

    await run(database, work)

    assert await balances(database, bidder) == ledger.Balances(available_fen=750_00, held_fen=0)
    assert (await balances(database, seller)).available_fen == 250_00
    assert await ledger_sum(database) == 0


async def test_hold_resolves_exactly_once_when_post_and_void_race(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"], funds_fen=1_000_00)
    seller = await new_participant(database, ["bank"])
    await run(
        database, lambda unit: ledger.hold(unit, "h1", participant_id=bidder, amount_fen=400_00, code="x")
    )

    async def post(index: int) -> str:
        async def work(unit: UnitOfWork) -> None:
            account = await ledger.participant_account_id(unit.session, seller, ledger.AVAILABLE)
            await ledger.post_hold(
                unit, f"post-{index}", pending_id="h1", credit_account_id=account, code="x"
            )

        try:
            await run(database, work)
        except Conflict:
            return "refused"
        return "posted"

    async def void(index: int) -> str:
        try:
            await run(
                database, lambda unit: ledger.void_hold(unit, f"void-{index}", pending_id="h1", code="x")
            )
        except Conflict:
            return "refused"
        return "voided"

    results = await asyncio.gather(*(post(i) for i in range(5)), *(void(i) for i in range(5)))

    assert sorted(results).count("refused") == 9
    winner = next(r for r in results if r != "refused")
    bidder_balances = await balances(database, bidder)
    if winner == "posted":
        assert bidder_balances == ledger.Balances(600_00, 0)
        assert (await balances(database, seller)).available_fen == 400_00
    else:
        assert bidder_balances == ledger.Balances(1_000_00, 0)
        assert (await balances(database, seller)).available_fen == 0
    assert await ledger_sum(database) == 0


async def test_repeated_void_with_same_id_is_a_no_op(database: Database) -> None:
    bidder = await new_participant(database, ["bidder"], funds_fen=100_00)
    await run(
        database, lambda unit: ledger.hold(unit, "h1", participant_id=bidder, amount_fen=100_00, code="x")
    )

    await run(database, lambda unit: ledger.void_hold(unit, "v1", pending_id="h1", code="x"))
    await run(database, lambda unit: ledger.void_hold(unit, "v1", pending_id="h1", code="x"))

    assert await balances(database, bidder) == ledger.Balances(100_00, 0)
    with pytest.raises(Conflict) as refused:
        await run(database, lambda unit: ledger.void_hold(unit, "v2", pending_id="h1", code="x"))
    assert refused.value.code == "hold_already_resolved"


async def test_ledger_sums_to_zero_after_mixed_concurrent_movements(database: Database) -> None:
    people = [await new_participant(database, ["bidder"], funds_fen=1_000_00, name=f"p{i}") for i in range(4)]

    async def churn(index: int) -> None:
        payer, payee = people[index % 4], people[(index + 1) % 4]

        async def work(unit: UnitOfWork) -> None:
            await ledger.hold(unit, f"h{index}", participant_id=payer, amount_fen=10_00 + index, code="x")
            account = await ledger.participant_account_id(unit.session, payee, ledger.AVAILABLE)
            await ledger.post_hold(
                unit, f"p{index}", pending_id=f"h{index}", credit_account_id=account, code="x"
            )

        await run(database, work)

    await asyncio.gather(*(churn(i) for i in range(24)))

    total_available = sum([(await balances(database, p)).available_fen for p in people])
    assert total_available == 4 * 1_000_00
    assert await ledger_sum(database) == 0
