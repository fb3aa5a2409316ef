"""Two-phase holds: a pending transfer that later posts (in whole) or voids, exactly once; many at a time for closes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.bulk import insert_rows
from transfer.kernel.errors import Conflict, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.ledger.accounts import AVAILABLE, HELD, PENDING, POSTED, VOIDED, participant_account_id
from transfer.ledger.deltas import move
from transfer.ledger.posting import existing_transfer, record_transfer
from transfer.models import LedgerTransfer


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
            move(unit, held, target, amount_fen)
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
    return await record_transfer(unit, transfer_id, PENDING, available, held, amount_fen, code, reference)


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
    existing = await existing_transfer(session, transfer_id, kind="post_pending", pending_id=pending_id)
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
        move(unit, held, credit_account_id, post_amount_fen)
    remainder_fen = pending.amount_fen - post_amount_fen
    if remainder_fen > 0:
        move(unit, held, available, remainder_fen)
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
    existing = await existing_transfer(session, transfer_id, kind="void_pending", pending_id=pending_id)
    if existing is not None:
        return existing
    pending = await _claim_pending(session, pending_id, VOIDED)
    move(unit, pending.credit_account_id, pending.debit_account_id, pending.amount_fen)
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


async def pending_amounts(session: AsyncSession, hold_ids: Iterable[str]) -> dict[str, int]:
    """What each of these holds still holds: its amount while pending; a resolved or unknown hold is
    absent (it holds nothing). One read for a page of holds."""
    wanted = sorted(set(hold_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(LedgerTransfer.id, LedgerTransfer.amount_fen).where(
            LedgerTransfer.id.in_(wanted),
            LedgerTransfer.kind == PENDING,
            LedgerTransfer.pending_status == PENDING,
        )
    )
    return {str(hold_id): int(amount_fen) for hold_id, amount_fen in rows.all()}
