"""Delivery versus payment: the money and the ownership move in one transaction, or nothing moves.

Buyer's available funds -> seller (the price), each side's charged fees -> the center's fee income,
then the creditor or the income-right register changes. If any account would be overdrawn the unit of
work raises InsufficientFunds (naming the shortfall) before ownership is touched, and the transaction
rolls back whole.
"""

from __future__ import annotations

from sqlalchemy import select

from transfer import ledger
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.locking import lock_row
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.market import BorrowerNotice, Trade
from transfer.registry.loans import refuse_defaulted
from transfer.registry.ownership import lock_loan, move_income_right, transfer_creditor
from transfer.rules.fee_waiver import shanghai_trade_date


async def lock_trade(unit: UnitOfWork, trade_id: int) -> Trade:
    return await lock_row(unit, Trade, trade_id, code="trade_not_found", noun="trade", field="id")


async def settle_trade(unit: UnitOfWork, trade_id: int, *, clerk_id: int | None = None) -> Trade:
    """Settle a pending trade. `clerk_id` is the clearing clerk who asks: never the buyer or the
    seller, whatever its roles, so no one clears its own trade. None is the system's own work (the
    demo's history), which has no clerk."""
    trade = await lock_trade(unit, trade_id)
    if clerk_id is not None and clerk_id in (trade.buyer_id, trade.seller_id):
        raise Forbidden(
            "party_cannot_settle",
            f"participant {clerk_id} is party to trade {trade_id}: another clerk settles it",
        )
    if trade.status != "pending":
        raise Conflict(
            "trade_not_pending", f"trade {trade_id} is {trade.status}; only a pending trade settles"
        )
    # The loan's lock, taken before any money moves, orders this settlement with a default of the
    # same loan: whichever commits first, the other sees it.
    refuse_defaulted(await lock_loan(unit, trade.loan_id), None)
    # The fee totals stored with the trade's fee lines; reconciliation checks the lines against them.
    seller_fees_fen = trade.seller_fees_charged_fen
    buyer_fees_fen = trade.buyer_fees_charged_fen
    session = unit.session
    buyer = await ledger.participant_account_id(session, trade.buyer_id, ledger.AVAILABLE)
    seller = await ledger.participant_account_id(session, trade.seller_id, ledger.AVAILABLE)
    fee_income = await ledger.account_id(session, ledger.center_account_key(ledger.FEE_INCOME))
    reference = f"trade:{trade.id}"
    await ledger.post_transfer(
        unit,
        f"trade:{trade.id}:price",
        debit_account_id=buyer,
        credit_account_id=seller,
        amount_fen=trade.price_fen,
        code="trade_price",
        reference=reference,
    )
    if seller_fees_fen:
        await ledger.post_transfer(
            unit,
            f"trade:{trade.id}:fees:seller",
            debit_account_id=seller,
            credit_account_id=fee_income,
            amount_fen=seller_fees_fen,
            code="trade_fees",
            reference=reference,
        )
    if buyer_fees_fen:
        await ledger.post_transfer(
            unit,
            f"trade:{trade.id}:fees:buyer",
            debit_account_id=buyer,
            credit_account_id=fee_income,
            amount_fen=buyer_fees_fen,
            code="trade_fees",
            reference=reference,
        )
    # Money first: a shortfall refuses the settlement before ownership is touched.
    await ledger.apply_balance_deltas(unit)
    if trade.kind == "whole_loan":
        await transfer_creditor(unit, trade.loan_id, trade.seller_id, trade.buyer_id, trade.share_ppm)
        unit.session.add(
            BorrowerNotice(
                trade_id=trade.id,
                loan_id=trade.loan_id,
                new_creditor_id=trade.buyer_id,
                status="to_notify",
                created_at=unit.now,
            )
        )
    else:
        await move_income_right(unit, trade.loan_id, trade.seller_id, trade.buyer_id, trade.share_ppm)
    trade.status = "settled"
    trade.settled_at = unit.now
    unit.record(
        "trade.settled",
        f"trade:{trade.id}",
        {
            "loan_id": trade.loan_id,
            "kind": trade.kind,
            "seller_id": trade.seller_id,
            "buyer_id": trade.buyer_id,
            "share_ppm": trade.share_ppm,
            "price_fen": trade.price_fen,
            "seller_fees_fen": seller_fees_fen,
            "buyer_fees_fen": buyer_fees_fen,
        },
    )
    return trade


FAIL_BATCH_SIZE = 500


async def fail_overdue_trades(unit: UnitOfWork, limit: int = FAIL_BATCH_SIZE) -> int:
    """Trades past their settlement date unsettled are failed (their listing reopens for negotiation)."""
    today = shanghai_trade_date(unit.now)
    overdue = (
        (
            await unit.session.execute(
                select(Trade)
                .where(Trade.status == "pending", Trade.settlement_due_on < today)
                .order_by(Trade.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for trade in overdue:
        trade.status = "failed"
        trade.failed_at = unit.now
        unit.record(
            "trade.failed", f"trade:{trade.id}", {"settlement_due_on": trade.settlement_due_on.isoformat()}
        )
    return len(overdue)
