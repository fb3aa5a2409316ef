"""Read side of the market: listings, offers and trades, with who may see what."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import DomainError, NotFound
from transfer.models.market import Listing, Offer, Trade

LISTING_STATUSES = ("open", "matched", "closed", "withdrawn")
TRADE_STATUSES = ("pending", "settled", "failed")


async def list_listings(
    session: AsyncSession, *, status: str | None, limit: int, offset: int, seller_id: int | None = None
) -> tuple[list[Listing], int]:
    """Listings, newest first; with `seller_id`, only that seller's own (a bank's desk)."""
    query = select(Listing)
    count = select(func.count()).select_from(Listing)
    if seller_id is not None:
        query, count = (
            query.where(Listing.seller_id == seller_id),
            count.where(Listing.seller_id == seller_id),
        )
    if status is not None:
        if status not in LISTING_STATUSES:
            raise DomainError(
                "unknown_status", f"status must be one of {', '.join(LISTING_STATUSES)}", field="status"
            )
        query, count = query.where(Listing.status == status), count.where(Listing.status == status)
    total = int((await session.execute(count)).scalar_one())
    rows = await session.execute(query.order_by(Listing.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), total


async def get_listing(session: AsyncSession, listing_id: int) -> Listing:
    listing = await session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("listing_not_found", f"listing {listing_id} does not exist", field="id")
    return listing


async def offers_visible_to(session: AsyncSession, listing: Listing, participant_id: int) -> list[Offer]:
    """The seller sees every offer on its listing; a buyer sees only its own."""
    query = select(Offer).where(Offer.listing_id == listing.id)
    if participant_id != listing.seller_id:
        query = query.where(Offer.buyer_id == participant_id)
    return list((await session.execute(query.order_by(Offer.sequence))).scalars())


async def list_trades(
    session: AsyncSession,
    *,
    viewer_id: int,
    is_clearing: bool,
    listing_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Trade], int]:
    conditions = []
    if not is_clearing:
        conditions.append(or_(Trade.seller_id == viewer_id, Trade.buyer_id == viewer_id))
    if listing_id is not None:
        conditions.append(Trade.listing_id == listing_id)
    if status is not None:
        if status not in TRADE_STATUSES:
            raise DomainError(
                "unknown_status", f"status must be one of {', '.join(TRADE_STATUSES)}", field="status"
            )
        conditions.append(Trade.status == status)
    total = int(
        (await session.execute(select(func.count()).select_from(Trade).where(*conditions))).scalar_one()
    )
    rows = await session.execute(
        select(Trade).where(*conditions).order_by(Trade.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.scalars()), total


async def get_trade(session: AsyncSession, trade_id: int, *, viewer_id: int, is_clearing: bool) -> Trade:
    trade = await session.get(Trade, trade_id)
    # Someone else's trade is reported as missing, so ids reveal nothing.
    if trade is None or not (is_clearing or viewer_id in (trade.seller_id, trade.buyer_id)):
        raise NotFound("trade_not_found", f"trade {trade_id} does not exist", field="id")
    return trade
