from __future__ import annotations

import math
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.fee_schedule import (
    DEFAULT_FEE_SCHEDULE,
    FeeItem,
    bps_of_fen_half_up,
    gross_fee_fen,
    items_in_force,
)

LISTING, TRANSACTION = DEFAULT_FEE_SCHEDULE[1], DEFAULT_FEE_SCHEDULE[2]
REGISTRATION = DEFAULT_FEE_SCHEDULE[0]
NEGATIVE_MESSAGE = "fee item x: rate_bps, flat_fen and min_fen must not be negative"


def yuan(amount_yuan: int) -> int:
    return amount_yuan * 100


@given(amount_fen=st.integers(0, 10**15), rate_bps=st.integers(0, 10_000))
def test_bp_fee_is_the_exact_amount_rounded_half_up_to_the_fen(amount_fen: int, rate_bps: int) -> None:
    exact = Fraction(amount_fen * rate_bps, 10_000)
    assert bps_of_fen_half_up(amount_fen, rate_bps) == math.floor(exact + Fraction(1, 2))


def test_half_a_fen_rounds_up_and_just_below_half_rounds_down() -> None:
    assert bps_of_fen_half_up(5_000, 1) == 1  # 0.5 fen
    assert bps_of_fen_half_up(4_999, 1) == 0  # 0.4999 fen
    assert bps_of_fen_half_up(15_000, 1) == 2  # 1.5 fen


def test_registration_is_a_flat_200_yuan_whatever_the_price() -> None:
    assert gross_fee_fen(REGISTRATION, 0) == yuan(200)
    assert gross_fee_fen(REGISTRATION, yuan(10**9)) == yuan(200)


@pytest.mark.parametrize(
    ("price_fen", "fee_fen"),
    [
        (0, yuan(1_000)),  # min clamp
        (yuan(1_000_000), yuan(1_000)),  # 1 bp = 100.00 -> min 1,000.00
        (yuan(9_999_999), yuan(1_000)),  # 999.9999 -> min
        (yuan(10_000_000), yuan(1_000)),  # exactly the min
        (yuan(12_345_678), 1_234_57),  # 1,234.5678 -> 1,234.57 (half up)
        (yuan(500_000_000), yuan(50_000)),  # exactly the max
        (yuan(500_000_001), yuan(50_000)),  # max clamp
        (yuan(10**10), yuan(50_000)),
    ],
)
def test_listing_fee_is_one_bp_clamped_to_1000_and_50000_yuan(price_fen: int, fee_fen: int) -> None:
    assert gross_fee_fen(LISTING, price_fen) == fee_fen


@pytest.mark.parametrize(
    ("price_fen", "fee_fen"),
    [
        (yuan(1_000_000), yuan(500)),  # 2 bp = 200.00 -> min 500.00
        (yuan(2_500_000), yuan(500)),  # exactly the min
        (yuan(3_000_000), yuan(600)),
        (yuan(12_345_678), 2_469_14),  # 2,469.1356 -> 2,469.14
        (yuan(500_000_000), yuan(100_000)),  # exactly the max
        (yuan(800_000_000), yuan(100_000)),  # max clamp
    ],
)
def test_transaction_fee_is_two_bp_per_side_clamped_to_500_and_100000_yuan(
    price_fen: int, fee_fen: int
) -> None:
    assert gross_fee_fen(TRANSACTION, price_fen) == fee_fen
    assert TRANSACTION.payers == ("seller", "buyer")


@given(price_fen=st.integers(0, 10**15))
def test_clamped_fee_always_lies_between_min_and_max(price_fen: int) -> None:
    for item in DEFAULT_FEE_SCHEDULE:
        fee_fen = gross_fee_fen(item, price_fen)
        assert item.min_fen <= fee_fen
        assert item.max_fen is None or fee_fen <= item.max_fen


def test_negative_price_is_refused() -> None:
    with pytest.raises(ValueError, match=exactly("price_fen must not be negative, got -1")):
        gross_fee_fen(LISTING, -1)


