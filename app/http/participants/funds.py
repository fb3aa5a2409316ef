from __future__ import annotations

from typing import Annotated

import msgspec

from app.http.input_bounds import Yuan
from transfer.clearing.approvals import APPROVED, PENDING, REJECTED
from transfer.kernel.money import format_fen
from transfer.ledger import Balances, receipt_transfer_id
from transfer.models import LedgerTransfer
from transfer.models.approvals import Approval


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
    # done; awaiting_approval past the dual-control threshold (a withdrawal's money held, a
    # receipt not yet credited) until approval_id is decided; rejected once it is refused.
    status: str = "done"
    approval_id: int | None = None

    @classmethod
    def of(
        cls,
        participant_id: int,
        transfer: LedgerTransfer | None,
        balances: Balances,
        approval: Approval | None = None,
    ) -> FundsRecorded:
        """`transfer` is None for a receipt that waits: its id is the one it will be booked under."""
        if transfer is None:
            assert approval is not None, "only a receipt that waits has no transfer yet"
            transfer_id, amount_fen, created_at = (
                receipt_transfer_id(approval.reference),
                approval.amount_fen,
                approval.created_at,
            )
        else:
            transfer_id, amount_fen, created_at = transfer.id, transfer.amount_fen, transfer.created_at
        return cls(
            transfer_id=transfer_id,
            participant_id=participant_id,
            amount=format_fen(amount_fen),
            reference=transfer.reference or ""
            if transfer is not None
            else approval.reference
            if approval
            else "",
            created_at=created_at.isoformat(),
            balances={
                "available": format_fen(balances.available_fen),
                "held": format_fen(balances.held_fen),
            },
            status=_STATUS[approval.state] if approval is not None else "done",
            approval_id=None if approval is None else approval.id,
        )


_STATUS = {PENDING: "awaiting_approval", APPROVED: "done", REJECTED: "rejected"}
