"""The ledger: double-entry accounts, idempotent transfers and two-phase holds.

Every movement debits one account and credits another by the same positive amount, so the sum
of all balances stays zero. Movements add to the unit of work's net delta per account; the deltas
are applied once, just before commit, with one conditional UPDATE per account in account-id order:

* an overdraft of a non-negative account is refused by the WHERE clause itself, correct under any
  number of concurrent writers on both databases (PostgreSQL re-checks the condition after waiting
  for the row lock; SQLite has a single writer), and aborts the whole unit of work;
* every transaction locks its accounts in the same global order, so transactions touching the
  same accounts in different orders cannot deadlock, and the row locks are held only until commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, String, Table, bindparam, func, insert, literal, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.bulk import insert_rows
from transfer.kernel.errors import Conflict, InsufficientFunds, NotFound
from transfer.kernel.model_base import UTCDateTime
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account, LedgerTransfer

AVAILABLE = "available"
HELD = "held"
PARTICIPANT_ACCOUNT_CODES = (AVAILABLE, HELD)
# Center accounts: fees earned, money in escrow between parties, and the outside world (banks'
# settlement accounts), which goes negative as funds come in so the books still sum to zero.
FEE_INCOME = "fee_income"
ESCROW = "escrow"
EXTERNAL = "external_settlement"
CENTER_ACCOUNT_CODES = (FEE_INCOME, ESCROW, EXTERNAL)

PENDING = "pending"
POSTED = "posted"
VOIDED = "voided"


def participant_account_key(participant_id: int, code: str) -> str:
    return f"participant:{participant_id}:{code}"


def center_account_key(code: str) -> str:
    return f"center:{code}"


@dataclass(frozen=True, slots=True)
class Balances:
    available_fen: int
    held_fen: int


async def open_participant_accounts(session: AsyncSession, participant_id: int) -> None:
    session.add_all(
        Account(
            key=participant_account_key(participant_id, code),
            participant_id=participant_id,
            code=code,
            non_negative=True,
            balance_fen=0,
        )
        for code in PARTICIPANT_ACCOUNT_CODES
    )
    await session.flush()


async def ensure_center_accounts(session: AsyncSession) -> None:
    existing = set(
        (
            await session.execute(
                select(Account.code).where(
                    Account.key.in_([center_account_key(c) for c in CENTER_ACCOUNT_CODES])
                )
            )
        ).scalars()
    )
    for code in CENTER_ACCOUNT_CODES:
        if code not in existing:
            session.add(
                Account(
                    key=center_account_key(code),
                    participant_id=None,
                    code=code,
                    non_negative=code != EXTERNAL,
                    balance_fen=0,
                )
            )
    await session.flush()


async def account_id(session: AsyncSession, key: str) -> int:
    found = (await session.execute(select(Account.id).where(Account.key == key))).scalar_one_or_none()
    if found is None:
        raise NotFound("account_not_found", f"no ledger account {key}")
    return found


async def participant_account_id(session: AsyncSession, participant_id: int, code: str) -> int:
    found = await session.execute(
        select(Account.id).where(Account.key == participant_account_key(participant_id, code))
    )
    account = found.scalar_one_or_none()
    if account is None:
        raise NotFound("participant_not_found", f"participant {participant_id} does not exist", field="id")
    return account


async def balances(session: AsyncSession, participant_id: int) -> Balances:
    rows = await session.execute(
        select(Account.code, Account.balance_fen).where(Account.participant_id == participant_id)
    )
    by_code = {code: balance for code, balance in rows.all()}
    return Balances(available_fen=by_code.get(AVAILABLE, 0), held_fen=by_code.get(HELD, 0))


async def ledger_sum_fen(session: AsyncSession) -> int:
    return int((await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one())


def _move(unit: UnitOfWork, debit_id: int, credit_id: int, amount_fen: int) -> None:
    assert amount_fen > 0
    assert debit_id != credit_id
    _add_deltas(unit, ((debit_id, -amount_fen), (credit_id, amount_fen)))


def _add_deltas(unit: UnitOfWork, changes: Iterable[tuple[int, int]]) -> None:
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


@dataclass(frozen=True, slots=True)
class HoldResolution:
    """Resolve one hold: post it whole to `post_to_account_id`, or void it when that is None."""

    pending_id: str
    transfer_id: str
    post_to_account_id: int | None
    code: str
    reference: str | None = None


async def resolve_holds(unit: UnitOfWork, resolutions: list[HoldResolution]) -> None:
    """Post or void many holds with one conditional UPDATE per outcome and one bulk insert.

    The UPDATE … WHERE pending_status = 'pending' is the exactly-once guard, as in post_hold and
    void_hold: a hold some other transaction resolved first makes this whole unit of work fail.
    """
    rows: list[dict[str, object]] = []
    for status, group in (
        (POSTED, [r for r in resolutions if r.post_to_account_id is not None]),
        (VOIDED, [r for r in resolutions if r.post_to_account_id is None]),
    ):
        if not group:
            continue
        claimed = await unit.session.execute(
            update(LedgerTransfer)
            .where(
                LedgerTransfer.id.in_([r.pending_id for r in group]), LedgerTransfer.pending_status == PENDING
            )
            .values(pending_status=status)
            .returning(
                LedgerTransfer.id,
                LedgerTransfer.amount_fen,
                LedgerTransfer.debit_account_id,
                LedgerTransfer.credit_account_id,
            )
            .execution_options(synchronize_session=False)
        )
        holds = {row[0]: row for row in claimed.all()}
        if len(holds) != len(group):
            missing = next(r.pending_id for r in group if r.pending_id not in holds)
            raise Conflict(
                "hold_already_resolved", f"hold {missing} is no longer pending", field="pending_id"
            )
        for resolution in group:
            _, amount_fen, available, held = holds[resolution.pending_id]
            target = resolution.post_to_account_id if resolution.post_to_account_id is not None else available
            _move(unit, held, target, amount_fen)
            rows.append(
                {
                    "id": resolution.transfer_id,
                    "kind": "post_pending" if status == POSTED else "void_pending",
                    "debit_account_id": held,
                    "credit_account_id": target,
                    "amount_fen": amount_fen,
                    "pending_id": resolution.pending_id,
                    "pending_status": None,
                    "code": resolution.code,
                    "reference": resolution.reference,
                    "created_at": unit.now,
                }
            )
    await insert_rows(unit.session, cast(Table, LedgerTransfer.__table__), rows)


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
    accounts = cast(Table, Account.__table__)
    # One pass locks the debit and every credited account in id order (PostgreSQL; SQLite has a
    # single writer) and counts and sums the credits on the way.
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
    return int(count)


async def current_balances(unit: UnitOfWork, participant_id: int) -> Balances:
    """Balances as this unit of work will leave them (applies its pending movements first)."""
    await apply_balance_deltas(unit)
    return await balances(unit.session, participant_id)


async def _existing(session: AsyncSession, transfer_id: str, **expected: object) -> LedgerTransfer | None:
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
) -> LedgerTransfer:
    """A plain movement. A repeated id with the same content is a no-op returning the original."""
    return await _record(
        unit, transfer_id, POSTED, debit_account_id, credit_account_id, amount_fen, code, reference
    )


async def hold(
    unit: UnitOfWork,
    transfer_id: str,
    *,
    participant_id: int,
    amount_fen: int,
    code: str,
    reference: str | None = None,
) -> LedgerTransfer:
    """Move available -> held as a pending transfer that later posts or voids exactly once."""
    available = await participant_account_id(unit.session, participant_id, AVAILABLE)
    held = await participant_account_id(unit.session, participant_id, HELD)
    return await _record(unit, transfer_id, PENDING, available, held, amount_fen, code, reference)


async def _record(
    unit: UnitOfWork,
    transfer_id: str,
    kind: str,
    debit_account_id: int,
    credit_account_id: int,
    amount_fen: int,
    code: str,
    reference: str | None,
) -> LedgerTransfer:
    """Store a new movement (a hold when kind is pending), or return the identical one already
    stored under this id: a client's retry has one effect."""
    existing = await _existing(
        unit.session,
        transfer_id,
        kind=kind,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount_fen=amount_fen,
    )
    if existing is not None:
        return existing
    _move(unit, debit_account_id, credit_account_id, amount_fen)
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
    await unit.session.flush()
    return transfer


