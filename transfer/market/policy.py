from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from transfer.rules.working_calendar import WorkingCalendar


@dataclass(frozen=True, slots=True)
class MarketPolicy:
    """The settings the center's books need (IPX_FEE_WAIVER_*, IPX_SETTLEMENT_DAYS) and China's
    working calendar, which settlement dates count in."""

    fee_waiver_start: date
    calendar: WorkingCalendar
    fee_waiver_years: int = 3
    settlement_days: int = 3
