"""Money entering and leaving the market: funds received by clearing, withdrawals paid out."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Conflict
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.ledger.accounts import (
    AVAILABLE,
    EXTERNAL,
    account_id,
    center_account_key,
    participant_account_id,
)
from transfer.ledger.posting import post_transfer
from transfer.models import LedgerTransfer

# A transfer id is at most 100 characters; a withdrawal's hold adds ":hold:released" to its id.
MAX_WITHDRAWAL_ID_LENGTH = 100 - len(":hold:released")


def _reference_id(prefix: str, reference: str, room: int) -> str:
    """`prefix` + the reference, or + its digest when that would not fit in `room` characters (a
    reference may be 100 characters long)."""
    plain = f"{prefix}{reference}"
    if len(plain) <= room:
        return plain
    digest = f"{prefix}sha256:{hashlib.sha256(reference.encode()).hexdigest()[:40]}"
    assert len(digest) <= room
    return digest


def receipt_transfer_id(reference: str) -> str:
    """One bank reference, one receipt across the center: a wire is credited once, to one
    participant. Receipts booked before that rule kept their per-participant id (legacy below)."""
    return _reference_id("receipt:", reference, 100)


def _legacy_receipt_transfer_id(participant_id: int, reference: str) -> str:
    return f"funds:{participant_id}:{reference}"


def withdrawal_transfer_id(participant_id: int, reference: str) -> str:
    return _reference_id(f"withdrawal:{participant_id}:", reference, MAX_WITHDRAWAL_ID_LENGTH)


def reference_booked(reference: str) -> Conflict:
    return Conflict(
        "reference_already_booked",
        f"bank reference {reference} is already booked to another participant's receipt",
        field="reference",
    )


async def booked_receipt(
    session: AsyncSession, reference: str, participant_id: int | None = None
) -> LedgerTransfer | None:
    """The receipt booked under this reference anywhere in the center; with `participant_id`, only
    one booked for that participant (a legacy per-participant one included)."""
    found = await session.get(LedgerTransfer, receipt_transfer_id(reference))
    if participant_id is None:
        return found
    available = await participant_account_id(session, participant_id, AVAILABLE)
    if found is not None and found.credit_account_id == available:
        return found
    return await session.get(LedgerTransfer, _legacy_receipt_transfer_id(participant_id, reference))


async def record_funds(
    unit: UnitOfWork,
    participant_id: int,
    amount_fen: int,
    reference: str,
    *,
    approval_id: int | None = None,
) -> LedgerTransfer:
    """Funds received from a participant's bank: external settlement -> available.

    The transfer id is derived from the bank reference, so the same receipt can never be booked
    twice, whatever the client retries: the same request again returns it, another amount or
    another participant under the reference is a 409.
    """
    available = await participant_account_id(unit.session, participant_id, AVAILABLE)
    external = await account_id(unit.session, center_account_key(EXTERNAL))
    legacy = await unit.session.get(LedgerTransfer, _legacy_receipt_transfer_id(participant_id, reference))
    transfer_id = receipt_transfer_id(reference) if legacy is None else legacy.id
    booked = await unit.session.get(LedgerTransfer, transfer_id)
    if booked is not None and booked.credit_account_id != available:
        raise reference_booked(reference)
    transfer = await post_transfer(
        unit,
        transfer_id,
        debit_account_id=external,
        credit_account_id=available,
        amount_fen=amount_fen,
        code="funds",
        reference=reference,
    )
    payload: dict[str, object] = {
        "transfer_id": transfer.id,
        "amount_fen": amount_fen,
        "reference": reference,
    }
    if approval_id is not None:
        payload["approval_id"] = approval_id
    unit.record("funds.recorded", f"participant:{participant_id}", payload)
    return transfer


async def withdraw(unit: UnitOfWork, participant_id: int, amount_fen: int, reference: str) -> LedgerTransfer:
    """Pay out available funds to the participant's bank: available -> external settlement."""
    available = await participant_account_id(unit.session, participant_id, AVAILABLE)
    external = await account_id(unit.session, center_account_key(EXTERNAL))
    transfer = await post_transfer(
        unit,
        withdrawal_transfer_id(participant_id, reference),
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
