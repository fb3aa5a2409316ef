"""A listing reserves its share: what a holder offers is never more than it holds and has not
already offered.

A holder's open listings of a loan and its pending (matched, unsettled) trades of that loan
together may not exceed its share of the loan's income-right register when a listing is made;
its pending trades and the new one may not exceed it when an offer is accepted, so a buyer is
never matched to a trade that cannot settle. Both are checked under the loan's row lock
(transfer.registry.ownership.lock_loan), which every listing, acceptance and settlement of the
loan takes before it reads the register: two of them never both see the same free share.
"""

from __future__ import annotations

from sqlalchemy import func, select

from transfer.kernel.errors import Conflict
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import IncomeRight
from transfer.models.market import Listing, Trade


async def _listed_ppm(unit: UnitOfWork, loan_id: int, holder_id: int) -> int:
    listed = select(func.coalesce(func.sum(Listing.share_ppm), 0)).where(
        Listing.loan_id == loan_id, Listing.seller_id == holder_id, Listing.status == "open"
    )
    return int((await unit.session.execute(listed)).scalar_one())


async def _matched_ppm(unit: UnitOfWork, loan_id: int, holder_id: int) -> int:
    matched = select(func.coalesce(func.sum(Trade.share_ppm), 0)).where(
        Trade.loan_id == loan_id, Trade.seller_id == holder_id, Trade.status == "pending"
    )
    return int((await unit.session.execute(matched)).scalar_one())


async def _held_ppm(unit: UnitOfWork, loan_id: int, holder_id: int) -> int:
    held = select(func.coalesce(func.sum(IncomeRight.share_ppm), 0)).where(
        IncomeRight.loan_id == loan_id, IncomeRight.holder_id == holder_id
    )
    return int((await unit.session.execute(held)).scalar_one())


async def refuse_listing_beyond_free_share(
    unit: UnitOfWork, loan_id: int, holder_id: int, share_ppm: int
) -> None:
    """A new listing of `share_ppm` fits beside the holder's open listings and pending trades.

    The caller holds the loan's row lock."""
    reserved_ppm = await _listed_ppm(unit, loan_id, holder_id) + await _matched_ppm(unit, loan_id, holder_id)
    await _refuse_beyond(unit, loan_id, holder_id, share_ppm, reserved_ppm, "open listings or pending trades")


async def refuse_match_beyond_free_share(
    unit: UnitOfWork, loan_id: int, holder_id: int, share_ppm: int
) -> None:
    """A new trade of `share_ppm` fits beside the holder's pending trades, so it can settle.

    Its listing reserved the share when it was made; the holder's other open listings are not
    counted here: they are refused in turn when accepted, so listings made before this rule (which
    may overlap) still sell what the holding covers, first accepted first. The caller holds the
    loan's row lock."""
    reserved_ppm = await _matched_ppm(unit, loan_id, holder_id)
    await _refuse_beyond(unit, loan_id, holder_id, share_ppm, reserved_ppm, "pending trades")


async def _refuse_beyond(
    unit: UnitOfWork, loan_id: int, holder_id: int, share_ppm: int, reserved_ppm: int, reserved_by: str
) -> None:
    assert share_ppm >= 0 and reserved_ppm >= 0, (share_ppm, reserved_ppm)
    held_ppm = await _held_ppm(unit, loan_id, holder_id)
    if reserved_ppm + share_ppm > held_ppm:
        free_ppm = max(held_ppm - reserved_ppm, 0)
        raise Conflict(
            "share_already_listed",
            f"share_ppm {share_ppm} exceeds the {free_ppm} ppm free: you hold {held_ppm} ppm of this"
            f" loan's income right and {reserved_ppm} ppm of it is in {reserved_by}",
            field="share_ppm",
            extra={"held_ppm": held_ppm, "reserved_ppm": reserved_ppm, "free_ppm": free_ppm},
        )
