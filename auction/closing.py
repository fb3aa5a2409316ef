"""Closing auctions exactly once (the winner's payment or default: auction.payment).

Closers claim due auctions with FOR UPDATE SKIP LOCKED on PostgreSQL, so any number of scheduler
processes can run at once: each auction is claimed by one closer, and the state check under the lock
makes a second close of the same auction impossible. On SQLite the write lock does the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, text

from auction.bidding.lot import english_rules, english_state
from auction.creation import descending_rules
from auction.models import RUNNING_PREDICATE, Auction, Bid, Registration
from auction.origins import handler_for
from auction.policy import RUNNING_STATES, SEALED_KINDS, AuctionKind, AuctionPolicy, AuctionState
from auction.rules import (
    Acceptance,
    CloseOutcome,
    SealedBid,
    SealedKind,
    SealedRules,
    Sold,
    close_descending,
    close_english,
    close_fixed_price,
    close_sealed,
)
from transfer import ledger
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork

CLOSE_BATCH_SIZE = 1000
# Running lots past their end, and lots set aside after a failed close (retried one at a time).
CLOSABLE_STATES = (*RUNNING_STATES, AuctionState.SET_ASIDE)


def _outcome(auction: Auction, bids: list[Bid]) -> CloseOutcome:
    kind = AuctionKind(auction.kind)
    if kind is AuctionKind.ENGLISH:
        return close_english(english_state(auction), english_rules(auction))
    if kind in SEALED_KINDS:
        sealed_rules = SealedRules(
            SealedKind(auction.kind),
            auction.start_price_fen,
            auction.increment_fen,
            auction.reserve_price_fen,
        )
        return close_sealed(
            [SealedBid(b.bidder_id, b.amount_fen, b.received_at, b.sequence) for b in bids], sealed_rules
        )
    acceptances = [Acceptance(b.bidder_id, b.received_at, b.sequence) for b in bids]
    if kind is AuctionKind.DESCENDING:
        return close_descending(descending_rules(auction), acceptances)
    return close_fixed_price(auction.start_price_fen, acceptances)


async def escrow_account_id(unit: UnitOfWork) -> int:
    return await ledger.account_id(unit.session, ledger.center_account_key(ledger.ESCROW))


async def close_auction(unit: UnitOfWork, auction: Auction, policy: AuctionPolicy) -> None:
    """Resolve one locked, running auction (see close_auctions)."""
    await close_auctions(unit, [auction], policy)


async def close_auctions(unit: UnitOfWork, auctions: Sequence[Auction], policy: AuctionPolicy) -> None:
    """Resolve locked, running auctions: winner and price, every deposit posted or released.

    A batch costs a fixed number of statements, not a number per auction: one query for the
    registrations, one for the live bids of non-English lots, and the deposits resolved together
    (ledger.resolve_holds).
    """
    assert all(auction.state in CLOSABLE_STATES for auction in auctions)
    ids = [auction.id for auction in auctions]
    registrations_of: dict[int, list[Registration]] = {auction_id: [] for auction_id in ids}
    for registration in (
        await unit.session.execute(
            select(Registration).where(Registration.auction_id.in_(ids)).order_by(Registration.id)
        )
    ).scalars():
        registrations_of[registration.auction_id].append(registration)
    bids_of: dict[int, list[Bid]] = {auction_id: [] for auction_id in ids}
    needs_bids = [a.id for a in auctions if a.kind != AuctionKind.ENGLISH]
    if needs_bids:
        for bid in (
            await unit.session.execute(
                select(Bid)
                .where(Bid.auction_id.in_(needs_bids), Bid.superseded.is_(False))
                .order_by(Bid.sequence)
            )
        ).scalars():
            bids_of[bid.auction_id].append(bid)
    escrow_id = await escrow_account_id(unit)
    resolutions: list[ledger.HoldResolution] = []
    for auction in auctions:
        resolutions += await _settle_outcome(
            unit,
            auction,
            _outcome(auction, bids_of[auction.id]),
            registrations_of[auction.id],
            escrow_id,
            policy,
        )
    await ledger.resolve_holds(unit, resolutions)


def _deposit_resolutions(
    auction_id: int, registrations: list[Registration], applied_to_id: int | None, escrow_id: int
) -> list[ledger.HoldResolution]:
    """Every held deposit released, except the one of `applied_to_id` (the winner who pays the
    house), which goes to escrow toward the price until payment or default."""
    resolutions: list[ledger.HoldResolution] = []
    for registration in registrations:
        if registration.deposit_state != "held":
            continue
        if registration.bidder_id == applied_to_id:
            if registration.deposit_hold_id is not None:
                # The winner's deposit goes toward the price: held in escrow until payment or default.
                resolutions.append(
                    ledger.HoldResolution(
                        registration.deposit_hold_id,
                        f"{registration.deposit_hold_id}:apply",
                        escrow_id,
                        "deposit_apply",
                        f"auction:{auction_id}",
                    )
                )
            registration.deposit_state = "applied"
        else:
            if registration.deposit_hold_id is not None:
                resolutions.append(
                    ledger.HoldResolution(
                        registration.deposit_hold_id,
                        f"{registration.deposit_hold_id}:void",
                        None,
                        "deposit_refund",
                        f"auction:{auction_id}",
                    )
                )
            registration.deposit_state = "refunded"
    return resolutions


async def _settle_outcome(
    unit: UnitOfWork,
    auction: Auction,
    outcome: CloseOutcome,
    registrations: list[Registration],
    escrow_id: int,
    policy: AuctionPolicy,
) -> list[ledger.HoldResolution]:
    winner_id = outcome.winner_id if isinstance(outcome, Sold) else None
    origin = handler_for(policy.origins, auction.origin_kind)
    # An origin that settles its sales itself (a listing's is a trade, settled delivery versus
    # payment by clearing) takes the sale over: every deposit, the winner's too, is released here.
    settled_by_origin = winner_id is not None and origin is not None and origin.settles_sale
    resolutions = _deposit_resolutions(
        auction.id, registrations, None if settled_by_origin else winner_id, escrow_id
    )
    auction.closed_at = unit.now
    payload: dict[str, object] = {"event": "closed", "server_time": unit.now.isoformat()}
    if isinstance(outcome, Sold):
        winner = next(r for r in registrations if r.bidder_id == outcome.winner_id)
        auction.state = AuctionState.AWAITING_PAYMENT.value
        auction.winner_id = outcome.winner_id
        auction.final_price_fen = outcome.price_fen
        auction.price_fen = outcome.price_fen
        auction.leader_id = outcome.winner_id
        auction.leader_paddle = winner.paddle
        auction.payment_due_at = unit.now + timedelta(seconds=policy.payment_deadline_s)
        if origin is not None:
            taken = await origin.sold(unit, auction, outcome.winner_id, outcome.price_fen)
            payload.update(taken.live)
        if settled_by_origin:
            auction.state = AuctionState.SOLD.value
            auction.payment_due_at = None
        payload.update(
            outcome="sold",
            winning_paddle=winner.paddle,
            final_price=format_fen(outcome.price_fen),
            payment_due_at=auction.payment_due_at.isoformat() if auction.payment_due_at else None,
        )
    else:
        auction.state = AuctionState.UNSOLD.value
        auction.unsold_reason = outcome.reason.value
        payload.update(outcome="unsold", reason=outcome.reason.value)
        if origin is not None:
            await origin.unsold(unit, auction)
    unit.record(
        "auction.closed",
        f"auction:{auction.id}",
        {
            "state": auction.state,
            "winner_id": auction.winner_id,
            "final_price_fen": auction.final_price_fen,
            "unsold_reason": auction.unsold_reason,
            "ends_at": auction.ends_at.isoformat(),
            "deposits_refunded": sum(1 for r in registrations if r.deposit_state == "refunded"),
        },
    )
    unit.publish(f"auction:{auction.id}", payload)
    return resolutions


def due_to_close(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Auctions still running whose end has passed: the closer's work (and the scheduler's probe)."""
    # The partial index's own predicate, as literal SQL: PostgreSQL then proves that the index
    # (ix_auctions_running_ends_at) covers the query in every plan, generic ones included.
    return and_(text(RUNNING_PREDICATE), Auction.ends_at <= now)


async def close_due(unit: UnitOfWork, policy: AuctionPolicy, limit: int | None = None) -> int:
    """Close up to `limit` (default CLOSE_BATCH_SIZE) auctions whose end has passed; returns how
    many it closed."""
    limit = CLOSE_BATCH_SIZE if limit is None else limit
    due = (
        (
            await unit.session.execute(
                select(Auction)
                .where(due_to_close(unit.now))
                .order_by(Auction.ends_at, Auction.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    await close_auctions(unit, due, policy)
    return len(due)
