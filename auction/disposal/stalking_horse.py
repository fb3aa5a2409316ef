"""The stalking-horse bid (`as_opening_bid`): a buyout offer that stands in the case's next round.

The offer stands from the round's start exactly: registered and placed as a proxy maximum at the
start price when the round is made or the offer is (auction.disposal.opening_bid), so the round
cannot fail below the offer and the market can beat it; one that could not stand then (its agency
short of the deposit) is tried again on the tick, and ends with its reason if it still cannot. Once the round's outcome is known: if the agency won, the offer's hold pays
the price (released, and the house's payment takes the balance at once) and the collateral goes
into its pool; if not, the offer ends and its hold is released. Both run on the scheduler's tick,
each offer in its own transaction, the case locked first as everywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select

from auction import payment
from auction.creation import lock_auction
from auction.disposal import opening_bid
from auction.disposal.buyout import into_pool
from auction.disposal.cases import CaseState, lock_case
from auction.disposal.models import DisposalCase, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.models import Auction
from auction.operation import offers
from auction.operation.models import BuyoutOffer
from auction.policy import RUNNING_STATES, AuctionState
from transfer import ledger
from transfer.kernel.unit_of_work import UnitOfWork

BATCH_SIZE = 50
# The states of an auction whose outcome is known (a lot set aside may still close either way).
_DECIDED = (
    AuctionState.AWAITING_PAYMENT,
    AuctionState.SOLD,
    AuctionState.UNSOLD,
    AuctionState.DEFAULTED,
    AuctionState.CANCELLED,
)


def _state_is(states: tuple[AuctionState, ...]) -> ColumnElement[bool]:
    # Equalities, not IN: the scheduler's probe is compiled once for the driver (no expanding list).
    return or_(*(Auction.state == state.value for state in states))


def to_stand(now: datetime | ColumnElement[datetime]) -> Select[int]:
    """Stalking-horse offers whose case's round has started and in which they do not stand yet."""
    return (
        select(BuyoutOffer.id)
        .join(DisposalCase, DisposalCase.id == BuyoutOffer.case_id)
        .join(DisposalStep, DisposalStep.id == DisposalCase.current_step_id)
        .join(Auction, Auction.id == DisposalStep.auction_id)
        .where(
            and_(
                BuyoutOffer.state == offers.LIVE,
                BuyoutOffer.as_opening_bid.is_(True),
                BuyoutOffer.opening_bid_auction_id.is_(None),
                DisposalCase.state == CaseState.IN_ROUND.value,
                DisposalStep.result == "running",
                Auction.starts_at <= now,
                _state_is(RUNNING_STATES),
            )
        )
    )


def to_resolve() -> Select[int]:
    """Stalking-horse offers standing in a round whose outcome is known."""
    return (
        select(BuyoutOffer.id)
        .join(Auction, Auction.id == BuyoutOffer.opening_bid_auction_id)
        .where(BuyoutOffer.state == offers.LIVE, _state_is(_DECIDED))
    )


async def due_ids(unit: UnitOfWork, query: Select[int], limit: int = BATCH_SIZE) -> list[int]:
    return list((await unit.session.execute(query.order_by(BuyoutOffer.id).limit(limit))).scalars())


async def _locked(unit: UnitOfWork, offer_id: int) -> tuple[DisposalCase, BuyoutOffer]:
    found = await unit.session.get(BuyoutOffer, offer_id)
    assert found is not None
    case = await lock_case(unit, found.case_id)
    return case, await offers.lock_offer(unit, offer_id)


async def stand(unit: UnitOfWork, offer_id: int, policy: DisposalPolicy) -> bool:
    """An offer that could not stand when its round was made (auction.disposal.opening_bid) stands
    now, in the round under way; False if another tick did it first."""
    case, offer = await _locked(unit, offer_id)
    return await opening_bid.stand(unit, case, offer, policy)


async def refuse_to_stand(unit: UnitOfWork, offer_id: int, why: str) -> None:
    """The agency could not be registered (its deposit, a bar): the offer ends, its hold released."""
    _, offer = await _locked(unit, offer_id)
    if offer.state == offers.LIVE:
        await offers.end_offer(unit, offer, offers.VOIDED, f"could not stand as the opening bid: {why}")


async def resolve(unit: UnitOfWork, offer_id: int, policy: DisposalPolicy) -> bool:
    """The round's outcome is known: the winning agency pays from the offer's hold, else the hold
    is released. False if another tick did it first."""
    case, offer = await _locked(unit, offer_id)
    if offer.state != offers.LIVE or offer.opening_bid_auction_id is None:
        return False
    auction = await lock_auction(unit, offer.opening_bid_auction_id)
    if auction.state not in [state.value for state in _DECIDED]:
        return False
    won = auction.winner_id == offer.agency_id and auction.state in (
        AuctionState.AWAITING_PAYMENT,
        AuctionState.SOLD,
    )
    if not won:
        why = f"auction {auction.id} ended {auction.state} without this agency as its buyer"
        await offers.end_offer(unit, offer, offers.VOIDED, why)
        return True
    assert auction.final_price_fen is not None and auction.final_price_fen <= offer.price_fen
    # The hold goes back to available funds and the payment takes the balance from there, in this
    # one transaction: the money never sits free in between.
    await ledger.void_hold(
        unit,
        f"{offer.hold_id}:pays",
        pending_id=offer.hold_id,
        code="buyout_opening_bid_pays",
        reference=f"auction:{auction.id}",
    )
    offer.state = offers.ACCEPTED
    offer.ended_at = unit.now
    offer.end_reason = f"won auction {auction.id} at {auction.final_price_fen} fen"
    if auction.state == AuctionState.AWAITING_PAYMENT:
        # (SOLD: the agency paid through the auction itself before this tick.)
        await payment.pay(unit, auction.id, offer.agency_id, policy.auction)
    asset_ids = await into_pool(unit, case, offer, auction.final_price_fen)
    voided = await offers.void_case_offers(
        unit, case.id, f"disposal case {case.id} sold at auction {auction.id}"
    )
    unit.record(
        "buyout.opening_bid_won",
        f"disposal:{case.id}",
        {
            "offer_id": offer.id,
            "auction_id": auction.id,
            "price_fen": auction.final_price_fen,
            "asset_ids": asset_ids,
            "offers_voided": voided,
        },
    )
    return True
