"""The revenue split and earn-out caps: examples, then properties (sums exact, caps never passed)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.operation.rules.revenue import (
    AssetShare,
    AssetTerms,
    CaseSplit,
    claim_then_surplus,
    earn_out_fen,
    split_revenue,
    spread,
)
from tests.unit.exact import exactly


def test_revenue_without_a_licence_spreads_by_acquisition_price_and_the_earn_out_rounds_down() -> None:
    assets = [
        AssetTerms(1, 700_000_00, earn_out_share_bps=3_333, earn_out_cap_fen=10_000_00),
        AssetTerms(2, 300_000_00),
    ]
    shares = split_revenue(100_001, assets)
    # 70 % and 30 % of 1,000.01 yuan: 700.007 and 300.003 -> 70,001 and 30,000 fen (largest remainder).
    assert [(s.revenue_fen, s.earn_out_fen, s.agency_fen) for s in shares] == [
        (70_001, 23_331, 46_670),
        (30_000, 0, 30_000),
    ]


def test_an_earn_out_stops_at_its_cap_and_a_zero_price_pool_spreads_equally() -> None:
    nearly_paid = AssetTerms(1, 0, earn_out_share_bps=10_000, earn_out_cap_fen=500, earn_out_paid_fen=450)
    assert earn_out_fen(10_000, nearly_paid) == 50
    shares = split_revenue(7, [nearly_paid, AssetTerms(2, 0)])
    assert [(s.revenue_fen, s.earn_out_fen) for s in shares] == [(4, 4), (3, 0)]


def test_the_claim_is_paid_first_by_share_then_the_pledgor() -> None:
    split = claim_then_surplus(1_000, 700, [600_000, 300_000, 100_000])
    assert (split.holder_fen, split.surplus_fen) == ([420, 210, 70], 300)
    assert claim_then_surplus(500, 0, [1_000_000]).holder_fen == [0]
    assert claim_then_surplus(500, 0, []).surplus_fen == 500


def test_bad_terms_are_refused() -> None:
    with pytest.raises(ValueError, match="paid part"):
        AssetTerms(1, 10, earn_out_share_bps=100, earn_out_cap_fen=5, earn_out_paid_fen=6)
    with pytest.raises(ValueError, match="at least one asset"):
        split_revenue(1, [])
    with pytest.raises(ValueError, match="must not be negative"):
        split_revenue(-1, [AssetTerms(1, 1)])


@st.composite
def pools(draw: st.DrawFn) -> list[AssetTerms]:
    count = draw(st.integers(1, 30))
    assets = []
    for asset_id in range(1, count + 1):
        price_fen = draw(st.integers(0, 10**12))
        if draw(st.booleans()):
            cap_fen = draw(st.integers(0, 10**10))
            assets.append(
                AssetTerms(
                    asset_id,
                    price_fen,
                    earn_out_share_bps=draw(st.integers(0, 10_000)),
                    earn_out_cap_fen=cap_fen,
                    earn_out_paid_fen=draw(st.integers(0, cap_fen)),
                )
            )
        else:
            assets.append(AssetTerms(asset_id, price_fen))
    return assets


@given(pools(), st.integers(0, 10**13))
def test_every_fen_of_revenue_lands_once_and_no_earn_out_passes_its_cap(
    assets: list[AssetTerms], amount_fen: int
) -> None:
    shares = split_revenue(amount_fen, assets)
    assert sum(s.revenue_fen for s in shares) == amount_fen
    total_price = sum(a.acquisition_price_fen for a in assets)
    for asset, share in zip(assets, shares, strict=True):
        assert share.earn_out_fen + share.agency_fen == share.revenue_fen
        exact = (
            Fraction(amount_fen * asset.acquisition_price_fen, total_price)
            if total_price
            else Fraction(amount_fen, len(assets))
        )
        assert abs(share.revenue_fen - exact) < 1
        if asset.earn_out_share_bps is None:
            assert share.earn_out_fen == 0
        else:
            assert 0 <= share.earn_out_fen <= asset.earn_out_cap_fen - asset.earn_out_paid_fen
            assert share.earn_out_fen <= share.revenue_fen * asset.earn_out_share_bps // 10_000


@given(
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.lists(st.integers(1, 1_000_000), min_size=1, max_size=10),
)
def test_an_earn_out_inside_its_case_adds_up_and_never_overpays_the_claim(
    earned_fen: int, remaining_fen: int, shares_ppm: list[int]
) -> None:
    split = claim_then_surplus(earned_fen, remaining_fen, shares_ppm)
    assert split.claim_fen + split.surplus_fen == earned_fen
    assert split.claim_fen == min(earned_fen, remaining_fen)
    assert split.surplus_fen == 0 or split.claim_fen == remaining_fen


def test_each_refused_term_names_its_rule_and_the_bounds_themselves_stand() -> None:
    with pytest.raises(ValueError, match=exactly("an acquisition price must not be negative")):
        AssetTerms(1, -1)
    share_bounds = "earn_out_share_bps must lie between 0 and 10000"
    with pytest.raises(ValueError, match=exactly(share_bounds)):
        AssetTerms(1, 10, earn_out_share_bps=-1, earn_out_cap_fen=5)
    with pytest.raises(ValueError, match=exactly(share_bounds)):
        AssetTerms(1, 10, earn_out_share_bps=10_001, earn_out_cap_fen=5)
    paid_bounds = "an earn-out's paid part lies between zero and its cap"
    with pytest.raises(ValueError, match=exactly(paid_bounds)):
        AssetTerms(1, 10, earn_out_share_bps=100, earn_out_cap_fen=5, earn_out_paid_fen=-1)
    with pytest.raises(ValueError, match=exactly(paid_bounds)):
        AssetTerms(1, 10, earn_out_share_bps=100, earn_out_cap_fen=5, earn_out_paid_fen=6)
    # Each bound itself is allowed: a free asset, a 0 % and a 100 % share, nothing paid, all paid.
    assert AssetTerms(1, 0).acquisition_price_fen == 0
    assert AssetTerms(1, 10, earn_out_share_bps=0, earn_out_cap_fen=5).earn_out_share_bps == 0
    full = AssetTerms(1, 10, earn_out_share_bps=10_000, earn_out_cap_fen=5, earn_out_paid_fen=5)
    assert (full.earn_out_share_bps, full.earn_out_paid_fen) == (10_000, 5)


def test_without_an_earn_out_its_paid_part_and_cap_are_not_looked_at() -> None:
    # An earn-out ended by time is terms without a share: what it paid is history, not a bound.
    ended = AssetTerms(1, 10, earn_out_share_bps=None, earn_out_cap_fen=0, earn_out_paid_fen=7)
    assert earn_out_fen(1_000, ended) == 0


def test_refused_amounts_name_their_rule_and_nothing_to_spread_spreads_zeros() -> None:
    with pytest.raises(ValueError, match=exactly("amount_fen must not be negative, got -1")):
        spread(-1, [AssetTerms(1, 1)])
    with pytest.raises(ValueError, match=exactly("revenue is spread over at least one asset")):
        spread(0, [])
    assert spread(0, [AssetTerms(1, 3), AssetTerms(2, 0)]) == [0, 0]


def test_only_a_pool_of_free_assets_spreads_equally_and_the_first_listed_takes_the_tie() -> None:
    # A total price of 1 fen is still a price: everything goes to the asset that cost something.
    assert spread(10, [AssetTerms(1, 1), AssetTerms(2, 0)]) == [10, 0]
    assert spread(10, [AssetTerms(1, 0), AssetTerms(2, 0), AssetTerms(3, 0)]) == [4, 3, 3]


def test_an_earn_out_is_its_share_rounded_down_and_at_most_the_cap_left() -> None:
    def asset(share_bps: int, cap_fen: int, paid_fen: int = 0) -> AssetTerms:
        return AssetTerms(
            1, 10, earn_out_share_bps=share_bps, earn_out_cap_fen=cap_fen, earn_out_paid_fen=paid_fen
        )

    assert earn_out_fen(9_999, asset(1, 10**9)) == 0  # 0.9999 fen rounds down
    assert earn_out_fen(10_000, asset(1, 10**9)) == 1
    assert earn_out_fen(12_345, asset(10_000, 10**9)) == 12_345
    assert earn_out_fen(12_345, asset(0, 10**9)) == 0
    assert earn_out_fen(1_000, asset(2_500, 400, 150)) == 250  # due 250 is exactly the cap left
    assert earn_out_fen(1_000, asset(2_500, 400, 151)) == 249
    assert earn_out_fen(1_000, asset(2_500, 400, 400)) == 0


def test_a_split_names_each_asset_with_its_parts() -> None:
    shares = split_revenue(
        1_000, [AssetTerms(5, 1, earn_out_share_bps=1_000, earn_out_cap_fen=10**6), AssetTerms(8, 3)]
    )
    assert shares == [AssetShare(5, 250, 25, 225), AssetShare(8, 750, 0, 750)]


def test_refusals_inside_the_case_name_their_rule_and_an_unheld_claim_leaves_all_to_the_pledgor() -> None:
    negative = "amounts must not be negative"
    with pytest.raises(ValueError, match=exactly(negative)):
        claim_then_surplus(-1, 5, [1_000_000])
    with pytest.raises(ValueError, match=exactly(negative)):
        claim_then_surplus(5, -1, [1_000_000])
    with pytest.raises(ValueError, match=exactly("a claim is paid to at least one holder")):
        claim_then_surplus(500, 1, [])
    assert claim_then_surplus(500, 0, []) == CaseSplit([], 500)
    assert claim_then_surplus(0, 100, []) == CaseSplit([], 0)
    assert claim_then_surplus(0, 0, [1_000_000]) == CaseSplit([0], 0)
    paid = claim_then_surplus(700, 700, [500_000, 500_000])
    assert (paid.holder_fen, paid.surplus_fen, paid.claim_fen) == ([350, 350], 0, 700)
