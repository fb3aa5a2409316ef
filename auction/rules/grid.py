"""The increment grid (加价幅度): the only admissible prices are `start_price_fen + k * increment_fen`, k >= 0.

Every price the engine quotes, and every amount it accepts, lies on this grid, so a refusal can always
name the valid amounts next to a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PriceGrid:
    start_price_fen: int
    increment_fen: int

    def __post_init__(self) -> None:
        if self.start_price_fen <= 0:
            raise ValueError(f"start_price_fen must be positive, got {self.start_price_fen}")
        if self.increment_fen <= 0:
            raise ValueError(f"increment_fen must be positive, got {self.increment_fen}")


def is_on_grid(grid: PriceGrid, amount_fen: int) -> bool:
    """True when `amount_fen` is the start price plus a whole number (>= 0) of increments."""
    offset_fen = amount_fen - grid.start_price_fen
    return offset_fen >= 0 and offset_fen % grid.increment_fen == 0


def snap_up(grid: PriceGrid, amount_fen: int) -> int:
    """The least grid price >= `amount_fen` (the start price for anything at or below it)."""
    offset_fen = amount_fen - grid.start_price_fen
    if offset_fen <= 0:
        return grid.start_price_fen
    steps = -(-offset_fen // grid.increment_fen)
    snapped_fen = grid.start_price_fen + steps * grid.increment_fen
    assert snapped_fen >= amount_fen
    assert snapped_fen - amount_fen < grid.increment_fen
    return snapped_fen


def snap_down(grid: PriceGrid, amount_fen: int) -> int | None:
    """The greatest grid price <= `amount_fen`, or None below the start price (no grid price is lower)."""
    offset_fen = amount_fen - grid.start_price_fen
    if offset_fen < 0:
        return None
    return grid.start_price_fen + (offset_fen // grid.increment_fen) * grid.increment_fen


def nearest_valid(grid: PriceGrid, amount_fen: int) -> tuple[int | None, int]:
    """The grid prices around `amount_fen`, for the body of an off-grid refusal: (below, above).

    `below` is the greatest grid price <= `amount_fen` (None under the start price), `above` the least
    grid price >= it; both equal `amount_fen` when it is already on the grid.
    """
    return snap_down(grid, amount_fen), snap_up(grid, amount_fen)
