"""A stalking-horse offer standing in its case's round from the round's start exactly.

The offer stands as soon as both it and the round exist: when the round is created with the offer
live (auction.disposal.steps), or when the offer is made for a round already created
(auction.disposal.buyout). The agency is registered then (its deposit held as any bidder's), and
its offer placed as its proxy maximum at the start price with the round's start as the bid's
time (or now, for a round already running): so a bid in the first instant of the round is judged
against it, and the earlier maximum wins a tie. An offer that cannot stand then (its agency short
of the deposit, barred from the case) is left to the scheduler's tick, which tries again and ends
it with the reason (auction.disposal.stalking_horse).
"""

from __future__ import annotations

from sqlalchemy import select

from auction.bidding.place import place_bid
from auction.creation import lock_auction
from auction.disposal.cases import refuse_barred
from auction.disposal.models import DisposalCase, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.models import Auction, Registration
from auction.operation import offers
from auction.operation.models import BuyoutOffer
from auction.policy import RUNNING_STATES
from auction.registration import register
from transfer import ledger
from transfer.kernel.audit import append_events
from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork


async def stand(unit: UnitOfWork, case: DisposalCase, offer: BuyoutOffer, policy: DisposalPolicy) -> bool:
    """Stand the offer (locked, with its case) in the case's current round: registered, and its
    maximum placed at the round's start (or now, once running). False if there is no running
    round or the offer stands already."""
    if offer.state != offers.LIVE or offer.opening_bid_auction_id is not None or case.current_step_id is None:
        return False
    step = await unit.session.get(DisposalStep, case.current_step_id)
    if step is None or step.auction_id is None or step.result != "running":
        return False
    auction = await lock_auction(unit, step.auction_id)
    if auction.state not in RUNNING_STATES or unit.now >= auction.ends_at:
        return False
    offer.opening_bid_auction_id = auction.id
    # An offer below the round's start cannot bid: it waits out the round like any offer.
    stands = offer.price_fen >= auction.start_price_fen
    if stands:
        await register(unit, auction.id, offer.agency_id, policy.auction)
        # The English bid writes its own event with the bid in one statement, and takes every
        # event recorded so far: the registration's are written first.
        await append_events(unit.session, unit.take_events())
        await _bid_at_start(unit, auction, offer, policy)
    unit.record(
        "buyout.opening_bid",
        f"disposal:{case.id}",
        {
            "offer_id": offer.id,
            "auction_id": auction.id,
            "max_fen": offer.price_fen,
            "stands": stands,
            "from": max(unit.now, auction.starts_at).isoformat(),
        },
    )
    return True


async def _bid_at_start(
    unit: UnitOfWork, auction: Auction, offer: BuyoutOffer, policy: DisposalPolicy
) -> None:
    """The maximum placed with the round's start as its receipt time: the bid judge reads the
    unit's clock, set to that instant for this one bid."""
    now = unit.now
    unit.now = max(now, auction.starts_at)
    try:
        await place_bid(
            unit, auction.id, offer.agency_id, auction.start_price_fen, offer.price_fen, policy=policy.auction
        )
    finally:
        unit.now = now


async def can_stand_now(unit: UnitOfWork, case: DisposalCase, offer: BuyoutOffer, deposit_fen: int) -> bool:
    """Whether the agency's registration would go through (its deposit in its available funds,
    not barred, not registered yet), checked first so that a refusal never undoes the round's
    creation or the offer around it: the tick meets the refusal instead."""
    funds = await ledger.current_balances(unit, offer.agency_id)
    if funds.available_fen < deposit_fen:
        return False
    try:
        await refuse_barred(unit, [case.id], offer.agency_id)
    except DomainError:
        return False
    return True


async def stand_live_offers(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> int:
    """Every live stalking-horse offer of the case (locked) that can stand in its new round does,
    in offer order. Returns how many stood."""
    if case.current_step_id is None:
        return 0
    step = await unit.session.get(DisposalStep, case.current_step_id)
    if step is None or step.auction_id is None:
        return 0
    auction = await unit.session.get(Auction, step.auction_id)
    assert auction is not None
    waiting = (
        await unit.session.execute(
            select(BuyoutOffer.id)
            .where(
                BuyoutOffer.case_id == case.id,
                BuyoutOffer.state == offers.LIVE,
                BuyoutOffer.as_opening_bid.is_(True),
                BuyoutOffer.opening_bid_auction_id.is_(None),
            )
            .order_by(BuyoutOffer.id)
        )
    ).scalars()
    stood = 0
    for offer_id in list(waiting):
        offer = await offers.lock_offer(unit, offer_id)
        registered = (
            await unit.session.execute(
                select(Registration.id).where(
                    Registration.auction_id == auction.id, Registration.bidder_id == offer.agency_id
                )
            )
        ).first()
        if registered is not None or not await can_stand_now(unit, case, offer, auction.deposit_fen):
            continue
        stood += await stand(unit, case, offer, policy)
    return stood
