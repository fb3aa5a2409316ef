"""A standing commitment's budget: the unheld part is one ledger hold, resized as offers take from
it or give back; budget = unheld + offered (held by live offers) + spent + released (given back once the
commitment ended), always.

Every resize voids the current hold and holds the new amount under the next generation's id, in
the same transaction: the agency's available funds never see the money in between, and each hold
still resolves exactly once.
"""

from __future__ import annotations

from auction.operation.models import BuyoutCommitment
from transfer import ledger
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork

LIVE = "live"


def _whole(commitment: BuyoutCommitment) -> bool:
    parts_fen = (
        commitment.unheld_fen + commitment.offered_fen + commitment.spent_fen + commitment.released_fen
    )
    return parts_fen == commitment.budget_fen


async def lock_commitment(unit: UnitOfWork, commitment_id: int) -> BuyoutCommitment:
    return await lock_row(
        unit, BuyoutCommitment, commitment_id, code="commitment_not_found", noun="commitment", field="id"
    )


async def hold_unheld(unit: UnitOfWork, commitment: BuyoutCommitment, unheld_fen: int) -> None:
    """Make the commitment's hold `unheld_fen` (none at zero); the caller has already moved the
    difference to another part, so the sum is whole again after."""
    # Set before the ledger's statements: their autoflush writes the row, and its CHECK wants it whole.
    commitment.unheld_fen = unheld_fen
    if commitment.hold_id is not None:
        await ledger.void_hold(
            unit,
            f"{commitment.hold_id}:void",
            pending_id=commitment.hold_id,
            code="commitment_budget_resize",
            reference=f"commitment:{commitment.id}",
        )
        commitment.hold_id = None
    if unheld_fen > 0:
        commitment.hold_generation += 1
        commitment.hold_id = f"commitment:{commitment.id}:budget:{commitment.hold_generation}"
        await ledger.hold(
            unit,
            commitment.hold_id,
            participant_id=commitment.agency_id,
            amount_fen=unheld_fen,
            code="commitment_budget_hold",
            reference=f"commitment:{commitment.id}",
        )
    assert _whole(commitment)


async def give_back(unit: UnitOfWork, commitment_id: int, price_fen: int) -> None:
    """An offer the commitment made ended unsold: its price returns to the budget while the
    commitment lives, else (the offer's hold already voided) to the agency's funds."""
    commitment = await lock_commitment(unit, commitment_id)
    assert commitment.offered_fen >= price_fen
    commitment.offered_fen -= price_fen
    if commitment.state == LIVE:
        # The offer's void already released its price to available; the hold takes it back.
        await hold_unheld(unit, commitment, commitment.unheld_fen + price_fen)
    else:
        # An ended commitment keeps no unheld budget: what is not offered or spent is the agency's.
        commitment.released_fen += price_fen
    assert _whole(commitment)


async def spend(unit: UnitOfWork, commitment_id: int, price_fen: int) -> None:
    """An offer the commitment made was accepted: its price is spent."""
    commitment = await lock_commitment(unit, commitment_id)
    assert commitment.offered_fen >= price_fen
    commitment.offered_fen -= price_fen
    commitment.spent_fen += price_fen
    assert _whole(commitment)


async def release_unheld(unit: UnitOfWork, commitment: BuyoutCommitment) -> int:
    """The commitment ends (withdrawn, expired): its unheld budget returns to the agency's funds.
    Its live offers keep their own holds until they end. Returns the amount released."""
    released_fen = commitment.unheld_fen
    commitment.released_fen += released_fen
    await hold_unheld(unit, commitment, 0)
    return released_fen
