"""The configurable numbers of disposal (settings with their sources in the README)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auction.disposal.rules.claim_bounds import ClaimBounds
from auction.disposal.rules.rounds import RoundLimits
from auction.disposal.rules.waterfall import Part
from auction.operation.policy import OperationPolicy
from auction.policy import AuctionPolicy


@dataclass(frozen=True, slots=True)
class DisposalPolicy:
    auction: AuctionPolicy
    limits: RoundLimits = field(default_factory=RoundLimits)
    # 以物抵债: how long the creditor may take the collateral at round 2's start price.
    takeover_window_s: int = 864_000
    # 变卖: how long the fixed-price sale runs.
    fixed_price_s: int = 5_184_000
    # How long an unsold case waits for a buyer before its pledges are released.
    buyout_window_s: int = 2_592_000
    auto_advance: bool = False
    recovery_order: tuple[Part, ...] = (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)
    # Buyout offers' limits: commitments make offers inside the case's own transactions.
    operation: OperationPolicy = field(default_factory=OperationPolicy)
    # How large the claim declared at default may be, and the costs added later.
    claim_bounds: ClaimBounds = field(default_factory=ClaimBounds)
    # Days an enrolment in a compensation fund must run before a default is advanced on.
    compensation_seasoning_days: int = 90
