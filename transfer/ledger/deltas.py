"""Balances move once per transaction: the net change per account, applied just before commit in account-id order
(see the package's docstring for why that order and the conditional UPDATE make overdrafts and deadlocks impossible)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import InsufficientFunds
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.ledger.accounts import Balances, balances
from transfer.models import Account


def move(unit: UnitOfWork, debit_id: int, credit_id: int, amount_fen: int) -> None:
    assert amount_fen > 0
    assert debit_id != credit_id
    add_deltas(unit, ((debit_id, -amount_fen), (credit_id, amount_fen)))


def add_deltas(unit: UnitOfWork, changes: Iterable[tuple[int, int]]) -> None:
    """Net (account, delta_fen) changes into the unit; they reach the database once, at commit."""
    deltas = unit.balance_deltas_fen
    for account, delta_fen in changes:
        deltas[account] = deltas.get(account, 0) + delta_fen
    unit.before_commit("ledger.apply_balance_deltas", lambda: apply_balance_deltas(unit))


async def apply_balance_deltas(unit: UnitOfWork) -> None:
    """Apply the unit's net deltas in account-id order; raise InsufficientFunds on an overdraft.

    A run of consecutive credits (which need no overdraft check) goes to the database as one
    executemany, so a distribution to 100,000 holders is not 100,000 round trips; the global
    account-id order is kept across runs, which is what rules out deadlocks.
    """
    session = unit.session
    deltas = sorted((account, delta) for account, delta in unit.balance_deltas_fen.items() if delta != 0)
    unit.balance_deltas_fen.clear()
    assert sum(delta for _, delta in deltas) == 0, "a unit of work's movements must balance"
    if len(deltas) >= BULK_CREDIT_ROWS and (await session.connection()).dialect.name == "postgresql":
        await _bulk_apply_postgres(session, deltas)
        return
    credit_run: list[dict[str, int]] = []

    async def flush_credits() -> None:
        if len(credit_run) >= BULK_CREDIT_ROWS and (await session.connection()).dialect.name == "postgresql":
            await _bulk_credit_postgres(session, credit_run)
            credit_run.clear()
        if credit_run:
            # The Core table, not the ORM entity: a plain executemany, no ORM bulk-by-primary-key.
            accounts = cast(Table, Account.__table__)
            await session.execute(
                update(accounts)
                .where(accounts.c.id == bindparam("account"))
                .values(balance_fen=accounts.c.balance_fen + bindparam("delta")),
                list(credit_run),
            )
            credit_run.clear()

    for account, delta in deltas:
        if delta == 0:
            continue
        if delta > 0:
            credit_run.append({"account": account, "delta": delta})
            continue
        await flush_credits()
        statement = (
            update(Account)
            .where(Account.id == account)
            .where((Account.non_negative.is_(False)) | (Account.balance_fen >= -delta))
            .values(balance_fen=Account.balance_fen + delta)
            .returning(Account.balance_fen)
        )
        new_balance = (await session.execute(statement)).scalar_one_or_none()
        if new_balance is None:
            row = (
                await session.execute(
                    select(Account.participant_id, Account.balance_fen).where(Account.id == account)
                )
            ).one()
            raise InsufficientFunds(row.participant_id or 0, -delta, row.balance_fen)
    await flush_credits()


# A credit run this long goes to PostgreSQL as one statement rather than one UPDATE per account.
BULK_CREDIT_ROWS = 200


async def _bulk_credit_postgres(session: AsyncSession, credits: list[dict[str, int]]) -> None:
    """Credit many accounts: lock them in id order first (the global order that rules out
    deadlocks; an UPDATE … FROM visits rows in plan order), then one UPDATE from arrays."""
    ids = [c["account"] for c in credits]
    deltas = [c["delta"] for c in credits]
    await session.execute(
        text("SELECT id FROM accounts WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"), {"ids": ids}
    )
    await session.execute(
        text(
            "UPDATE accounts SET balance_fen = accounts.balance_fen + u.delta"
            " FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS u(id, delta)"
            " WHERE accounts.id = u.id"
        ),
        {"ids": ids, "deltas": deltas},
    )


async def _bulk_apply_postgres(session: AsyncSession, deltas: list[tuple[int, int]]) -> None:
    """Many accounts at once: lock them in id order (the global order that rules out deadlocks),
    then one UPDATE from arrays whose WHERE refuses any overdraft; a row it skipped names the
    account that would have gone below zero."""
    ids = [account for account, _ in deltas]
    amounts = [delta for _, delta in deltas]
    await session.execute(
        text("SELECT id FROM accounts WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"), {"ids": ids}
    )
    updated = await session.execute(
        text(
            "UPDATE accounts SET balance_fen = accounts.balance_fen + u.delta"
            " FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS u(id, delta)"
            " WHERE accounts.id = u.id AND (NOT accounts.non_negative OR accounts.balance_fen + u.delta >= 0)"
            " RETURNING accounts.id"
        ),
        {"ids": ids, "deltas": amounts},
    )
    done = {row[0] for row in updated.all()}
    if len(done) != len(ids):
        account, delta = next((a, d) for a, d in deltas if a not in done)
        row = (
            await session.execute(
                select(Account.participant_id, Account.balance_fen).where(Account.id == account)
            )
        ).one()
        raise InsufficientFunds(row.participant_id or 0, -delta, row.balance_fen)


async def current_balances(unit: UnitOfWork, participant_id: int) -> Balances:
    """Balances as this unit of work will leave them (applies its pending movements first)."""
    await apply_balance_deltas(unit)
    return await balances(unit.session, participant_id)
