"""Money entering and leaving the market: funds received by clearing, withdrawals paid out."""

from __future__ import annotations

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
