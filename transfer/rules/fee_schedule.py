"""The center's fee schedule as data, and the gross fee each item charges.

A schedule is a sequence of `FeeItem` versions. For a given trade date, each item name is charged
by its version with the latest `effective_from` on or before that date; an item with no version in
force yet is not charged. Changing a rate is therefore adding a new version, and old trades keep
explaining themselves with the version that applied to them.

An item charges `flat_fen` plus `rate_bps` basis points of the price (half-up to the fen), clamped to
[min_fen, max_fen]. The rate, flat amount and clamps apply to each payer separately: a transaction
fee of 2 bp "each side" is one item with payers ("seller", "buyer") and rate_bps 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Payer = Literal["seller", "buyer"]
PAYERS: tuple[Payer, ...] = ("seller", "buyer")

BASIS_POINTS_PER_WHOLE = 10_000


@dataclass(frozen=True, slots=True)
class FeeItem:
    item: str
    payers: tuple[Payer, ...]
    effective_from: date
    rate_bps: int = 0
    flat_fen: int = 0
    min_fen: int = 0
    # None: no ceiling.
    max_fen: int | None = None

    def __post_init__(self) -> None:
        if not self.item:
            raise ValueError("a fee item needs a name")
        if not self.payers or len(set(self.payers)) != len(self.payers):
            raise ValueError(f"fee item {self.item}: payers must be a non-empty list without repeats")
        if any(payer not in PAYERS for payer in self.payers):
            raise ValueError(f"fee item {self.item}: payers must be among {PAYERS}")
        if self.rate_bps < 0 or self.flat_fen < 0 or self.min_fen < 0:
            raise ValueError(f"fee item {self.item}: rate_bps, flat_fen and min_fen must not be negative")
        if self.max_fen is not None and self.max_fen < self.min_fen:
            raise ValueError(f"fee item {self.item}: max_fen {self.max_fen} is below min_fen {self.min_fen}")


# Earlier than any trade the center records (it opened in 2014), so the illustrative default schedule
# is in force for every trade date the system will see.
DEFAULT_SCHEDULE_EFFECTIVE_FROM = date(2014, 1, 1)

# DESIGN §3: the center's real rates are not public; these illustrative, nonzero defaults follow the
# shape of its NPL practice (listing fee to the seller, transaction fee to both sides).
DEFAULT_FEE_SCHEDULE: tuple[FeeItem, ...] = (
    FeeItem(
        item="registration",
        payers=("seller",),
        effective_from=DEFAULT_SCHEDULE_EFFECTIVE_FROM,
        flat_fen=200_00,
    ),
    FeeItem(
        item="listing",
        payers=("seller",),
        effective_from=DEFAULT_SCHEDULE_EFFECTIVE_FROM,
        rate_bps=1,
        min_fen=1_000_00,
        max_fen=50_000_00,
    ),
    FeeItem(
        item="transaction",
        payers=("seller", "buyer"),
        effective_from=DEFAULT_SCHEDULE_EFFECTIVE_FROM,
        rate_bps=2,
        min_fen=500_00,
        max_fen=100_000_00,
    ),
)


def bps_of_fen_half_up(amount_fen: int, rate_bps: int) -> int:
    """`rate_bps` basis points of `amount_fen`, rounded half-up to the fen, in integers only."""
    if amount_fen < 0 or rate_bps < 0:
        raise ValueError("amount_fen and rate_bps must not be negative")
    # floor(x + 1/2) with x = amount * rate / 10000, written over the common denominator.
    return (amount_fen * rate_bps * 2 + BASIS_POINTS_PER_WHOLE) // (2 * BASIS_POINTS_PER_WHOLE)


def gross_fee_fen(item: FeeItem, price_fen: int) -> int:
    """What one payer owes for `item` on a trade at `price_fen`, before any waiver."""
    if price_fen < 0:
        raise ValueError(f"price_fen must not be negative, got {price_fen}")
    fee_fen = item.flat_fen + bps_of_fen_half_up(price_fen, item.rate_bps)
    fee_fen = max(fee_fen, item.min_fen)
    if item.max_fen is not None:
        fee_fen = min(fee_fen, item.max_fen)
    return fee_fen


def items_in_force(schedule: Sequence[FeeItem], trade_date: date) -> list[FeeItem]:
    """For each item name, the version in force on `trade_date`, in the order names first appear.

    Raises ValueError when one name has two versions with the same effective_from: the schedule would
    not say which applies.
    """
    seen_versions: set[tuple[str, date]] = set()
    for fee_item in schedule:
        version = (fee_item.item, fee_item.effective_from)
        if version in seen_versions:
            raise ValueError(
                f"fee item {fee_item.item} has two versions effective from {fee_item.effective_from}"
            )
        seen_versions.add(version)

    in_force: dict[str, FeeItem] = {}
    names_in_order: list[str] = []
    for fee_item in schedule:
        if fee_item.item not in names_in_order:
            names_in_order.append(fee_item.item)
        if fee_item.effective_from > trade_date:
            continue
        current = in_force.get(fee_item.item)
        if current is None or fee_item.effective_from > current.effective_from:
            in_force[fee_item.item] = fee_item
    return [in_force[name] for name in names_in_order if name in in_force]
