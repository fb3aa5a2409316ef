"""The clearing desk's money into and out of a participant, under maker-checker.

* A clerk never books to its own participant: not a receipt, not a withdrawal, not as checker.
* The dual-control threshold applies to the day's running total per participant and direction
  (Asia/Shanghai trade day): a request that would bring the day's receipts, or the day's
  withdrawals, above it waits for a second clearing participant, however small itself, so a large
  sum cannot go through in slices. A waiting withdrawal holds its money; a waiting receipt credits
  nothing until approved.
* The participant's row is locked first, so requests for one participant are decided one after
  another: twenty at once see each other's totals, and none slips past the threshold.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from transfer import ledger
from transfer.clearing import approvals
from transfer.kernel.errors import Conflict, Forbidden, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import LedgerTransfer, Participant
from transfer.models.approvals import Approval
from transfer.rules.fee_waiver import SHANGHAI, shanghai_trade_date

HOLD_CODE = "withdrawal_awaiting_approval"


def refuse_own(clerk_id: int, participant_id: int) -> None:
    """Segregation of duties: a clerk's own money is always booked by someone else."""
    if clerk_id == participant_id:
        raise Forbidden(
            "own_participant",
            f"a clearing clerk may not move money of its own participant {participant_id}",
            field="participant_id",
        )


