from __future__ import annotations

import pytest

from auction.rules import Sold


def test_a_sale_at_one_fen_is_a_sale_and_a_sale_at_zero_is_a_caller_bug() -> None:
    # Every start price is positive, so a price of 0 can only come from a broken rule.
    assert Sold(winner_id=1, price_fen=1).price_fen == 1
    with pytest.raises(AssertionError):
        Sold(winner_id=1, price_fen=0)
