"""The pledgor's surplus paid out (民法典第438条): clearing pays out what the center's pledgor account
holds for a case and has not paid yet, as often as a surplus arrives.

A case's surplus can grow after it was paid out: earn-out revenue that reaches a case whose claim
is paid is surplus too (auction.disposal.earn_outs). So a payout pays what is held, the surplus
less every payout before it, and is refused only when nothing is held. Each payout is its own
ledger transfer to the outside world (`disposal:{case}:surplus_payout`, then `…:2`, `…:3`), which
is where the paid total is read from. Above the dual-control threshold a payout waits for a second
clearing participant's approval (transfer.clearing.approvals), the money staying in the pledgor
account until then; one payout of a case waits at a time. The case's lock orders payouts with
each other and with the earn-outs that raise the surplus.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.disposal.models import DisposalCase
from transfer import ledger
from transfer.clearing import approvals
from transfer.kernel.errors import Conflict, DomainError
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import LedgerTransfer
from transfer.models.approvals import Approval

MAX_REFERENCE_LENGTH = 100
PAYOUT_CODE = "pledgor_surplus_payout"


def _first_transfer_id(case_id: int) -> str:
    return f"disposal:{case_id}:surplus_payout"


def _of_case(case_id: int) -> ColumnElement[bool]:
    first = _first_transfer_id(case_id)
    return or_(LedgerTransfer.id == first, LedgerTransfer.id.startswith(f"{first}:", autoescape=True))


async def _payouts(session: AsyncSession, case_id: int) -> list[tuple[int, str | None]]:
    rows = await session.execute(
        select(LedgerTransfer.amount_fen, LedgerTransfer.reference).where(
            LedgerTransfer.code == PAYOUT_CODE, _of_case(case_id)
        )
    )
    return [(int(amount_fen), reference) for amount_fen, reference in rows.all()]


async def paid_by_case(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, int]:
    """The surplus paid out so far per case (cases never paid out are left out)."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(LedgerTransfer.id, LedgerTransfer.amount_fen).where(
            LedgerTransfer.code == PAYOUT_CODE, or_(*(_of_case(case_id) for case_id in case_ids))
        )
    )
    paid: dict[int, int] = {}
    for transfer_id, amount_fen in rows.all():
        case_id = int(transfer_id.split(":")[1])
        paid[case_id] = paid.get(case_id, 0) + int(amount_fen)
    return paid


def _clean(reference: str) -> str:
    cleaned = reference.strip()
    if not cleaned or len(cleaned) > MAX_REFERENCE_LENGTH:
        raise DomainError(
            "reference_required",
            f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters",
            field="reference",
        )
    return cleaned


def _held_fen(case: DisposalCase, payouts: Sequence[tuple[int, str | None]]) -> int:
    """What the pledgor account holds for the case and has not paid out; refuses nothing held."""
    if not case.surplus_fen:
        raise Conflict("no_surplus", f"disposal case {case.id} has no surplus for the pledgor", field="id")
    paid_fen = sum(amount_fen for amount_fen, _ in payouts)
    held_fen = case.surplus_fen - paid_fen
    assert held_fen >= 0, f"disposal case {case.id} paid out more surplus than it had"
    if held_fen == 0:
        when = "" if case.surplus_paid_at is None else f", last on {case.surplus_paid_at.isoformat()}"
        raise Conflict(
            "surplus_already_paid",
            f"disposal case {case.id} holds no surplus: all {paid_fen} fen of it was paid out{when}",
            field="id",
        )
    return held_fen


async def pay_out_surplus(
    unit: UnitOfWork, case: DisposalCase, reference: str, maker_id: int, dual_control_above_fen: int
) -> Approval | None:
    """Clearing pays out the surplus held for the case (locked by the caller); above the
    dual-control threshold it waits for approval (the approval returned)."""
    cleaned = _clean(reference)
    payouts = await _payouts(unit.session, case.id)
    held_fen = _held_fen(case, payouts)
    if any(used == cleaned for _, used in payouts):
        raise Conflict(
            "reference_already_booked",
            f"reference {cleaned} already paid out a surplus of disposal case {case.id}",
            field="reference",
        )
    if held_fen <= dual_control_above_fen:
        await _pay(unit, case, cleaned, held_fen, len(payouts))
        return None
    subject = f"disposal:{case.id}"
    waiting = await approvals.pending_for(unit, approvals.SURPLUS_PAYOUT, subject)
    if waiting is not None:
        if waiting.reference != cleaned:
            raise Conflict(
                "approval_pending",
                f"the surplus payout {waiting.reference} waits for approval {waiting.id}",
                field="reference",
            )
        return waiting
    return await approvals.request_approval(
        unit,
        kind=approvals.SURPLUS_PAYOUT,
        subject=subject,
        amount_fen=held_fen,
        reference=cleaned,
        maker_id=maker_id,
    )


async def pay_approved(unit: UnitOfWork, case: DisposalCase, approval: Approval) -> int:
    """An approved payout pays the amount it was approved for (a surplus that arrived meanwhile
    waits for a payout of its own)."""
    payouts = await _payouts(unit.session, case.id)
    held_fen = _held_fen(case, payouts)
    if approval.amount_fen > held_fen:
        raise Conflict(
            "surplus_changed",
            f"approval {approval.id} is for {approval.amount_fen} fen; disposal case {case.id} holds {held_fen}",
            field="id",
        )
    return await _pay(unit, case, approval.reference, approval.amount_fen, len(payouts))


async def _pay(unit: UnitOfWork, case: DisposalCase, reference: str, amount_fen: int, earlier: int) -> int:
    first = _first_transfer_id(case.id)
    transfer_id = first if earlier == 0 else f"{first}:{earlier + 1}"
    await ledger.post_transfer(
        unit,
        transfer_id,
        debit_account_id=await ledger.account_id(
            unit.session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        ),
        credit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL)),
        amount_fen=amount_fen,
        code=PAYOUT_CODE,
        reference=reference,
    )
    case.surplus_paid_at = unit.now
    case.surplus_reference = reference
    unit.record(
        "disposal.surplus_paid",
        f"disposal:{case.id}",
        {"amount_fen": amount_fen, "reference": reference, "transfer_id": transfer_id, "payout": earlier + 1},
    )
    return amount_fen