def trade_day_window(now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the Asia/Shanghai calendar day holding `now` (China has no daylight saving)."""
    start = datetime.combine(shanghai_trade_date(now), time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


async def _lock_participant(unit: UnitOfWork, participant_id: int) -> None:
    """FOR NO KEY UPDATE on PostgreSQL (SQLite has one writer): it serialises this desk's requests
    for the participant, but not the rows that merely reference it (a bid, an approval's maker),
    whose foreign-key checks take KEY SHARE."""
    found = await unit.session.execute(
        select(Participant.id).where(Participant.id == participant_id).with_for_update(key_share=True)
    )
    if found.scalar_one_or_none() is None:
        raise NotFound("participant_not_found", f"participant {participant_id} does not exist", field="id")


async def withdrawn_today_fen(unit: UnitOfWork, participant_id: int) -> int:
    """The day's withdrawals of the participant: paid at once, or held for approval and not
    rejected (counted on the day they were asked for)."""
    available = await ledger.participant_account_id(unit.session, participant_id, ledger.AVAILABLE)
    start, end = trade_day_window(unit.now)
    paid = (LedgerTransfer.kind == ledger.POSTED) & (LedgerTransfer.code == "withdrawal")
    held = (
        (LedgerTransfer.kind == ledger.PENDING)
        & (LedgerTransfer.code == HOLD_CODE)
        & LedgerTransfer.pending_status.in_((ledger.PENDING, ledger.POSTED))
    )
    total = await unit.session.execute(
        select(func.coalesce(func.sum(LedgerTransfer.amount_fen), 0)).where(
            LedgerTransfer.created_at >= start,
            LedgerTransfer.created_at < end,
            LedgerTransfer.debit_account_id == available,
            paid | held,
        )
    )
    return int(total.scalar_one())


async def received_today_fen(unit: UnitOfWork, participant_id: int) -> int:
    """The day's receipts of the participant: credited today, or waiting for approval since today."""
    available = await ledger.participant_account_id(unit.session, participant_id, ledger.AVAILABLE)
    start, end = trade_day_window(unit.now)
    credited = await unit.session.execute(
        select(func.coalesce(func.sum(LedgerTransfer.amount_fen), 0)).where(
            LedgerTransfer.created_at >= start,
            LedgerTransfer.created_at < end,
            LedgerTransfer.credit_account_id == available,
            LedgerTransfer.kind == ledger.POSTED,
            LedgerTransfer.code == "funds",
        )
    )
    waiting = await unit.session.execute(
        select(func.coalesce(func.sum(Approval.amount_fen), 0)).where(
            Approval.kind == approvals.RECEIPT,
            Approval.subject == _subject(participant_id),
            Approval.state == approvals.PENDING,
            Approval.created_at >= start,
            Approval.created_at < end,
        )
    )
    return int(credited.scalar_one()) + int(waiting.scalar_one())


def _subject(participant_id: int) -> str:
    return f"participant:{participant_id}"


async def withdraw_controlled(
    unit: UnitOfWork, maker_id: int, participant_id: int, amount_fen: int, reference: str, above_fen: int
) -> tuple[LedgerTransfer, Approval | None]:
    """Paid out now while the day's withdrawals stay at or under `above_fen`; past it, the amount
    is held and an approval requested. The same request again is answered as the first was."""
    refuse_own(maker_id, participant_id)
    await _lock_participant(unit, participant_id)
    paid_id = ledger.withdrawal_transfer_id(participant_id, reference)
    waiting = await approvals.find(unit, approvals.WITHDRAWAL, _subject(participant_id), reference)
    if waiting is None:
        if await unit.session.get(LedgerTransfer, paid_id) is not None:
            return await ledger.withdraw(unit, participant_id, amount_fen, reference), None
        if await withdrawn_today_fen(unit, participant_id) + amount_fen <= above_fen:
            return await ledger.withdraw(unit, participant_id, amount_fen, reference), None
    hold = await ledger.hold(
        unit,
        f"{paid_id}:hold",
        participant_id=participant_id,
        amount_fen=amount_fen,
        code=HOLD_CODE,
        reference=reference,
    )
    approval = await approvals.request_approval(
        unit,
        kind=approvals.WITHDRAWAL,
        subject=_subject(participant_id),
        amount_fen=amount_fen,
        reference=reference,
        maker_id=maker_id,
        hold_id=hold.id,
    )
    return hold, approval


async def receive_controlled(
    unit: UnitOfWork, maker_id: int, participant_id: int, amount_fen: int, reference: str, above_fen: int
) -> tuple[LedgerTransfer | None, Approval | None]:
    """Credited now while the day's receipts stay at or under `above_fen`; past it, nothing is
    credited and an approval is requested (the transfer is then None). A bank reference is booked
    once across the center (ledger.record_funds)."""
    refuse_own(maker_id, participant_id)
    await _lock_participant(unit, participant_id)
    waiting = await approvals.find(unit, approvals.RECEIPT, _subject(participant_id), reference)
    if waiting is not None:
        if waiting.amount_fen != amount_fen:
            raise Conflict(
                "reference_reused",
                f"reference {reference} was used for another amount ({waiting.amount_fen} fen)",
                field="reference",
            )
        booked = await ledger.booked_receipt(unit.session, reference)
        return booked, waiting
    if await ledger.booked_receipt(unit.session, reference, participant_id) is not None:
        return await ledger.record_funds(unit, participant_id, amount_fen, reference), None
    if await received_today_fen(unit, participant_id) + amount_fen <= above_fen:
        return await ledger.record_funds(unit, participant_id, amount_fen, reference), None
    await _refuse_reference_waiting_elsewhere(unit, participant_id, reference)
    approval = await approvals.request_approval(
        unit,
        kind=approvals.RECEIPT,
        subject=_subject(participant_id),
        amount_fen=amount_fen,
        reference=reference,
        maker_id=maker_id,
    )
    return None, approval


async def _refuse_reference_waiting_elsewhere(unit: UnitOfWork, participant_id: int, reference: str) -> None:
    """One wire is one credit: a reference another participant's receipt waits under, or was
    booked under, is refused here (the ledger's id refuses the booked one in any case)."""
    if await ledger.booked_receipt(unit.session, reference) is not None:
        raise ledger.reference_booked(reference)
    other = await unit.session.execute(
        select(Approval.id).where(
            Approval.kind == approvals.RECEIPT,
            Approval.reference == reference,
            Approval.state != approvals.REJECTED,
            Approval.subject != _subject(participant_id),
        )
    )
    if other.first() is not None:
        raise ledger.reference_booked(reference)


async def carry_out_receipt(unit: UnitOfWork, approval: Approval) -> None:
    """An approved receipt is credited now; a rejected one never is."""
    assert approval.kind == approvals.RECEIPT
    participant_id = int(approval.subject.removeprefix("participant:"))
    if approval.state != approvals.APPROVED:
        return
    assert approval.checker_id is not None
    refuse_own(approval.checker_id, participant_id)
    transfer = await ledger.record_funds(
        unit, participant_id, approval.amount_fen, approval.reference, approval_id=approval.id
    )
    assert transfer.amount_fen == approval.amount_fen


async def carry_out_withdrawal(unit: UnitOfWork, approval: Approval) -> None:
    """An approved withdrawal's hold goes out to the participant's bank; a rejected one's is released."""
    assert approval.kind == approvals.WITHDRAWAL and approval.hold_id is not None
    if approval.state == approvals.APPROVED:
        assert approval.checker_id is not None
        refuse_own(approval.checker_id, int(approval.subject.removeprefix("participant:")))
        external = await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL))
        await ledger.post_hold(
            unit,
            f"{approval.hold_id}:paid",
            pending_id=approval.hold_id,
            credit_account_id=external,
            code="withdrawal",
            reference=approval.reference,
        )
        unit.record(
            "funds.withdrawn",
            approval.subject,
            {
                "transfer_id": f"{approval.hold_id}:paid",
                "amount_fen": approval.amount_fen,
                "reference": approval.reference,
                "approval_id": approval.id,
            },
        )
    else:
        await ledger.void_hold(
            unit,
            f"{approval.hold_id}:released",
            pending_id=approval.hold_id,
            code="withdrawal_rejected",
            reference=approval.reference,
        )