@pytest.mark.parametrize(("amount_fen", "rate_bps"), [(-1, 0), (0, -1), (-1, -1)])
def test_negative_amount_or_rate_is_refused(amount_fen: int, rate_bps: int) -> None:
    with pytest.raises(ValueError, match=exactly("amount_fen and rate_bps must not be negative")):
        bps_of_fen_half_up(amount_fen, rate_bps)


def test_latest_version_effective_on_the_trade_date_is_in_force() -> None:
    old = FeeItem("listing", ("seller",), date(2020, 1, 1), rate_bps=1)
    new = FeeItem("listing", ("seller",), date(2025, 7, 1), rate_bps=3)
    other = FeeItem("registration", ("seller",), date(2020, 1, 1), flat_fen=100)
    schedule = [new, other, old]
    assert items_in_force(schedule, date(2025, 6, 30)) == [old, other]
    assert items_in_force(schedule, date(2025, 7, 1)) == [new, other]
    assert items_in_force(schedule, date(2019, 12, 31)) == []


def test_two_versions_effective_on_the_same_day_are_refused() -> None:
    schedule = [
        FeeItem("listing", ("seller",), date(2020, 1, 1), rate_bps=1),
        FeeItem("listing", ("seller",), date(2020, 1, 1), rate_bps=2),
    ]
    with pytest.raises(ValueError, match="two versions"):
        items_in_force(schedule, date(2021, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"item": "", "payers": ("seller",)}, "a fee item needs a name"),
        ({"item": "x", "payers": ()}, "fee item x: payers must be a non-empty list without repeats"),
        (
            {"item": "x", "payers": ("seller", "seller")},
            "fee item x: payers must be a non-empty list without repeats",
        ),
        ({"item": "x", "payers": ("broker",)}, "fee item x: payers must be among ('seller', 'buyer')"),
        ({"item": "x", "payers": ("seller",), "rate_bps": -1}, NEGATIVE_MESSAGE),
        ({"item": "x", "payers": ("seller",), "flat_fen": -1}, NEGATIVE_MESSAGE),
        ({"item": "x", "payers": ("seller",), "min_fen": -1}, NEGATIVE_MESSAGE),
        (
            {"item": "x", "payers": ("seller",), "min_fen": 10, "max_fen": 9},
            "fee item x: max_fen 9 is below min_fen 10",
        ),
    ],
)
def test_malformed_fee_items_are_refused_with_the_rule_they_break(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        FeeItem(effective_from=date(2020, 1, 1), **kwargs)  # type: ignore[arg-type]


def test_item_whose_minimum_equals_its_maximum_charges_exactly_that_amount() -> None:
    # max_fen == min_fen is a fixed fee expressed as a clamp: allowed, and the clamp decides alone.
    item = FeeItem("stamp", ("buyer",), date(2020, 1, 1), rate_bps=5, min_fen=300_00, max_fen=300_00)
    assert gross_fee_fen(item, 0) == 300_00
    assert gross_fee_fen(item, yuan(100_000_000)) == 300_00


def test_item_without_a_minimum_can_come_to_zero() -> None:
    # 1 bp of 49.99 fen rounds half-up to 0, and without a minimum nothing lifts it.
    item = FeeItem("tiny", ("seller",), date(2020, 1, 1), rate_bps=1)
    assert item.min_fen == 0
    assert item.max_fen is None
    assert gross_fee_fen(item, 4_999) == 0
    assert gross_fee_fen(item, 5_000) == 1
    assert gross_fee_fen(item, 0) == 0


def test_flat_amount_is_added_to_the_rate_before_the_clamp() -> None:
    item = FeeItem(
        "mixed", ("seller",), date(2020, 1, 1), rate_bps=10, flat_fen=50, min_fen=100, max_fen=1_000
    )
    assert gross_fee_fen(item, 10_000) == 100  # 50 + 10 = 60, lifted to the minimum
    assert gross_fee_fen(item, 500_000) == 550  # 50 + 500, inside the clamp
    assert gross_fee_fen(item, 10_000_000) == 1_000  # 50 + 10,000, cut to the maximum
