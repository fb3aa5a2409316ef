from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.rules import PriceGrid, is_on_grid, nearest_valid, snap_down, snap_up
from tests.unit.exact import exactly

GRID = PriceGrid(start_price_fen=100, increment_fen=10)

grids = st.builds(
    PriceGrid,
    start_price_fen=st.integers(min_value=1, max_value=10**12),
    increment_fen=st.integers(min_value=1, max_value=10**9),
)
amounts = st.integers(min_value=-(10**6), max_value=10**15)


def test_start_price_and_whole_increments_above_it_are_on_the_grid() -> None:
    assert is_on_grid(GRID, 100)
    assert is_on_grid(GRID, 110)
    assert is_on_grid(GRID, 100 + 10 * 12345)


def test_amounts_between_increments_or_below_start_are_off_the_grid() -> None:
    assert not is_on_grid(GRID, 105)
    assert not is_on_grid(GRID, 90)
    assert not is_on_grid(GRID, 0)


def test_snap_up_keeps_a_grid_price_and_raises_others_to_the_next_grid_price() -> None:
    assert snap_up(GRID, 110) == 110
    assert snap_up(GRID, 111) == 120
    assert snap_up(GRID, 119) == 120


def test_snap_up_below_the_start_price_gives_the_start_price() -> None:
    assert snap_up(GRID, 1) == 100
    assert snap_up(GRID, -50) == 100


def test_snap_down_below_the_start_price_has_no_grid_price() -> None:
    assert snap_down(GRID, 99) is None
    assert snap_down(GRID, 100) == 100
    assert snap_down(GRID, 129) == 120


def test_nearest_valid_names_the_grid_prices_on_both_sides_of_an_off_grid_amount() -> None:
    assert nearest_valid(GRID, 115) == (110, 120)


def test_nearest_valid_below_the_start_price_offers_only_the_start_price() -> None:
    assert nearest_valid(GRID, 95) == (None, 100)


def test_nearest_valid_of_a_grid_price_is_that_price_twice() -> None:
    assert nearest_valid(GRID, 130) == (130, 130)


@pytest.mark.parametrize(
    ("start_price_fen", "increment_fen", "message"),
    [
        (0, 10, "start_price_fen must be positive, got 0"),
        (-1, 10, "start_price_fen must be positive, got -1"),
        (100, 0, "increment_fen must be positive, got 0"),
        (100, -5, "increment_fen must be positive, got -5"),
    ],
)
def test_grid_refuses_a_non_positive_start_or_increment(
    start_price_fen: int, increment_fen: int, message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        PriceGrid(start_price_fen=start_price_fen, increment_fen=increment_fen)


@given(grid=grids, amount_fen=amounts)
def test_snap_up_is_the_least_grid_price_at_or_above_the_amount(grid: PriceGrid, amount_fen: int) -> None:
    snapped_fen = snap_up(grid, amount_fen)
    assert is_on_grid(grid, snapped_fen)
    assert snapped_fen >= amount_fen
    assert snapped_fen == grid.start_price_fen or snapped_fen - grid.increment_fen < amount_fen


@given(grid=grids, amount_fen=amounts)
def test_nearest_valid_brackets_the_amount_within_one_increment(grid: PriceGrid, amount_fen: int) -> None:
    below_fen, above_fen = nearest_valid(grid, amount_fen)
    assert above_fen >= amount_fen
    if below_fen is None:
        assert amount_fen < grid.start_price_fen
        assert above_fen == grid.start_price_fen
    else:
        assert is_on_grid(grid, below_fen)
        assert below_fen <= amount_fen
        assert above_fen - below_fen in (0, grid.increment_fen)
        assert (above_fen == below_fen) == is_on_grid(grid, amount_fen)


@given(grid=grids, steps=st.integers(min_value=0, max_value=10**6))
def test_every_start_plus_whole_increments_is_on_the_grid(grid: PriceGrid, steps: int) -> None:
    amount_fen = grid.start_price_fen + steps * grid.increment_fen
    assert is_on_grid(grid, amount_fen)
    assert snap_up(grid, amount_fen) == amount_fen
    assert snap_down(grid, amount_fen) == amount_fen
