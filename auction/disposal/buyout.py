"""Third-party buyout (第三方收储) of a case's collateral: offers on the case, and the accept.

An accept is a sale by delivery versus payment in one transaction: the offer's held price moves
into escrow and runs the case's waterfall (auction.disposal.proceeds.settle_sale), the collateral
goes to the agency (pledge released, a registration task) and into its pool, a round that has not
had a bid is withdrawn, and every other offer on the case is voided with its hold released.

The price must reach what the rules would have asked the next auction to start at (the next
round's minimum; the last round's start once rounds are spent), so a buyout never undercuts an
auction; in the buyout window any price will do. A round that has had its first bid is the
market's: the case cannot be bought out from under it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.creation import lock_auction, withdraw_auction
from auction.disposal import opening_bid
from auction.disposal.cases import (
    ENDED_STATES,
    ROLES_SEEING_ALL_CASES,
    CaseState,
    Outcome,
    lock_case,
    may_read_case,
    not_found,
    refuse_ended,
    refuse_stranger,
)
from auction.disposal.models import DisposalCase, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds import settle_sale
from auction.disposal.rules.bundles import split_by_appraisal
from auction.disposal.rules.rounds import round_minimum_fen
from auction.models import Auction, Bid
from auction.operation import offers, pools
from auction.operation.models import BuyoutOffer, OperationPool
from auction.policy import RUNNING_STATES
from transfer import ledger
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.money import format_fen
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem

SWEEP_BATCH_SIZE = 100
BOUGHT_OUT = "bought_out"
# The role that makes buyout offers (the HTTP guard of the offer route names the same role).
AGENCY_ROLE = "agency"


async def make_offer(
    unit: UnitOfWork, case_id: int, agency_id: int, spec: offers.OfferSpec, policy: DisposalPolicy
) -> BuyoutOffer:
    # The case's lock serializes an offer with an accept: no offer is left live on a sold case.
    case = await lock_case(unit, case_id)
    refuse_ended(case)
    if case.creditor_id == agency_id:
        raise Forbidden(
            "creditor_cannot_offer", "the case's creditor takes the collateral in payment instead", field="id"
        )
    offer = await offers.place_offer(unit, case.id, agency_id, spec, policy.operation)
    if offer.as_opening_bid and case.state == CaseState.IN_ROUND:
        # The case's round is made already: the stalking horse stands in it from its start.
        await opening_bid.stand_live_offers(unit, case, policy)
    return offer


async def _current_step(unit: UnitOfWork, case: DisposalCase) -> DisposalStep | None:
    if case.current_step_id is None:
        return None
    return await unit.session.get(DisposalStep, case.current_step_id)


async def _start_of_round(unit: UnitOfWork, case: DisposalCase, round_no: int) -> int | None:
    """The start price of the case's round `round_no` that happened (not cancelled), if any."""
    return (
        await unit.session.execute(
            select(DisposalStep.start_price_fen)
            .where(
                DisposalStep.case_id == case.id,
                DisposalStep.kind == "round",
                DisposalStep.round_no == round_no,
                DisposalStep.result != "cancelled",
            )
            .order_by(DisposalStep.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _refuse_bid_on(unit: UnitOfWork, step: DisposalStep) -> None:
    """A running step's auction may be withdrawn for the buyout only before its first bid."""
    if step.session_lot_id is not None:
        raise Conflict(
            "round_in_session",
            f"step {step.number} is sold as part of a centralized session lot: it cannot be withdrawn",
            field="id",
        )
    assert step.auction_id is not None
    # The auction's lock orders this accept with the round's first bid: whichever is first wins.
    auction = await lock_auction(unit, step.auction_id)
    if auction.state not in RUNNING_STATES or await _has_market_bids(unit, auction):
        raise Conflict(
            "round_open",
            f"auction {auction.id} of step {step.number} has bids: the case is the market's now",
            field="id",
        )


async def _has_market_bids(unit: UnitOfWork, auction: Auction) -> bool:
    """Whether anyone but a standing stalking horse has bid: the horse's own maximum, placed at the
    round's start (auction.disposal.opening_bid), does not make the round the market's."""
    if auction.bid_count == 0:
        return False
    standing = select(BuyoutOffer.agency_id).where(
        BuyoutOffer.opening_bid_auction_id == auction.id, BuyoutOffer.state == offers.LIVE
    )
    found = await unit.session.execute(
        select(Bid.id).where(Bid.auction_id == auction.id, Bid.bidder_id.not_in(standing)).limit(1)
    )
    return found.first() is not None


async def minimum_fen(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> int:
    """The least price a buyout of the case may be accepted at now; refuses a round with a bid."""
    limits = policy.limits
    if case.state == CaseState.BUYOUT_WINDOW:
        return 0
    if case.state == CaseState.AWAITING_ROUND:
        previous_start_fen = (
            None if case.round_count == 0 else await _start_of_round(unit, case, case.round_count)
        )
        return round_minimum_fen(case.round_count + 1, case.appraisal_fen, previous_start_fen, limits)
    step = await _current_step(unit, case)
    assert step is not None, f"case {case.id} is {case.state} with no step"
    if step.result != "running":
        # A round sold and awaiting its winner's payment: the market has bought it.
        raise Conflict(
            "round_open",
            f"step {step.number} of the case is {step.result}: the case is the market's now",
            field="id",
        )
    if case.state == CaseState.IN_ROUND:
        await _refuse_bid_on(unit, step)
        assert step.round_no is not None
        previous_start_fen = (
            None if step.round_no == 1 else await _start_of_round(unit, case, step.round_no - 1)
        )
        return round_minimum_fen(step.round_no, case.appraisal_fen, previous_start_fen, limits)
    if case.state == CaseState.FIXED_PRICE_SALE:
        await _refuse_bid_on(unit, step)
    # Take-in-payment and the fixed-price sale both stand at the last round's start price.
    assert step.start_price_fen is not None
    return step.start_price_fen


async def _stop_current_step(unit: UnitOfWork, case: DisposalCase, offer_id: int) -> int | None:
    """The running step ends with the buyout; its auction (no bid yet) is withdrawn. Returns the
    withdrawn auction's id."""
    step = await _current_step(unit, case)
    if step is None or step.result != "running":
        return None
    withdrawn = None
    if step.auction_id is not None:
        auction = await withdraw_auction(unit, step.auction_id, f"disposal case {case.id} bought out")
        withdrawn = None if auction is None else auction.id
    step.result = BOUGHT_OUT
    step.ended_at = unit.now
    step.note = f"bought out by buyout offer {offer_id}"
    return withdrawn


async def into_pool(unit: UnitOfWork, case: DisposalCase, offer: BuyoutOffer, price_fen: int) -> list[int]:
    """The case's delivered collateral joins the offer's pool, each item at its part of the price
    and of the earn-out's cap, split by appraisal to the fen."""
    items = list(
        (
            await unit.session.execute(
                select(CollateralItem)
                .where(CollateralItem.loan_id == case.loan_id)
                .order_by(CollateralItem.id)
            )
        ).scalars()
    )
    appraisals = {item.id: item.appraisal_fen for item in items}
    prices = split_by_appraisal(price_fen, appraisals)
    earn_out = offers.earn_out_of(offer)
    caps = None if earn_out is None else split_by_appraisal(earn_out.cap_fen, appraisals)
    pool = await unit.session.get(OperationPool, offer.pool_id)
    assert pool is not None and pool.agency_id == offer.agency_id
    assets = await pools.add_assets(
        unit,
        pool,
        case.id,
        [pools.Acquired(item.id, prices[item.id], None if caps is None else caps[item.id]) for item in items],
        earn_out,
    )
    return [asset.id for asset in assets]


async def accept_offer(
    unit: UnitOfWork, offer_id: int, actor_id: int, policy: DisposalPolicy
) -> DisposalCase:
    """The case's creditor accepts: DvP in this one transaction (see the module's docstring)."""
    found = await unit.session.get(BuyoutOffer, offer_id)
    if found is None:
        raise offers.offer_missing(offer_id)
    # Lock order everywhere: the case, then its offers, then a commitment, then the ledger.
    case = await lock_case(unit, found.case_id)
    refuse_stranger(case, actor_id)
    offer = await offers.lock_offer(unit, offer_id)
    offers.refuse_not_live(offer)
    if offer.valid_until <= unit.now:
        raise Conflict(
            "offer_expired", f"buyout offer {offer.id} expired at {offer.valid_until.isoformat()}", field="id"
        )
    refuse_ended(case)
    least_fen = await minimum_fen(unit, case, policy)
    if offer.price_fen < least_fen:
        raise Conflict(
            "below_minimum",
            f"the offer of {format_fen(offer.price_fen)} is below {format_fen(least_fen)}, the least"
            " start price the rules would ask of the case's next auction",
            field="id",
            extra={"minimum": format_fen(least_fen), "price": format_fen(offer.price_fen)},
        )
    await settle_offer(unit, case, offer, least_fen, policy)
    return case


async def settle_offer(
    unit: UnitOfWork, case: DisposalCase, offer: BuyoutOffer, least_fen: int, policy: DisposalPolicy
) -> None:
    """The sale itself, the case and the offer locked and checked: DvP, the pool, the others voided."""
    withdrawn = await _stop_current_step(unit, case, offer.id)
    escrow_id = await ledger.account_id(unit.session, ledger.center_account_key(ledger.ESCROW))
    await offers.take_price(unit, offer, escrow_id)
    await settle_sale(unit, case, offer.agency_id, offer.price_fen, policy, outcome=Outcome.BOUGHT_OUT)
    asset_ids = await into_pool(unit, case, offer, offer.price_fen)
    voided = await offers.void_case_offers(
        unit, case.id, f"disposal case {case.id} was bought out by offer {offer.id}"
    )
    unit.record(
        "buyout.accepted",
        f"disposal:{case.id}",
        {
            "offer_id": offer.id,
            "agency_id": offer.agency_id,
            "pool_id": offer.pool_id,
            "price_fen": offer.price_fen,
            "minimum_fen": least_fen,
            "asset_ids": asset_ids,
            "auction_withdrawn": withdrawn,
            "offers_voided": voided,
        },
    )


def sees_every_offer(case: DisposalCase, viewer_id: int, viewer_roles: Iterable[str]) -> bool:
    """The creditor, clearing and admins see every offer on a case; an agency only its own."""
    return viewer_id == case.creditor_id or bool(ROLES_SEEING_ALL_CASES.intersection(viewer_roles))


async def list_offers(
    session: AsyncSession,
    case_id: int,
    viewer_id: int,
    viewer_roles: Iterable[str],
    *,
    limit: int,
    offset: int,
) -> tuple[list[BuyoutOffer], int]:
    case = await session.get(DisposalCase, case_id)
    if case is None:
        raise not_found(case_id)
    if sees_every_offer(case, viewer_id, viewer_roles):
        return await offers.list_case_offers(session, case_id, None, limit=limit, offset=offset)
    # An agency may offer on any case it found in the catalogue, so it may list its own offers;
    # anyone else who may not read the case hears what a missing id gets.
    if AGENCY_ROLE not in viewer_roles and not await may_read_case(session, case, viewer_id, viewer_roles):
        raise not_found(case_id)
    return await offers.list_case_offers(session, case_id, viewer_id, limit=limit, offset=offset)


def live_offer_on_ended_case() -> ColumnElement[bool]:
    """Offers still live on a case that ended otherwise (sold at auction, released, cured)."""
    return and_(
        BuyoutOffer.state == offers.LIVE,
        or_(*(DisposalCase.state == state.value for state in ENDED_STATES)),
    )


async def void_offers_of_ended_cases(unit: UnitOfWork, limit: int = SWEEP_BATCH_SIZE) -> int:
    """A case sold at auction, released or cured voids its live offers on the next tick: their
    holds are released. Each case under its lock, the case first as everywhere."""
    case_ids = list(
        (
            await unit.session.execute(
                select(BuyoutOffer.case_id)
                .join(DisposalCase, DisposalCase.id == BuyoutOffer.case_id)
                .where(live_offer_on_ended_case())
                .group_by(BuyoutOffer.case_id)
                .order_by(BuyoutOffer.case_id)
                .limit(limit)
            )
        ).scalars()
    )
    for case_id in case_ids:
        case = await lock_case(unit, case_id)
        await offers.void_case_offers(unit, case.id, f"disposal case {case.id} ended {case.outcome}")
    return len(case_ids)
