from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.exact import exactly
from transfer.rules.collateral import (
    ALL_KINDS,
    IP_KINDS,
    NON_IP_KINDS,
    CollateralKind,
    ip_share_ppm,
    is_ip_kind,
    is_ip_pledge,
    is_known_kind,
)


def test_the_twelve_ip_kinds_are_ip_and_the_four_others_are_not() -> None:
    assert len(IP_KINDS) == 12
    assert all(is_ip_kind(kind) for kind in IP_KINDS)
    assert not any(is_ip_kind(kind) for kind in NON_IP_KINDS)
    assert is_ip_kind("software_copyright")
    assert not is_ip_kind("real_estate")
    assert is_ip_kind(CollateralKind.IC_LAYOUT)


def test_every_collateral_kind_is_known_and_nothing_else_is() -> None:
    assert all(is_known_kind(kind) for kind in CollateralKind)
    assert all(is_known_kind(kind) for kind in IP_KINDS | NON_IP_KINDS)
    assert len(ALL_KINDS) == 16
    assert is_known_kind("real_estate")
    # Codes are exact: no case folding or trimming, so a stored code means one kind only.
    assert not is_known_kind("spaceship")
    assert not is_known_kind("Trademark")
    assert not is_known_kind(" trademark")
    assert not is_known_kind("")


def test_unknown_kind_is_refused_rather_than_treated_as_non_ip() -> None:
    with pytest.raises(ValueError, match=exactly("unknown collateral kind 'spaceship'")):
        is_ip_kind("spaceship")
    with pytest.raises(ValueError, match=exactly("unknown collateral kind 'spaceship'")):
        is_ip_pledge(["invention_patent", "spaceship"])


def test_any_ip_collateral_makes_an_ip_pledge_loan() -> None:
    assert is_ip_pledge(["real_estate", "trademark"])
    assert is_ip_pledge(["invention_patent"])
    assert not is_ip_pledge(["real_estate", "guarantee"])
    assert not is_ip_pledge([])


def test_ip_share_rounds_half_up_to_the_ppm() -> None:
    assert ip_share_ppm([("invention_patent", 1), ("real_estate", 2)]) == 333_333
    assert ip_share_ppm([("invention_patent", 2), ("real_estate", 1)]) == 666_667
    # 1 / 2,000,000 = 0.5 ppm -> 1
    assert ip_share_ppm([("trademark", 1), ("equipment", 1_999_999)]) == 1
    # 1 / 2,000,001 < 0.5 ppm -> 0
    assert ip_share_ppm([("trademark", 1), ("equipment", 2_000_000)]) == 0


def test_ip_share_is_zero_when_nothing_is_appraised() -> None:
    assert ip_share_ppm([]) == 0
    assert ip_share_ppm([("invention_patent", 0), ("real_estate", 0)]) == 0


def test_all_ip_collateral_is_a_whole_share() -> None:
    assert ip_share_ppm([("invention_patent", 5_000_00), ("copyright", 1)]) == 1_000_000


def test_negative_appraisal_is_refused() -> None:
    with pytest.raises(ValueError, match=exactly("appraisal_fen must not be negative, got -1")):
        ip_share_ppm([("invention_patent", -1)])


@given(st.lists(st.tuples(st.sampled_from(sorted(ALL_KINDS)), st.integers(0, 10**13)), max_size=20))
def test_ip_share_is_the_exact_ratio_rounded_half_up(items: list[tuple[str, int]]) -> None:
    total_fen = sum(appraisal_fen for _, appraisal_fen in items)
    ip_fen = sum(appraisal_fen for kind, appraisal_fen in items if kind in IP_KINDS)
    share_ppm = ip_share_ppm(items)
    if total_fen == 0:
        assert share_ppm == 0
        return
    exact_ppm = Fraction(ip_fen * 1_000_000, total_fen)
    assert exact_ppm - Fraction(1, 2) < share_ppm <= exact_ppm + Fraction(1, 2)
