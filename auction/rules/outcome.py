"""How an auction ends: sold to one winner at one price, or unsold (流拍) with the reason why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UnsoldReason(StrEnum):
    NO_BIDS = "no_bids"
    RESERVE_NOT_MET = "reserve_not_met"


@dataclass(frozen=True, slots=True)
class Sold:
    winner_id: int
    price_fen: int

    def __post_init__(self) -> None:
        assert self.price_fen > 0


@dataclass(frozen=True, slots=True)
class Unsold:
    reason: UnsoldReason


CloseOutcome = Sold | Unsold
