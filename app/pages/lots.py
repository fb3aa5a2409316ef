"""What a lot sells, as the catalogue and the auction room show it: its collateral and appraisal.

A bank's own lot names its collateral items; a listing's lot sells the listed loan, so its collateral
is the loan's. The auction house knows neither the market nor the registry by name (its import
contract), so the pages, above both, put the two together here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auction.models import Auction
from auction.origins import OriginKind
from transfer.models.loans import CollateralItem
from transfer.models.market import Listing


@dataclass(frozen=True, slots=True)
class LotCollateral:
    kind: str
    registry_number: str
    title: str
    appraisal_fen: int


@dataclass(frozen=True, slots=True)
class LotContents:
    items: list[LotCollateral]

    @property
    def appraisal_fen(self) -> int | None:
        return sum(item.appraisal_fen for item in self.items) if self.items else None

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(item.kind for item in self.items)


def _item(row: CollateralItem) -> LotCollateral:
    return LotCollateral(row.kind, row.registry_number, row.title, row.appraisal_fen)


async def lot_contents(session: AsyncSession, auctions: Sequence[Auction]) -> dict[int, LotContents]:
    """Each auction's collateral, in two reads whatever the number of auctions."""
    direct_ids = {a.id: [int(i) for i in json.loads(a.collateral_ids)] for a in auctions}
    listing_of = {
        a.id: a.origin_id
        for a in auctions
        if a.origin_kind == OriginKind.LISTING.value and a.origin_id is not None
    }
    loan_of_listing: dict[int, int] = {}
    if listing_of:
        rows = await session.execute(
            select(Listing.id, Listing.loan_id).where(Listing.id.in_(set(listing_of.values())))
        )
        loan_of_listing = {int(listing_id): int(loan_id) for listing_id, loan_id in rows.all()}
    wanted_ids = {i for ids in direct_ids.values() for i in ids}
    wanted_loans = set(loan_of_listing.values())
    by_id: dict[int, CollateralItem] = {}
    by_loan: dict[int, list[CollateralItem]] = {}
    if wanted_ids or wanted_loans:
        query = select(CollateralItem).where(
            CollateralItem.id.in_(wanted_ids) | CollateralItem.loan_id.in_(wanted_loans)
        )
        for row in (await session.execute(query.order_by(CollateralItem.position))).scalars():
            by_id[row.id] = row
            by_loan.setdefault(row.loan_id, []).append(row)
    contents: dict[int, LotContents] = {}
    for auction in auctions:
        if auction.id in listing_of:
            loan_id = loan_of_listing.get(listing_of[auction.id] or 0)
            rows_of_lot = by_loan.get(loan_id, []) if loan_id is not None else []
        else:
            rows_of_lot = [by_id[i] for i in direct_ids[auction.id] if i in by_id]
        contents[auction.id] = LotContents([_item(r) for r in rows_of_lot])
    return contents
