"""Money strings at the edge: what parses to fen, and the reason given for what does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transfer.kernel.money import MAX_AMOUNT_FEN, MoneyFormatError, format_fen, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0.01", 1), ("1", 100), ("1.5", 150), ("1500.00", 150_000), ("10000000000000.00", MAX_AMOUNT_FEN)],
)
def test_amounts_of_yuan_parse_to_fen(text: str, fen: int) -> None:
    assert parse_yuan(text, "amount") == fen


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1500, "must be a string"),
        ("-1.00", "must not be negative"),
        ("1.005", "more than two decimals"),
        ("1e3", "is not an amount of yuan"),
        ("01.00", "is not an amount of yuan"),
        ("100.00\n", "is not an amount of yuan"),
        ("100.00\r\n", "is not an amount of yuan"),
        ("0.00", "greater than zero"),
        ("10000000000000.01", "exceeds the maximum of 10000000000000.00"),
        # Longer than int() takes from a string (4,300 digits): still a refusal, not a crash.
        ("9" * 10_000, "exceeds the maximum of 10000000000000.00"),
        ("9" * 10_000 + ".00", "exceeds the maximum of 10000000000000.00"),
    ],
)
def test_what_is_not_an_amount_is_refused_with_the_reason(value: object, reason: str) -> None:
    with pytest.raises(MoneyFormatError) as refused:
        parse_yuan(value, "max_amount")
    assert refused.value.field == "max_amount"
    assert reason in refused.value.reason


def test_zero_is_allowed_where_asked() -> None:
    assert parse_yuan("0.00", "deposit", allow_zero=True) == 0


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_format_and_parse_round_trip(amount_fen: int) -> None:
    assert parse_yuan(format_fen(amount_fen), "amount") == amount_fen
