"""Clearing pays the enterprise its part of a closed annuity escrow (what its prepayment left once
the loan's pledges ended: transfer.annuities.escrow_close) out to its bank, with the bank
reference, as a withdrawal is; above the dual-control threshold the payout waits, the money still
in the escrow, for a second clearing participant (transfer.clearing.approvals)."""

from __future__ import annotations

from dataclasses import dataclass

from transfer import ledger
from transfer.annuities.escrow import has_live_pledge
from transfer.annuities.escrow_close import close_escrows, escrow_parts
from transfer.clearing import approvals
from transfer.kernel.errors import Conflict, DomainError
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import LedgerTransfer
from transfer.models.approvals import Approval
from transfer.models.loans import Loan

MAX_REFERENCE_LENGTH = 100
PAYOUT_CODE = "annuity_escrow_payout"


@dataclass(frozen=True, slots=True)
class EscrowPayout:
    loan_id: int
    amount_fen: int
    reference: str
    transfer_id: str | None  # None while it waits for approval
    approval: Approval | None


def _transfer_id(loan_id: int, reference: str) -> str:
    return f"annuity_escrow:{loan_id}:payout:{reference}"


async def _enterprise_fen(unit: UnitOfWork, loan_id: int) -> int:
    """What the closed escrow holds for the enterprise; refuses an open escrow or nothing held."""
    loan = await lock_row(unit, Loan, loan_id, code="loan_not_found", noun="loan", field="loan_id")
    if await has_live_pledge(unit.session, loan.id):
        raise Conflict(
            "escrow_open",
            f"loan {loan.id} still has pledged rights: its escrow pays their fees",
            field="loan_id",
        )
    found = await escrow_parts(unit, loan.id, lock=True)
    if found is not None and found[1].creditor_fen:
        # Pledges that ended before escrows closed with them: the creditors have theirs first.
        await close_escrows(unit, [loan.id])
        found = await escrow_parts(unit, loan.id, lock=True)
    if found is None or found[1].enterprise_fen == 0:
        raise Conflict(
            "nothing_held", f"loan {loan.id}'s escrow holds nothing for the enterprise", field="loan_id"
        )
    return found[1].enterprise_fen


async def pay_out(
    unit: UnitOfWork, loan_id: int, reference: str, maker_id: int, dual_control_above_fen: int
) -> EscrowPayout:
    """Clearing pays the whole enterprise part out, now or (above the threshold) once approved."""
    cleaned = reference.strip()
    if not cleaned or len(cleaned) > MAX_REFERENCE_LENGTH:
        raise DomainError(
            "reference_required",
            f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters",
            field="reference",
        )
    if await unit.session.get(LedgerTransfer, _transfer_id(loan_id, cleaned)) is not None:
        raise Conflict(
            "reference_already_booked",
            f"reference {cleaned} already paid out loan {loan_id}'s escrow",
            field="reference",
        )
    amount_fen = await _enterprise_fen(unit, loan_id)
    if amount_fen <= dual_control_above_fen:
        return EscrowPayout(
            loan_id, amount_fen, cleaned, await _pay(unit, loan_id, amount_fen, cleaned), None
        )
    subject = f"loan:{loan_id}"
    waiting = await approvals.pending_for(unit, approvals.ESCROW_PAYOUT, subject)
    if waiting is not None and waiting.reference != cleaned:
        raise Conflict(
            "approval_pending",
            f"the escrow payout {waiting.reference} waits for approval {waiting.id}",
            field="reference",
        )
    approval = waiting or await approvals.request_approval(
        unit,
        kind=approvals.ESCROW_PAYOUT,
        subject=subject,
        amount_fen=amount_fen,
        reference=cleaned,
        maker_id=maker_id,
    )
    return EscrowPayout(loan_id, approval.amount_fen, cleaned, None, approval)


async def carry_out(unit: UnitOfWork, approval: Approval) -> None:
    """An approved escrow payout pays what it was approved for; a rejected one leaves it held."""
    assert approval.kind == approvals.ESCROW_PAYOUT
    if approval.state != approvals.APPROVED:
        return
    loan_id = int(approval.subject.removeprefix("loan:"))
    held_fen = await _enterprise_fen(unit, loan_id)
    if approval.amount_fen > held_fen:
        raise Conflict(
            "escrow_changed",
            f"approval {approval.id} is for {approval.amount_fen} fen; the escrow holds {held_fen}",
            field="id",
        )
    await _pay(unit, loan_id, approval.amount_fen, approval.reference)


async def _pay(unit: UnitOfWork, loan_id: int, amount_fen: int, reference: str) -> str:
    found = await escrow_parts(unit, loan_id, lock=False)
    assert found is not None
    transfer_id = _transfer_id(loan_id, reference)
    await ledger.post_transfer(
        unit,
        transfer_id,
        debit_account_id=found[0],
        credit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL)),
        amount_fen=amount_fen,
        code=PAYOUT_CODE,
        reference=reference,
    )
    unit.record(
        "annuity.escrow_paid_out",
        f"loan:{loan_id}",
        {"transfer_id": transfer_id, "amount_fen": amount_fen, "reference": reference},
    )
    return transfer_id