async def _claim_pending(session: AsyncSession, pending_id: str, new_status: str) -> LedgerTransfer:
    """Flip a hold from pending to posted/voided with one conditional UPDATE: exactly once."""
    claimed = await session.execute(
        update(LedgerTransfer)
        .where(LedgerTransfer.id == pending_id, LedgerTransfer.pending_status == PENDING)
        .values(pending_status=new_status)
        .returning(LedgerTransfer.id)
    )
    if claimed.scalar_one_or_none() is None:
        found = await session.get(LedgerTransfer, pending_id)
        if found is None or found.kind != PENDING:
            raise NotFound("hold_not_found", f"no hold {pending_id}", field="pending_id")
        raise Conflict(
            "hold_already_resolved",
            f"hold {pending_id} is already {found.pending_status}",
            field="pending_id",
        )
    found = await session.get(LedgerTransfer, pending_id)
    assert found is not None
    await session.refresh(found)
    return found


async def post_hold(
    unit: UnitOfWork,
    transfer_id: str,
    *,
    pending_id: str,
    credit_account_id: int,
    amount_fen: int | None = None,
    code: str,
    reference: str | None = None,
) -> LedgerTransfer:
    """Post a hold, in whole or part, to an account; any remainder returns to available funds."""
    session = unit.session
    existing = await _existing(session, transfer_id, kind="post_pending", pending_id=pending_id)
    if existing is not None:
        return existing
    pending = await _claim_pending(session, pending_id, POSTED)
    post_amount_fen = pending.amount_fen if amount_fen is None else amount_fen
    if not 0 <= post_amount_fen <= pending.amount_fen:
        raise Conflict(
            "post_exceeds_hold",
            f"cannot post {post_amount_fen} fen of a hold of {pending.amount_fen} fen",
            field="amount",
        )
    held, available = pending.credit_account_id, pending.debit_account_id
    if post_amount_fen > 0:
        _move(unit, held, credit_account_id, post_amount_fen)
    remainder_fen = pending.amount_fen - post_amount_fen
    if remainder_fen > 0:
        _move(unit, held, available, remainder_fen)
    posting = LedgerTransfer(
        id=transfer_id,
        kind="post_pending",
        debit_account_id=held,
        credit_account_id=credit_account_id,
        # A zero post still records the resolution; its amount is the hold's, its effect a release.
        amount_fen=post_amount_fen or pending.amount_fen,
        pending_id=pending_id,
        code=code,
        reference=reference,
        created_at=unit.now,
    )
    if post_amount_fen == 0:
        posting.credit_account_id = available
    session.add(posting)
    if remainder_fen > 0 and post_amount_fen > 0:
        session.add(
            LedgerTransfer(
                id=f"{transfer_id}:release",
                kind="void_pending",
                debit_account_id=held,
                credit_account_id=available,
                amount_fen=remainder_fen,
                pending_id=pending_id,
                code=code,
                reference=reference,
                created_at=unit.now,
            )
        )
    await session.flush()
    return posting


