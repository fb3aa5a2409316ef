"""Where a lot comes from, and what the layer that put it up does at each step of its auction.

An auction knows its origin: `direct` (a bank's own lot), `listing` (a loan or income right of the
market, auction/listing_sales.py), and later a disposal round or a session lot. The house names
none of them: the layer above registers one handler per origin (AuctionPolicy.origins, wired in
app/context.py), and creating, closing, paying and defaulting call it inside the same
transaction, so exactly-once holds for what the handler does too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from transfer.kernel.errors import DomainError
from transfer.kernel.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from auction.models import Auction


class OriginKind(StrEnum):
    DIRECT = "direct"
    LISTING = "listing"
    DISPOSAL_ROUND = "disposal_round"


@dataclass(frozen=True, slots=True)
class SaleTaken:
    """What an origin did with a sale it settles itself: extra fields for the `closed` live event."""

    live: dict[str, object] = field(default_factory=dict)


class OriginHandler:
    """What an origin does; every method runs in the caller's unit of work. The defaults do nothing.

    `settles_sale`: the origin settles a sale itself (a listing's sale is a trade settled delivery
    versus payment by clearing), so at close every deposit, the winner's too, is released and the
    lot is sold at once; otherwise the winner pays the house (auction.payment).

    `takes_proceeds`: the house leaves the price and any forfeited deposit in escrow (reference
    `auction:<id>`) instead of paying the seller, and `paid` / `defaulted` distribute them (a
    disposal's proceeds are split over the claim among the loan's holders).
    """

    settles_sale = False
    takes_proceeds = False

    async def claim(
        self, unit: UnitOfWork, seller_id: int, origin_id: int, collateral_ids: Sequence[int]
    ) -> None:
        """Refuse, with a DomainError naming the field, a lot the seller may not sell from this
        origin: the origin must be the seller's, and so must the collateral the lot names."""

    async def attach(self, unit: UnitOfWork, origin_id: int, auction: Auction) -> None:
        """The auction now exists: the origin may remember it."""

    async def admit(self, unit: UnitOfWork, auction: Auction, bidder_id: int) -> None:
        """Refuse, with a DomainError, a bidder the origin bars from this lot (before its deposit)."""

    async def sold(self, unit: UnitOfWork, auction: Auction, winner_id: int, price_fen: int) -> SaleTaken:
        """The lot closed sold (for an origin that settles sales itself: settle it now)."""
        return SaleTaken()

    async def unsold(self, unit: UnitOfWork, auction: Auction) -> None:
        """The lot closed unsold (流拍)."""

    async def paid(self, unit: UnitOfWork, auction: Auction) -> None:
        """The winner paid the house."""

    async def defaulted(self, unit: UnitOfWork, auction: Auction) -> None:
        """The winner did not pay by the deadline."""


def handler_for(origins: dict[str, OriginHandler], origin_kind: str) -> OriginHandler | None:
    """The handler of a lot's origin; None for a bank's own lot. An origin without a handler is a
    wiring bug for a stored lot, a client's mistake for a new one (create_auction asks first)."""
    if origin_kind == OriginKind.DIRECT:
        return None
    handler = origins.get(origin_kind)
    if handler is None:
        raise DomainError("unknown_origin", f"no handler for auctions of origin {origin_kind!r}", field="lot")
    return handler
