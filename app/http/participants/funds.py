from __future__ import annotations

from typing import Annotated

import msgspec

from app.http.input_bounds import Yuan
from transfer.kernel.money import format_fen
from transfer.ledger import Balances
from transfer.models import LedgerTransfer


class FundsMovement(msgspec.Struct, forbid_unknown_fields=True):
    # A string of yuan with two decimals; parsed into fen by transfer.kernel.money.parse_yuan.
    amount: Yuan
    # The bank's own reference for the movement: the same reference is never booked twice.
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]


class FundsRecorded(msgspec.Struct):
    transfer_id: str
    participant_id: int
    amount: str
    reference: str
    created_at: str
    balances: dict[str, str]
    # A withdrawal above the dual-control threshold: its money is held until approval_id is decided.
    status: str = "done"
    approval_id: int | None = None

    @classmethod
    def of(
        cls, participant_id: int, transfer: LedgerTransfer, balances: Balances, approval_id: int | None = None
    ) -> FundsRecorded:
        return cls(
            transfer_id=transfer.id,
            participant_id=participant_id,
            amount=format_fen(transfer.amount_fen),
            reference=transfer.reference or "",
            created_at=transfer.created_at.isoformat(),
            balances={
                "available": format_fen(balances.available_fen),
                "held": format_fen(balances.held_fen),
            },
            status="done" if approval_id is None else "awaiting_approval",
            approval_id=approval_id,
        )
