"""A pool's revenue split (issue 14, "Revenue"): over assets, then each asset's earn-out.

Revenue received under a licence belongs to that licence's asset; revenue without one is spread
over the pool's assets by acquisition price, largest remainder, to the fen. An asset bought with an
earn-out sends `share_bps` of its revenue, rounded down to the fen, back to its source case while
the earn-out runs (before its `until`), never past its cap; the rest of the asset's revenue is the
agency's. Every part adds up to the whole exactly.

Where an earn-out goes inside the case (the remaining claim by share, then the pledgor's surplus)
is `claim_then_surplus`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transfer.rules.largest_remainder import allocate

BPS_WHOLE = 10_000


@dataclass(frozen=True, slots=True)
class AssetTerms:
    asset_id: int
    acquisition_price_fen: int
    # None: bought without an earn-out (or it has ended by time).
    earn_out_share_bps: int | None = None
    earn_out_cap_fen: int = 0
    earn_out_paid_fen: int = 0

    def __post_init__(self) -> None:
        if self.acquisition_price_fen < 0:
            raise ValueError("an acquisition price must not be negative")
        if self.earn_out_share_bps is not None and not 0 <= self.earn_out_share_bps <= BPS_WHOLE:
            raise ValueError(f"earn_out_share_bps must lie between 0 and {BPS_WHOLE}")
        if self.earn_out_share_bps is not None and not 0 <= self.earn_out_paid_fen <= self.earn_out_cap_fen:
            raise ValueError("an earn-out's paid part lies between zero and its cap")


@dataclass(frozen=True, slots=True)
class AssetShare:
    asset_id: int
    revenue_fen: int
    earn_out_fen: int
    agency_fen: int


def spread(amount_fen: int, assets: Sequence[AssetTerms]) -> list[int]:
    """The revenue over the assets by acquisition price (equal parts if every price is zero);
    a tie of remainders goes to the asset listed first."""
    if amount_fen < 0:
        raise ValueError(f"amount_fen must not be negative, got {amount_fen}")
    if not assets:
        raise ValueError("revenue is spread over at least one asset")
    weights = [asset.acquisition_price_fen for asset in assets]
    if sum(weights) == 0:
        weights = [1] * len(assets)
    return allocate(amount_fen, weights)


def earn_out_fen(revenue_fen: int, asset: AssetTerms) -> int:
    """What the asset's revenue sends back to its source case: the share rounded down, up to the
    cap's rest."""
    if asset.earn_out_share_bps is None:
        return 0
    due_fen = revenue_fen * asset.earn_out_share_bps // BPS_WHOLE
    return min(due_fen, asset.earn_out_cap_fen - asset.earn_out_paid_fen)


def split_revenue(amount_fen: int, assets: Sequence[AssetTerms]) -> list[AssetShare]:
    """Each asset's revenue, its earn-out and the agency's rest; one asset for licence revenue."""
    shares = []
    for asset, revenue_fen in zip(assets, spread(amount_fen, assets), strict=True):
        earned_fen = earn_out_fen(revenue_fen, asset)
        assert 0 <= earned_fen <= revenue_fen
        shares.append(AssetShare(asset.asset_id, revenue_fen, earned_fen, revenue_fen - earned_fen))
    assert sum(share.revenue_fen for share in shares) == amount_fen
    return shares


@dataclass(frozen=True, slots=True)
class CaseSplit:
    """An earn-out inside its case: the claim's holders' parts (by holder order), the pledgor's."""

    holder_fen: list[int]
    surplus_fen: int

    @property
    def claim_fen(self) -> int:
        return sum(self.holder_fen)


def claim_then_surplus(earn_out_fen: int, remaining_claim_fen: int, shares_ppm: Sequence[int]) -> CaseSplit:
    """An earn-out pays the case's remaining claim first, shared among its holders by share_ppm
    (largest remainder), then the pledgor's surplus (民法典第438条)."""
    if earn_out_fen < 0 or remaining_claim_fen < 0:
        raise ValueError("amounts must not be negative")
    claim_fen = min(earn_out_fen, remaining_claim_fen)
    if not shares_ppm:
        if claim_fen:
            raise ValueError("a claim is paid to at least one holder")
        return CaseSplit([], earn_out_fen)
    holders_fen = allocate(claim_fen, list(shares_ppm))
    return CaseSplit(holders_fen, earn_out_fen - claim_fen)
