"""The compensation rules by hand-worked figures, and their properties over any proceeds, claim and
recovery order: a fund never pays more than its cap or its share of the real principal loss."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.disposal.rules.waterfall import CLAIM_PARTS, Claim, Holder, Part, waterfall
from transfer.rules.compensation import (
    Refund,
    by_share,
    covered_base_fen,
    final_share_fen,
    fund_share_fen,
    payable,
    refund_from,
)


def test_a_province_fund_advances_forty_percent_of_the_ip_part_within_its_cap() -> None:
    # 2,000,000.00 outstanding, 75 % IP: 1,500,000.00 covered; 40 % is 600,000.00.
    base_fen = covered_base_fen(200_000_000, 750_000)
    assert base_fen == 150_000_000
    assert fund_share_fen(base_fen, 4_000, 100_000_000) == 60_000_000
    # The per-loan cap of 500,000.00 binds.
    assert fund_share_fen(base_fen, 4_000, 50_000_000) == 50_000_000


def test_shares_round_down_to_the_fen() -> None:
    assert covered_base_fen(1_001, 333_333) == 333  # 333.666333 fen
    assert fund_share_fen(333, 3_333, 10**12) == 110  # 110.9889 fen
    assert final_share_fen(0, 1_000_000, 10_000, 10**12) == 0


def test_a_fund_pays_what_its_balance_allows_and_records_the_rest() -> None:
    partial = payable(8_000_000, 5_000_000)
    assert (partial.paid_fen, partial.shortfall_fen) == (5_000_000, 3_000_000)
    assert (payable(100, 0).paid_fen, payable(100, 0).shortfall_fen) == (0, 100)
    assert (payable(100, -5).paid_fen, payable(100, 500).shortfall_fen) == (0, 0)


def test_a_holder_refunds_what_it_has_and_owes_the_rest() -> None:
    refund = refund_from(26_000_00, 10_000_00)
    assert (refund.paid_fen, refund.owed_fen) == (10_000_00, 16_000_00)
    assert refund_from(100, 100) == refund_from(100, 1_000)
    assert (refund_from(100, 1_000).paid_fen, refund_from(100, 1_000).owed_fen) == (100, 0)


def test_the_holders_share_by_ppm_largest_remainder() -> None:
    assert by_share(80_000_000, [800_000, 100_000, 100_000]) == [64_000_000, 8_000_000, 8_000_000]
    assert by_share(1, [500_000, 500_000]) == [1, 0]
    assert sum(by_share(99_999, [333_333, 333_333, 333_334])) == 99_999


@pytest.mark.parametrize(("bps", "cap"), [(-1, 10), (10_001, 10), (10, -1)])
def test_out_of_range_inputs_are_bugs(bps: int, cap: int) -> None:
    with pytest.raises(AssertionError):
        fund_share_fen(100, bps, cap)


amounts_fen = st.one_of(st.integers(0, 10_000), st.integers(0, 10**14))
orders = st.permutations(CLAIM_PARTS).map(tuple)


@given(
    principal_fen=amounts_fen,
    interest_fen=amounts_fen,
    costs_fen=amounts_fen,
    proceeds_fen=amounts_fen,
    order=orders,
    ip_share_ppm=st.integers(0, 1_000_000),
    fund_share_bps=st.integers(1, 10_000),
    cap_fen=st.integers(1, 10**14),
)
def test_a_fund_never_bears_more_than_its_cap_or_its_share_of_the_real_principal_loss(
    principal_fen: int,
    interest_fen: int,
    costs_fen: int,
    proceeds_fen: int,
    order: tuple[Part, ...],
    ip_share_ppm: int,
    fund_share_bps: int,
    cap_fen: int,
) -> None:
    claim = Claim(costs_fen=costs_fen, interest_fen=interest_fen, principal_fen=principal_fen)
    split = waterfall(proceeds_fen, claim, (Holder(1, "Bank", 1_000_000),), order, 1, "Bank")
    recovered_fen = split.paid_by_part.get(Part.PRINCIPAL, 0)
    loss_fen = principal_fen - recovered_fen
    final_fen = final_share_fen(loss_fen, ip_share_ppm, fund_share_bps, cap_fen)
    exact = Fraction(loss_fen * ip_share_ppm, 1_000_000) * Fraction(fund_share_bps, 10_000)
    assert 0 <= final_fen <= cap_fen
    assert final_fen <= exact
    # Rounded down twice (the covered base, then the share), never by more than two fen short.
    assert final_fen >= min(Fraction(cap_fen), exact - 2)
    # The advance was on the whole outstanding principal: clearing only ever takes back from it
    # when the fund could pay it in full.
    advance_fen = fund_share_fen(covered_base_fen(principal_fen, ip_share_ppm), fund_share_bps, cap_fen)
    assert final_fen <= advance_fen


@given(total_fen=amounts_fen, balance_fen=st.integers(-(10**6), 10**14))
def test_a_fund_never_pays_past_its_balance(total_fen: int, balance_fen: int) -> None:
    paid = payable(total_fen, balance_fen)
    assert paid.paid_fen + paid.shortfall_fen == total_fen
    assert 0 <= paid.paid_fen <= max(0, balance_fen)


def test_the_bounds_of_a_share_and_a_cap_stand_and_negative_amounts_are_refused() -> None:
    assert fund_share_fen(1_000, 0, 500) == 0
    assert fund_share_fen(1_000, 10_000, 0) == 0
    assert fund_share_fen(1_000, 10_000, 10_000) == 1_000
    assert covered_base_fen(0, 0) == 0
    with pytest.raises(AssertionError):
        covered_base_fen(-1, 500_000)
    with pytest.raises(AssertionError):
        covered_base_fen(100, 1_000_001)


def test_a_refund_of_nothing_pays_nothing_and_a_holder_without_funds_pays_nothing() -> None:
    assert refund_from(0, 100) == Refund(0, 0)
    assert refund_from(500, 0) == Refund(0, 500)
    assert refund_from(500, -20) == Refund(0, 500)
    assert refund_from(500, 499) == Refund(499, 1)
