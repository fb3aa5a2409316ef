"""Ledger transfers and repayment shares refer only to rows that exist, on both databases.

SQLite enforces these references as declared foreign keys. PostgreSQL checks them once per statement
with triggers (migration 0007), so that a bulk write is not slowed down by one lookup per row. Both
databases must refuse the same bad writes and change nothing when they do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.db import Database
from tests.service.support import new_participant
from transfer import ledger
from transfer.models import Account, LedgerTransfer
from transfer.models.servicing import RepaymentShare

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
MISSING_ID = 987_654


def _transfer(transfer_id: str, debit: int, credit: int) -> dict[str, object]:
    return {
        "id": transfer_id,
        "kind": "posted",
        "debit_account_id": debit,
        "credit_account_id": credit,
        "amount_fen": 100,
        "code": "test",
        "created_at": AT,
    }


async def _two_accounts(database: Database) -> tuple[int, int]:
    participant = await new_participant(database, ["bank"])
    async with database.read() as session:
        return (
            await ledger.participant_account_id(session, participant, ledger.AVAILABLE),
            await ledger.participant_account_id(session, participant, ledger.HELD),
        )


async def _transfer_count(database: Database) -> int:
    async with database.read() as session:
        return int((await session.execute(select(func.count()).select_from(LedgerTransfer))).scalar_one())


@pytest.mark.parametrize("side", ["debit", "credit"])
async def test_a_transfer_naming_a_missing_account_is_refused(database: Database, side: str) -> None:
    available, held = await _two_accounts(database)
    before = await _transfer_count(database)
    bad = _transfer("bad", MISSING_ID, held) if side == "debit" else _transfer("bad", available, MISSING_ID)
    with pytest.raises(IntegrityError):
        async with database.write_engine.begin() as connection:
            await connection.execute(insert(LedgerTransfer), [bad])
    assert await _transfer_count(database) == before


async def test_one_bad_row_in_a_bulk_insert_refuses_the_whole_statement(database: Database) -> None:
    available, held = await _two_accounts(database)
    before = await _transfer_count(database)
    rows = [_transfer(f"ok-{i}", available, held) for i in range(300)]
    rows.insert(150, _transfer("orphan", available, MISSING_ID))
    with pytest.raises(IntegrityError):
        async with database.write_engine.begin() as connection:
            await connection.execute(insert(LedgerTransfer), rows)
    assert await _transfer_count(database) == before


async def test_a_transfer_cannot_be_moved_to_a_missing_account(database: Database) -> None:
    available, held = await _two_accounts(database)
    async with database.write_engine.begin() as connection:
        await connection.execute(insert(LedgerTransfer), [_transfer("t1", available, held)])
    with pytest.raises(IntegrityError):
        async with database.write_engine.begin() as connection:
            await connection.execute(
                update(LedgerTransfer).where(LedgerTransfer.id == "t1").values(credit_account_id=MISSING_ID)
            )
    async with database.read() as session:
        assert (await session.get(LedgerTransfer, "t1")).credit_account_id == held  # type: ignore[union-attr]


async def test_an_account_a_transfer_names_cannot_be_deleted(database: Database) -> None:
    available, held = await _two_accounts(database)
    async with database.write_engine.begin() as connection:
        await connection.execute(insert(LedgerTransfer), [_transfer("t1", available, held)])
    with pytest.raises(IntegrityError):
        async with database.write_engine.begin() as connection:
            await connection.execute(delete(Account).where(Account.id == held))
    async with database.read() as session:
        assert await session.get(Account, held) is not None


async def test_a_share_of_a_missing_repayment_is_refused(database: Database) -> None:
    participant = await new_participant(database, ["bank"])
    with pytest.raises(IntegrityError):
        async with database.write_engine.begin() as connection:
            await connection.execute(
                insert(RepaymentShare),
                [
                    {
                        "repayment_id": MISSING_ID,
                        "holder_id": participant,
                        "share_ppm": 1_000_000,
                        "principal_fen": 100,
                        "interest_fen": 0,
                    }
                ],
            )
    async with database.read() as session:
        assert (await session.execute(select(func.count()).select_from(RepaymentShare))).scalar_one() == 0
