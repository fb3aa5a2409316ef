"""The winner's payment of the balance, or its default past the deadline (deposit forfeited, bidder
barred from re-runs of the lot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select

from auction.closing import CLOSE_BATCH_SIZE, escrow_account_id
from auction.creation import lock_auction
from auction.models import Auction, Registration
from auction.origins import handler_for
from auction.policy import AuctionPolicy, AuctionState
from transfer import ledger
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork


def past_payment_deadline(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Winners who have not paid by their deadline: default_overdue's work."""
    return and_(Auction.state == AuctionState.AWAITING_PAYMENT.value, Auction.payment_due_at <= now)


async def default_overdue(unit: UnitOfWork, policy: AuctionPolicy, limit: int = CLOSE_BATCH_SIZE) -> int:
    """Winners past their payment deadline default: the deposit goes to the seller, the bidder is barred."""
    overdue = (
        (
            await unit.session.execute(
                select(Auction)
                .where(past_payment_deadline(unit.now))
                .order_by(Auction.payment_due_at, Auction.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    if not overdue:
        return 0
    escrow_id = await escrow_account_id(unit)
    for auction in overdue:
        winner = (
            await unit.session.execute(
                select(Registration).where(
                    Registration.auction_id == auction.id, Registration.bidder_id == auction.winner_id
                )
            )
        ).scalar_one()
        origin = handler_for(policy.origins, auction.origin_kind)
        # An origin that takes the proceeds finds the forfeited deposit in escrow (origins.py).
        if winner.deposit_hold_id is not None and not (origin is not None and origin.takes_proceeds):
            seller_account = await ledger.participant_account_id(
                unit.session, auction.seller_id, ledger.AVAILABLE
            )
            await ledger.post_transfer(
                unit,
                f"{winner.deposit_hold_id}:forfeit",
                debit_account_id=escrow_id,
                credit_account_id=seller_account,
                amount_fen=winner.deposit_fen,
                code="deposit_forfeit",
                reference=f"auction:{auction.id}",
            )
        winner.deposit_state = "forfeited"
        winner.barred = True
        auction.state = AuctionState.DEFAULTED.value
        if origin is not None:
            await origin.defaulted(unit, auction)
        unit.record(
            "auction.defaulted",
            f"auction:{auction.id}",
            {"winner_id": auction.winner_id, "deposit_forfeited_fen": winner.deposit_fen},
        )
        unit.publish(f"auction:{auction.id}", {"event": "defaulted", "server_time": unit.now.isoformat()})
    return len(overdue)


@dataclass(frozen=True, slots=True)
class Payment:
    """A winner's payment: the lot, its deposit applied toward the price, and the balance paid."""

    auction: Auction
    price_fen: int
    deposit_applied_fen: int
    balance_fen: int


async def pay(unit: UnitOfWork, auction_id: int, bidder_id: int, policy: AuctionPolicy) -> Payment:
    """The winner pays the balance from available funds; the seller receives the whole price."""
    auction = await lock_auction(unit, auction_id)
    if auction.winner_id != bidder_id:
        raise Forbidden("not_the_winner", "only the winner of this auction pays for it")
    if auction.state != AuctionState.AWAITING_PAYMENT:
        raise Conflict("not_awaiting_payment", f"the auction is {auction.state}, not awaiting payment")
    assert auction.payment_due_at is not None and auction.final_price_fen is not None
    if unit.now > auction.payment_due_at:
        raise Conflict("payment_deadline_passed", "the payment deadline has passed; the winner is in default")
    winner = (
        await unit.session.execute(
            select(Registration).where(
                Registration.auction_id == auction.id, Registration.bidder_id == bidder_id
            )
        )
    ).scalar_one()
    applied_fen = winner.deposit_fen if winner.deposit_hold_id is not None else 0
    balance_fen = auction.final_price_fen - applied_fen
    assert balance_fen >= 0
    escrow_id = await escrow_account_id(unit)
    if balance_fen > 0:
        buyer_account = await ledger.participant_account_id(unit.session, bidder_id, ledger.AVAILABLE)
        await ledger.post_transfer(
            unit,
            f"auction:{auction.id}:payment",
            debit_account_id=buyer_account,
            credit_account_id=escrow_id,
            amount_fen=balance_fen,
            code="auction_payment",
            reference=f"auction:{auction.id}",
        )
    origin = handler_for(policy.origins, auction.origin_kind)
    if origin is None or not origin.takes_proceeds:
        seller_account = await ledger.participant_account_id(
            unit.session, auction.seller_id, ledger.AVAILABLE
        )
        await ledger.post_transfer(
            unit,
            f"auction:{auction.id}:proceeds",
            debit_account_id=escrow_id,
            credit_account_id=seller_account,
            amount_fen=auction.final_price_fen,
            code="auction_proceeds",
            reference=f"auction:{auction.id}",
        )
    # Checked here so the winner hears the shortfall for this request.
    await ledger.apply_balance_deltas(unit)
    auction.state = AuctionState.SOLD.value
    if origin is not None:
        await origin.paid(unit, auction)
    auction.paid_at = unit.now
    unit.record(
        "auction.paid",
        f"auction:{auction.id}",
        {
            "winner_id": bidder_id,
            "balance_fen": balance_fen,
            "deposit_applied_fen": applied_fen,
            "price_fen": auction.final_price_fen,
        },
    )
    unit.publish(f"auction:{auction.id}", {"event": "sold", "server_time": unit.now.isoformat()})
    return Payment(auction, auction.final_price_fen, applied_fen, balance_fen)
