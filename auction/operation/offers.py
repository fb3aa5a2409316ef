"""Buyout offers: the whole price held from the agency's funds until the offer is accepted,
withdrawn, voided (the case ended otherwise) or expires; each hold resolves exactly once.

The case's own checks (it runs, who accepts, at what minimum) are auction.disposal.buyout's; this
module knows the offer, its hold and its pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.operation import budget
from auction.operation.models import BuyoutOffer
from auction.operation.policy import OperationPolicy
from auction.operation.pools import EarnOutTerms, own_pool
from auction.operation.terms import check_earn_out, check_price, check_valid_until
from transfer import ledger
from transfer.kernel.errors import Conflict, Forbidden, NotFound
from transfer.kernel.unit_of_work import UnitOfWork

LIVE = "live"
ACCEPTED = "accepted"
WITHDRAWN = "withdrawn"
VOIDED = "voided"
EXPIRED = "expired"
EXPIRY_BATCH_SIZE = 100


@dataclass(frozen=True, slots=True)
class OfferSpec:
    price_fen: int
    pool_id: int
    valid_until: datetime
    earn_out: EarnOutTerms | None = None
    as_opening_bid: bool = False


def earn_out_of(offer: BuyoutOffer) -> EarnOutTerms | None:
    if offer.earn_out_share_bps is None:
        return None
    assert offer.earn_out_cap_fen is not None and offer.earn_out_until is not None
    return EarnOutTerms(offer.earn_out_share_bps, offer.earn_out_cap_fen, offer.earn_out_until)


async def place_offer(
    unit: UnitOfWork,
    case_id: int,
    agency_id: int,
    spec: OfferSpec,
    policy: OperationPolicy,
    *,
    commitment_id: int | None = None,
) -> BuyoutOffer:
    """The offer and the hold of its whole price. A commitment's offer is held out of its budget's
    hold, which the caller has already made smaller by the price."""
    check_price(spec.price_fen, "price")
    check_valid_until(spec.valid_until, unit.now, policy, "valid_until")
    earn_out = check_earn_out(spec.earn_out, unit.now, policy)
    await own_pool(unit, spec.pool_id, agency_id, "pool_id")
    offer = BuyoutOffer(
        case_id=case_id,
        agency_id=agency_id,
        pool_id=spec.pool_id,
        price_fen=spec.price_fen,
        valid_until=spec.valid_until,
        hold_id="",
        commitment_id=commitment_id,
        as_opening_bid=spec.as_opening_bid,
        earn_out_share_bps=None if earn_out is None else earn_out.revenue_share_bps,
        earn_out_cap_fen=None if earn_out is None else earn_out.cap_fen,
        earn_out_until=None if earn_out is None else earn_out.until,
        state=LIVE,
        created_at=unit.now,
    )
    unit.session.add(offer)
    await unit.session.flush()
    offer.hold_id = f"buyout_offer:{offer.id}"
    await ledger.hold(
        unit,
        offer.hold_id,
        participant_id=agency_id,
        amount_fen=spec.price_fen,
        code="buyout_offer_hold",
        reference=f"disposal:{case_id}",
    )
    # Funds are checked now, not at commit, so the agency hears "insufficient funds" for this offer.
    await ledger.apply_balance_deltas(unit)
    unit.record(
        "buyout.offered",
        f"disposal:{case_id}",
        {
            "offer_id": offer.id,
            "agency_id": agency_id,
            "pool_id": spec.pool_id,
            "price_fen": spec.price_fen,
            "valid_until": spec.valid_until.isoformat(),
            "commitment_id": commitment_id,
            "as_opening_bid": spec.as_opening_bid,
            "earn_out": None
            if earn_out is None
            else [earn_out.revenue_share_bps, earn_out.cap_fen, earn_out.until.isoformat()],
        },
    )
    return offer


async def lock_offer(unit: UnitOfWork, offer_id: int) -> BuyoutOffer:
    found = (
        await unit.session.execute(
            select(BuyoutOffer)
            .where(BuyoutOffer.id == offer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise offer_missing(offer_id)
    return found


def offer_missing(offer_id: int) -> NotFound:
    return NotFound("offer_not_found", f"buyout offer {offer_id} does not exist", field="id")


def refuse_not_live(offer: BuyoutOffer) -> None:
    if offer.state != LIVE:
        raise Conflict("offer_not_live", f"buyout offer {offer.id} is {offer.state}", field="id")


async def end_offer(unit: UnitOfWork, offer: BuyoutOffer, state: str, reason: str) -> None:
    """The offer ends unsold: its hold is voided, and a commitment's price returns to its budget."""
    assert offer.state == LIVE and state in (WITHDRAWN, VOIDED, EXPIRED)
    await ledger.void_hold(
        unit,
        f"{offer.hold_id}:void",
        pending_id=offer.hold_id,
        code=f"buyout_offer_{state}",
        reference=f"disposal:{offer.case_id}",
    )
    if offer.commitment_id is not None:
        await budget.give_back(unit, offer.commitment_id, offer.price_fen)
    offer.state = state
    offer.end_reason = reason[:300]
    offer.ended_at = unit.now
    unit.record(
        f"buyout.{state}",
        f"disposal:{offer.case_id}",
        {"offer_id": offer.id, "agency_id": offer.agency_id, "reason": offer.end_reason},
    )


