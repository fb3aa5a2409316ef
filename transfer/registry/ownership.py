"""Ownership of a loan: one creditor, and an income-right register that always sums to 1,000,000 ppm.

Changed only inside a settlement's transaction, under the loan's row lock.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from transfer.kernel.errors import Conflict
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import IncomeRight, Loan
from transfer.rules.shares import WHOLE_SHARE_PPM


async def lock_loan(unit: UnitOfWork, loan_id: int) -> Loan:
    return await lock_row(unit, Loan, loan_id, code="loan_not_found", noun="loan", field="loan_id")


async def register_of(unit: UnitOfWork, loan_id: int) -> dict[int, int]:
    rows = await unit.session.execute(
        select(IncomeRight.holder_id, IncomeRight.share_ppm).where(IncomeRight.loan_id == loan_id)
    )
    return {holder_id: share_ppm for holder_id, share_ppm in rows.all()}


async def _assert_whole(unit: UnitOfWork, loan_id: int) -> None:
    total = (
        await unit.session.execute(
            select(func.coalesce(func.sum(IncomeRight.share_ppm), 0)).where(IncomeRight.loan_id == loan_id)
        )
    ).scalar_one()
    assert int(total) == WHOLE_SHARE_PPM, f"income rights of loan {loan_id} sum to {total} ppm"


async def _set_share(unit: UnitOfWork, loan_id: int, holder_id: int, share_ppm: int) -> None:
    await unit.session.execute(
        delete(IncomeRight).where(IncomeRight.loan_id == loan_id, IncomeRight.holder_id == holder_id)
    )
    if share_ppm > 0:
        unit.session.add(IncomeRight(loan_id=loan_id, holder_id=holder_id, share_ppm=share_ppm))
    await unit.session.flush()


async def move_income_right(
    unit: UnitOfWork, loan_id: int, seller_id: int, buyer_id: int, share_ppm: int
) -> None:
    await lock_loan(unit, loan_id)
    register = await register_of(unit, loan_id)
    held_ppm = register.get(seller_id, 0)
    if held_ppm < share_ppm:
        raise Conflict(
            "seller_share_insufficient",
            f"the seller holds {held_ppm} ppm of this loan's income right, less than the {share_ppm} ppm traded",
        )
    await _set_share(unit, loan_id, seller_id, held_ppm - share_ppm)
    await _set_share(unit, loan_id, buyer_id, register.get(buyer_id, 0) + share_ppm)
    await _assert_whole(unit, loan_id)
    unit.record(
        "loan.income_right_moved",
        f"loan:{loan_id}",
        {"from": seller_id, "to": buyer_id, "share_ppm": share_ppm},
    )


async def transfer_creditor(
    unit: UnitOfWork, loan_id: int, seller_id: int, buyer_id: int, share_ppm: int
) -> None:
    """A whole-loan transfer: the claim, with its pledge (民法典第547条), and the seller's own income
    right move to the buyer; shares other holders kept (with their consent) stay theirs.

    `share_ppm` is the seller's share the trade was priced on (its whole register share when it
    listed). A seller who sold part of it since would deliver less than the buyer paid for, and one
    who bought more would hand over more than it sold: either way the trade no longer describes
    the transfer, so it does not settle."""
    loan = await lock_loan(unit, loan_id)
    if loan.creditor_id != seller_id:
        raise Conflict("seller_not_creditor", "the seller is no longer this loan's creditor")
    register = await register_of(unit, loan_id)
    seller_ppm = register.get(seller_id, 0)
    if seller_ppm != share_ppm:
        raise Conflict(
            "seller_share_changed",
            f"the seller holds {seller_ppm} ppm of this loan's income right, not the {share_ppm} ppm traded",
        )
    loan.creditor_id = buyer_id
    if seller_ppm:
        await _set_share(unit, loan_id, seller_id, 0)
        await _set_share(unit, loan_id, buyer_id, register.get(buyer_id, 0) + seller_ppm)
    await _assert_whole(unit, loan_id)
    unit.record("loan.creditor_changed", f"loan:{loan_id}", {"from": seller_id, "to": buyer_id})
