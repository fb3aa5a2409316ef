from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class MarketPolicy:
    """The settings the center's books need (IPX_FEE_WAIVER_*, IPX_SETTLEMENT_DAYS)."""

    fee_waiver_start: date
    fee_waiver_years: int = 3
    settlement_days: int = 3
