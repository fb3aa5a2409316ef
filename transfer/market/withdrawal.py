"""A default takes the loan off the market: its open listings are withdrawn, their offers lapse."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.market import Listing, Offer


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """What a default took off the market: the listings, the offers lapsed, and the auctions still
    selling a listing (the caller cancels those: the market does not run auctions)."""

    listing_ids: list[int]
    offers_lapsed: int
    auction_ids: list[int]


async def withdraw_loan_listings(unit: UnitOfWork, loan_id: int) -> Withdrawn:
    """Every open listing of the loan is withdrawn and its open offers and subscriptions lapse.

    Offers hold no funds (money moves only at settlement), so nothing is released here; a trade
    already matched stays, and its settlement is refused while the loan is in default.
    """
    listings = (
        (
            await unit.session.execute(
                select(Listing)
                .where(Listing.loan_id == loan_id, Listing.status == "open")
                .order_by(Listing.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    ids = [listing.id for listing in listings]
    lapsed = 0
    if ids:
        result = await unit.session.execute(
            update(Offer).where(Offer.listing_id.in_(ids), Offer.status == "open").values(status="lapsed")
        )
        lapsed = int(getattr(result, "rowcount", 0) or 0)
    for listing in listings:
        listing.status = "withdrawn"
    return Withdrawn(
        ids, lapsed, [listing.auction_id for listing in listings if listing.auction_id is not None]
    )
