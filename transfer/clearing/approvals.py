"""Dual control (maker-checker): above a threshold, a withdrawal, a receipt of funds
(transfer.clearing.funds_controls), a surplus payout or an annuity escrow's payout waits until a
second clearing participant approves it; the maker may withdraw its own request (a rejection),
never approve it. Every request and decision is in the audit chain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import RetryTransaction, UnitOfWork
from transfer.models.approvals import Approval

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
STATES = (PENDING, APPROVED, REJECTED)
WITHDRAWAL = "withdrawal"
# Funds received for a participant: nothing is credited until approved.
RECEIPT = "funds_receipt"
SURPLUS_PAYOUT = "surplus_payout"
# The enterprise's part of a closed annuity escrow (transfer.clearing.escrow_payouts).
ESCROW_PAYOUT = "annuity_escrow_payout"
MAX_REASON_LENGTH = 500


async def request_approval(
    unit: UnitOfWork,
    *,
    kind: str,
    subject: str,
    amount_fen: int,
    reference: str,
    maker_id: int,
    hold_id: str | None = None,
) -> Approval:
    """A pending request; the same request again (kind, subject, reference) is the same one."""
    existing = (
        await unit.session.execute(
            select(Approval).where(
                Approval.kind == kind, Approval.subject == subject, Approval.reference == reference
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise Conflict(
                "reference_reused",
                f"reference {reference} was used for another amount ({existing.amount_fen} fen)",
                field="reference",
            )
        return existing
    approval = Approval(
        kind=kind,
        subject=subject,
        amount_fen=amount_fen,
        reference=reference,
        hold_id=hold_id,
        state=PENDING,
        maker_id=maker_id,
        created_at=unit.now,
    )
    unit.session.add(approval)
    try:
        await unit.session.flush()
    except IntegrityError as error:
        # A twin request (same kind, subject, reference) committed first: run again and find it.
        if not ledger.is_unique_violation(error):
            raise
        raise RetryTransaction(f"approval {kind} {subject} {reference} requested concurrently") from error
    unit.record(
        "approval.requested",
        f"approval:{approval.id}",
        {
            "kind": kind,
            "subject": subject,
            "amount_fen": amount_fen,
            "reference": reference,
            "maker_id": maker_id,
        },
    )
    return approval


async def decide(
    unit: UnitOfWork, approval_id: int, checker_id: int, *, approve: bool, reason: str | None = None
) -> Approval:
    """Approve or reject a pending request, exactly once (its row is locked)."""
    approval = await lock_row(
        unit, Approval, approval_id, code="approval_not_found", noun="approval", field="id"
    )
    if approval.state != PENDING:
        raise Conflict("approval_decided", f"approval {approval.id} is already {approval.state}", field="id")
    if approve and approval.maker_id == checker_id:
        raise Forbidden(
            "maker_cannot_approve", "dual control: the maker of a request cannot approve it", field="id"
        )
    cleaned = None if reason is None else reason.strip()
    if cleaned is not None and len(cleaned) > MAX_REASON_LENGTH:
        raise DomainError(
            "reason_too_long", f"reason is at most {MAX_REASON_LENGTH} characters", field="reason"
        )
    approval.state = APPROVED if approve else REJECTED
    approval.checker_id = checker_id
    approval.reason = cleaned or None
    approval.decided_at = unit.now
    unit.record(
        f"approval.{approval.state}",
        f"approval:{approval.id}",
        {
            "kind": approval.kind,
            "subject": approval.subject,
            "checker_id": checker_id,
            "reason": approval.reason,
        },
    )
    return approval


async def find(unit: UnitOfWork, kind: str, subject: str, reference: str) -> Approval | None:
    """The request already made under this reference, in whatever state."""
    return (
        await unit.session.execute(
            select(Approval).where(
                Approval.kind == kind, Approval.subject == subject, Approval.reference == reference
            )
        )
    ).scalar_one_or_none()


async def pending_for(unit: UnitOfWork, kind: str, subject: str) -> Approval | None:
    return (
        await unit.session.execute(
            select(Approval).where(
                Approval.kind == kind, Approval.subject == subject, Approval.state == PENDING
            )
        )
    ).scalar_one_or_none()


async def get_approval(session: AsyncSession, approval_id: int) -> Approval:
    found = await session.get(Approval, approval_id)
    if found is None:
        raise NotFound("approval_not_found", f"approval {approval_id} does not exist", field="id")
    return found


async def list_approvals(
    session: AsyncSession, *, state: str | None, limit: int, offset: int
) -> tuple[Sequence[Approval], int]:
    if state is not None and state not in STATES:
        raise DomainError("unknown_state", f"state must be one of {', '.join(STATES)}", field="state")
    query = select(Approval)
    if state is not None:
        query = query.where(Approval.state == state)
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    rows = (
        (await session.execute(query.order_by(Approval.id.desc()).limit(limit).offset(offset)))
        .scalars()
        .all()
    )
    return rows, total
