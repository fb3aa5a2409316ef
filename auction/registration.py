"""Registering to bid: the deposit is held from the bidder's available funds and a paddle assigned."""

from __future__ import annotations

from sqlalchemy import select

from auction.creation import lock_auction
from auction.models import Auction, Registration
from auction.origins import handler_for
from auction.policy import RUNNING_STATES, AuctionPolicy
from transfer import ledger
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork

MAX_RERUN_CHAIN = 20


async def _barred_on_lot(unit: UnitOfWork, auction: Auction, bidder_id: int) -> bool:
    """A defaulting winner may not bid again on the same lot (规定第24条): walk the re-run chain."""
    current: Auction | None = auction
    for _ in range(MAX_RERUN_CHAIN):
        if current is None or current.rerun_of_id is None:
            return False
        barred = await unit.session.execute(
            select(Registration.id).where(
                Registration.auction_id == current.rerun_of_id,
                Registration.bidder_id == bidder_id,
                Registration.barred.is_(True),
            )
        )
        if barred.first() is not None:
            return True
        current = await unit.session.get(Auction, current.rerun_of_id)
    return False


async def register(unit: UnitOfWork, auction_id: int, bidder_id: int, policy: AuctionPolicy) -> Registration:
    auction = await lock_auction(unit, auction_id)
    if auction.seller_id == bidder_id:
        raise Forbidden("seller_cannot_bid", "the seller cannot register on its own auction")
    if auction.state not in RUNNING_STATES or unit.now >= auction.ends_at:
        raise Conflict("auction_not_running", f"the auction is {auction.state}; registration is closed")
    existing = (
        await unit.session.execute(
            select(Registration).where(
                Registration.auction_id == auction.id, Registration.bidder_id == bidder_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            "already_registered",
            f"already registered on this auction with paddle {existing.paddle}",
            extra={"paddle": existing.paddle},
        )
    if await _barred_on_lot(unit, auction, bidder_id):
        raise Forbidden("barred_from_lot", "a defaulting winner may not bid on this lot again")
    origin = handler_for(policy.origins, auction.origin_kind)
    if origin is not None:
        await origin.admit(unit, auction, bidder_id)
    hold_id = None
    if auction.deposit_fen > 0:
        hold_id = f"deposit:{auction.id}:{bidder_id}"
        await ledger.hold(
            unit,
            hold_id,
            participant_id=bidder_id,
            amount_fen=auction.deposit_fen,
            code="deposit_hold",
            reference=f"auction:{auction.id}",
        )
    auction.registration_count += 1
    registration = Registration(
        auction_id=auction.id,
        bidder_id=bidder_id,
        paddle=auction.registration_count,
        deposit_fen=auction.deposit_fen,
        deposit_hold_id=hold_id,
        deposit_state="held",
        barred=False,
        created_at=unit.now,
    )
    unit.session.add(registration)
    await unit.session.flush()
    # Funds are checked now, not at commit, so the bidder hears "insufficient funds" for this request.
    await ledger.apply_balance_deltas(unit)
    unit.record(
        "auction.registered",
        f"auction:{auction.id}",
        {"bidder_id": bidder_id, "paddle": registration.paddle, "deposit_fen": auction.deposit_fen},
    )
    return registration