async def withdraw_offer(unit: UnitOfWork, offer_id: int, agency_id: int) -> BuyoutOffer:
    offer = await lock_offer(unit, offer_id)
    if offer.agency_id != agency_id:
        raise Forbidden("not_your_offer", "only the agency that made an offer withdraws it", field="id")
    refuse_not_live(offer)
    if offer.opening_bid_auction_id is not None:
        # Its proxy maximum stands in the round: the money behind it stays until the round's outcome.
        raise Conflict(
            "offer_standing",
            f"buyout offer {offer.id} stands as the opening bid in auction {offer.opening_bid_auction_id}"
            " until that round ends",
            field="id",
        )
    await end_offer(unit, offer, WITHDRAWN, "withdrawn by the agency")
    return offer


async def take_price(unit: UnitOfWork, offer: BuyoutOffer, escrow_account_id: int) -> None:
    """The offer is accepted: its held price moves into escrow for the case's waterfall."""
    assert offer.state == LIVE
    await ledger.post_hold(
        unit,
        f"{offer.hold_id}:post",
        pending_id=offer.hold_id,
        credit_account_id=escrow_account_id,
        code="buyout_price",
        reference=f"disposal:{offer.case_id}",
    )
    if offer.commitment_id is not None:
        await budget.spend(unit, offer.commitment_id, offer.price_fen)
    offer.state = ACCEPTED
    offer.ended_at = unit.now


async def void_case_offers(unit: UnitOfWork, case_id: int, reason: str) -> list[int]:
    """Every live offer on the case ends (another sold it, or the case ended): holds released."""
    offers = (
        await unit.session.execute(
            select(BuyoutOffer)
            .where(BuyoutOffer.case_id == case_id, BuyoutOffer.state == LIVE)
            .order_by(BuyoutOffer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalars()
    voided = []
    for offer in list(offers):
        await end_offer(unit, offer, VOIDED, reason)
        voided.append(offer.id)
    return voided


def offer_due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Live offers past valid_until: expire_due's work (and the scheduler's probe). An offer standing
    as a round's opening bid is resolved by the round's outcome instead."""
    return and_(
        BuyoutOffer.state == LIVE,
        BuyoutOffer.valid_until <= now,
        BuyoutOffer.opening_bid_auction_id.is_(None),
    )


async def expire_due(unit: UnitOfWork, limit: int = EXPIRY_BATCH_SIZE) -> int:
    """Offers past valid_until expire, a batch in one transaction; SKIP LOCKED lets several
    schedulers share the work, and an accept holding an offer's lock finishes first."""
    offers = (
        await unit.session.execute(
            select(BuyoutOffer)
            .where(offer_due(unit.now))
            .order_by(BuyoutOffer.valid_until, BuyoutOffer.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    count = 0
    for offer in list(offers):
        await end_offer(unit, offer, EXPIRED, f"valid until {offer.valid_until.isoformat()}")
        count += 1
    return count


async def list_case_offers(
    session: AsyncSession,
    case_id: int,
    agency_id: int | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[BuyoutOffer], int]:
    """The case's offers, newest first; with `agency_id`, only that agency's own."""
    query = select(BuyoutOffer).where(BuyoutOffer.case_id == case_id)
    if agency_id is not None:
        query = query.where(BuyoutOffer.agency_id == agency_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(BuyoutOffer.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


async def live_offers(session: AsyncSession, case_ids: Iterable[int]) -> list[BuyoutOffer]:
    wanted = sorted(set(case_ids))
    if not wanted:
        return []
    rows = await session.execute(
        select(BuyoutOffer)
        .where(BuyoutOffer.case_id.in_(wanted), BuyoutOffer.state == LIVE)
        .order_by(BuyoutOffer.id)
    )
    return list(rows.scalars())


async def list_agency_offers(
    session: AsyncSession, agency_id: int, *, limit: int, offset: int
) -> tuple[list[BuyoutOffer], int]:
    """An agency's own offers on every case, newest first (its desk)."""
    query = select(BuyoutOffer).where(BuyoutOffer.agency_id == agency_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(BuyoutOffer.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)
