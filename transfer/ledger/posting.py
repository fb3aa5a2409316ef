"""Posting movements: one idempotent transfer, many new ones at once, or a fan-out of many credits
from one debit written set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, String, Subquery, Table, func, insert, literal, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.bulk import insert_rows
from transfer.kernel.errors import Conflict, InsufficientFunds
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import RetryTransaction, UnitOfWork, sqlstate_of
from transfer.ledger.accounts import PENDING, POSTED
from transfer.ledger.deltas import move
from transfer.models import Account, LedgerTransfer

TRANSFER_COLUMNS = (
    "id",
    "kind",
    "debit_account_id",
    "credit_account_id",
    "amount_fen",
    "pending_id",
    "pending_status",
    "code",
    "reference",
    "created_at",
)


async def post_fan_out(
    unit: UnitOfWork,
    *,
    debit_account_id: int,
    credits: Select[tuple[str, int, int]],
    total_fen: int,
    code: str,
    reference: str | None = None,
) -> int:
    """One account pays many (a repayment to its holders), set-based: `credits` selects
    (transfer id, credit account, amount) rows, one per credit, each amount positive and each
    account distinct from the debit and from the others. Returns the number of credits.

    Every credit is its own ledger transfer, written by one INSERT … SELECT; the balances change by
    one UPDATE … FROM and one debit, so 100,000 credits never pass through Python. The accounts are
    locked first in id order on PostgreSQL, the global order every transaction keeps (SQLite has a
    single writer). The movements happen now, not at commit, so this must be the unit's only money
    movement: a delta left pending would lock its account after these, out of order.

    No per-id replay check as in post_transfer: the caller derives ids from a record that is itself
    created once, and the primary key refuses any repeat.
    """
    assert not any(unit.balance_deltas_fen.values()), "a fan-out is its unit of work's only movement"
    session = unit.session
    rows = credits.subquery("credits")
    count, credited_fen = await _lock_and_sum(session, debit_account_id, rows)
    assert credited_fen == total_fen, f"credits sum to {credited_fen} fen, not {total_fen}"
    if count == 0:
        return 0
    await session.execute(
        insert(cast(Table, LedgerTransfer.__table__)).from_select(
            TRANSFER_COLUMNS,
            select(
                rows.c[0],
                literal(POSTED),
                literal(debit_account_id),
                rows.c[1],
                rows.c[2],
                null(),
                null(),
                literal(code),
                literal(reference, String()),
                literal(unit.now, UTCDateTime()),
            ),
        )
    )
    await _move_balances(session, debit_account_id, rows, count, total_fen)
    return int(count)


async def _lock_and_sum(session: AsyncSession, debit_account_id: int, rows: Subquery) -> tuple[int, int]:
    """One pass locks the debit and every credited account in id order (PostgreSQL; SQLite has a
    single writer) and counts and sums the credits on the way."""
    accounts = cast(Table, Account.__table__)
    touched = (
        select(accounts.c.id, rows.c[2].label("amount_fen"))
        .outerjoin(rows, rows.c[1] == accounts.c.id)
        .where((accounts.c.id == debit_account_id) | rows.c[1].is_not(None))
        .order_by(accounts.c.id)
    )
    if (await session.connection()).dialect.name == "postgresql":
        touched = touched.with_for_update(of=accounts)
    locked = touched.subquery("locked")
    count, credited_fen = (
        await session.execute(
            select(func.count(locked.c.amount_fen), func.coalesce(func.sum(locked.c.amount_fen), 0))
        )
    ).one()
    return count, credited_fen


async def _move_balances(
    session: AsyncSession, debit_account_id: int, rows: Subquery, count: int, total_fen: int
) -> None:
    """Every credit in one UPDATE … FROM, then the one debit, refused when it would overdraw."""
    accounts = cast(Table, Account.__table__)
    credited = await session.execute(
        update(accounts)
        .where(accounts.c.id == rows.c[1])
        .values(balance_fen=accounts.c.balance_fen + rows.c[2])
    )
    assert credited.rowcount == count, "every credit names an existing account"  # type: ignore[attr-defined]
    debited = await session.execute(
        update(accounts)
        .where(accounts.c.id == debit_account_id)
        .where(accounts.c.non_negative.is_(False) | (accounts.c.balance_fen >= total_fen))
        .values(balance_fen=accounts.c.balance_fen - total_fen)
    )
    if debited.rowcount != 1:  # type: ignore[attr-defined]
        row = (
            await session.execute(
                select(Account.participant_id, Account.balance_fen).where(Account.id == debit_account_id)
            )
        ).one()
        raise InsufficientFunds(row.participant_id or 0, total_fen, row.balance_fen)


@dataclass(frozen=True, slots=True)
class Movement:
    transfer_id: str
    debit_account_id: int
    credit_account_id: int
    amount_fen: int
    code: str
    reference: str | None = None


async def post_movements(unit: UnitOfWork, movements: Sequence[Movement]) -> None:
    """Many new plain movements in one write (a batch of waterfalls): their balances join the unit's
    net deltas, applied once at commit like any other, and the transfers go in as one bulk insert.

    No per-id replay check as in post_transfer: the caller derives every id from a record that is
    itself claimed once (a case's state), and the primary key refuses any repeat.
    """
    for movement in movements:
        move(unit, movement.debit_account_id, movement.credit_account_id, movement.amount_fen)
    rows = [
        {
            "id": movement.transfer_id,
            "kind": POSTED,
            "debit_account_id": movement.debit_account_id,
            "credit_account_id": movement.credit_account_id,
            "amount_fen": movement.amount_fen,
            "pending_id": None,
            "pending_status": None,
            "code": movement.code,
            "reference": movement.reference,
            "created_at": unit.now,
        }
        for movement in movements
    ]
    await insert_rows(unit.session, cast(Table, LedgerTransfer.__table__), rows)


async def existing_transfer(
    session: AsyncSession, transfer_id: str, **expected: object
) -> LedgerTransfer | None:
    """Return the transfer already stored under this id, if its content matches; refuse a clash."""
    found = await session.get(LedgerTransfer, transfer_id)
    if found is None:
        return None
    for name, value in expected.items():
        if getattr(found, name) != value:
            raise Conflict(
                "transfer_id_reused",
                f"transfer id {transfer_id} already exists with a different {name}",
                field="id",
            )
    return found


async def post_transfer(
    unit: UnitOfWork,
    transfer_id: str,
    *,
    debit_account_id: int,
    credit_account_id: int,
    amount_fen: int,
    code: str,
    reference: str | None = None,
    booked_once: Conflict | None = None,
) -> LedgerTransfer:
    """A plain movement. A repeated id with the same content is a no-op returning the original;
    with `booked_once`, a repeated id is refused with that conflict instead (a receipt whose
    reference may be booked once: every twin of a race gets it, as a later retry does)."""
    return await record_transfer(
        unit,
        transfer_id,
        POSTED,
        debit_account_id,
        credit_account_id,
        amount_fen,
        code,
        reference,
        booked_once=booked_once,
    )


async def record_transfer(
    unit: UnitOfWork,
    transfer_id: str,
    kind: str,
    debit_account_id: int,
    credit_account_id: int,
    amount_fen: int,
    code: str,
    reference: str | None,
    *,
    booked_once: Conflict | None = None,
) -> LedgerTransfer:
    """Store a new movement (a hold when kind is pending), or return the identical one already
    stored under this id: a client's retry has one effect.

    Many ids come from the client (a bank reference), so two requests at once can both find no
    transfer and both insert: on PostgreSQL the second insert waits for the first transaction and
    then breaks the primary key. That is a race, not an error: the transaction runs again, finds
    the committed transfer and answers as a sequential retry would (the same transfer, or the
    caller's 409). SQLite serialises writers, so there the check above always sees it."""
    existing = await existing_transfer(
        unit.session,
        transfer_id,
        kind=kind,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount_fen=amount_fen,
    )
    if existing is not None:
        if booked_once is not None:
            raise booked_once
        return existing
    move(unit, debit_account_id, credit_account_id, amount_fen)
    transfer = LedgerTransfer(
        id=transfer_id,
        kind=kind,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount_fen=amount_fen,
        pending_status=PENDING if kind == PENDING else None,
        code=code,
        reference=reference,
        created_at=unit.now,
    )
    unit.session.add(transfer)
    try:
        await unit.session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise RetryTransaction(f"transfer {transfer_id} stored concurrently") from error
    return transfer


# PostgreSQL's unique_violation; SQLite names no SQLSTATE, only its message.
UNIQUE_VIOLATION = "23505"


def is_unique_violation(error: IntegrityError) -> bool:
    """A clash on a unique key (the race of two twins), not a broken check or foreign key (a bug)."""
    return sqlstate_of(error) == UNIQUE_VIOLATION or "UNIQUE constraint failed" in str(error.orig)