async def void_hold(
    unit: UnitOfWork, transfer_id: str, *, pending_id: str, code: str, reference: str | None = None
) -> LedgerTransfer:
    """Release a hold back to available funds."""
    session = unit.session
    existing = await _existing(session, transfer_id, kind="void_pending", pending_id=pending_id)
    if existing is not None:
        return existing
    pending = await _claim_pending(session, pending_id, VOIDED)
    _move(unit, pending.credit_account_id, pending.debit_account_id, pending.amount_fen)
    voiding = LedgerTransfer(
        id=transfer_id,
        kind="void_pending",
        debit_account_id=pending.credit_account_id,
        credit_account_id=pending.debit_account_id,
        amount_fen=pending.amount_fen,
        pending_id=pending_id,
        code=code,
        reference=reference,
        created_at=unit.now,
    )
    session.add(voiding)
    await session.flush()
    return voiding


async def record_funds(
    unit: UnitOfWork, participant_id: int, amount_fen: int, reference: str
) -> LedgerTransfer:
    """Funds received from a participant's bank: external settlement -> available.

    The transfer id is derived from the bank reference, so the same receipt can never be booked
    twice, whatever the client retries.
    """
    available = await participant_account_id(unit.session, participant_id, AVAILABLE)
    external = await account_id(unit.session, center_account_key(EXTERNAL))
    transfer = await post_transfer(
        unit,
        f"funds:{participant_id}:{reference}",
        debit_account_id=external,
        credit_account_id=available,
        amount_fen=amount_fen,
        code="funds",
        reference=reference,
    )
    unit.record(
        "funds.recorded",
        f"participant:{participant_id}",
        {"transfer_id": transfer.id, "amount_fen": amount_fen, "reference": reference},
    )
    return transfer


async def withdraw(unit: UnitOfWork, participant_id: int, amount_fen: int, reference: str) -> LedgerTransfer:
    """Pay out available funds to the participant's bank: available -> external settlement."""
    available = await participant_account_id(unit.session, participant_id, AVAILABLE)
    external = await account_id(unit.session, center_account_key(EXTERNAL))
    transfer = await post_transfer(
        unit,
        f"withdrawal:{participant_id}:{reference}",
        debit_account_id=available,
        credit_account_id=external,
        amount_fen=amount_fen,
        code="withdrawal",
        reference=reference,
    )
    unit.record(
        "funds.withdrawn",
        f"participant:{participant_id}",
        {"transfer_id": transfer.id, "amount_fen": amount_fen, "reference": reference},
    )
    return transfer
