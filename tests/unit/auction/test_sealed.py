from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.rules import (
    RefusalReason,
    SealedBid,
    SealedKind,
    SealedRules,
    Sold,
    Unsold,
    UnsoldReason,
    close_sealed,
    live_bids,
    sealed_bid_refusal,
)
from tests.unit.exact import exactly

ALICE, BOB, CAROL = 1, 2, 3
T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
FIRST = SealedRules(kind=SealedKind.FIRST_PRICE, start_price_fen=100, increment_fen=10)
SECOND = SealedRules(kind=SealedKind.SECOND_PRICE, start_price_fen=100, increment_fen=10)


def sealed(sequence: int, bidder_id: int, amount_fen: int) -> SealedBid:
    return SealedBid(bidder_id, amount_fen, T0 + timedelta(seconds=sequence), sequence)


def second_price(reserve_price_fen: int | None) -> SealedRules:
    return SealedRules(SealedKind.SECOND_PRICE, 100, 10, reserve_price_fen)


def test_kind_codes_match_the_api_auction_kinds() -> None:
    assert {kind.value for kind in SealedKind} == {"sealed_first_price", "sealed_second_price"}


def test_sealed_bid_below_the_start_price_is_refused() -> None:
    refusal = sealed_bid_refusal(90, FIRST)
    assert refusal is not None
    assert refusal.reason is RefusalReason.BELOW_MINIMUM
    assert refusal.minimum_fen == 100


def test_sealed_bid_off_the_grid_is_refused_with_the_nearest_valid_amounts() -> None:
    refusal = sealed_bid_refusal(137, FIRST)
    assert refusal is not None
    assert refusal.reason is RefusalReason.OFF_GRID
    assert (refusal.nearest_below_fen, refusal.nearest_above_fen) == (130, 140)
    assert refusal.minimum_fen == 100


def test_sealed_bid_at_the_start_price_is_accepted() -> None:
    assert sealed_bid_refusal(100, FIRST) is None


def test_later_sealed_bid_replaces_the_bidders_earlier_one_even_when_lower() -> None:
    ranked = live_bids([sealed(1, ALICE, 300), sealed(2, BOB, 200), sealed(3, ALICE, 150)])
    assert [(bid.bidder_id, bid.amount_fen) for bid in ranked] == [(BOB, 200), (ALICE, 150)]


def test_the_latest_bid_by_sequence_counts_whatever_order_the_bids_are_given_in() -> None:
    # Bids read back from storage need not come in receipt order; the sequence decides.
    ranked = live_bids([sealed(3, ALICE, 150), sealed(1, ALICE, 300), sealed(2, BOB, 200)])
    assert [(bid.bidder_id, bid.amount_fen, bid.sequence) for bid in ranked] == [
        (BOB, 200, 2),
        (ALICE, 150, 3),
    ]


def test_no_sealed_bids_is_unsold_for_no_bids() -> None:
    assert close_sealed([], FIRST) == Unsold(UnsoldReason.NO_BIDS)


def test_first_price_winner_pays_their_own_bid() -> None:
    bids = [sealed(1, ALICE, 300), sealed(2, BOB, 450), sealed(3, CAROL, 200)]
    assert close_sealed(bids, FIRST) == Sold(winner_id=BOB, price_fen=450)


def test_equal_sealed_bids_go_to_the_earlier_bid() -> None:
    bids = [sealed(1, ALICE, 300), sealed(2, BOB, 300)]
    assert close_sealed(bids, FIRST) == Sold(winner_id=ALICE, price_fen=300)


def test_replacing_a_bid_dates_it_from_the_replacement_for_ties() -> None:
    bids = [sealed(1, ALICE, 200), sealed(2, BOB, 300), sealed(3, ALICE, 300)]
    assert close_sealed(bids, FIRST) == Sold(winner_id=BOB, price_fen=300)


def test_second_price_winner_pays_the_second_highest_bid() -> None:
    bids = [sealed(1, ALICE, 300), sealed(2, BOB, 450), sealed(3, CAROL, 200)]
    assert close_sealed(bids, SECOND) == Sold(winner_id=BOB, price_fen=300)


def test_second_price_tie_pays_the_tied_amount() -> None:
    bids = [sealed(1, ALICE, 300), sealed(2, BOB, 300)]
    assert close_sealed(bids, SECOND) == Sold(winner_id=ALICE, price_fen=300)


def test_second_price_lone_bidder_pays_the_start_price() -> None:
    assert close_sealed([sealed(1, ALICE, 400)], SECOND) == Sold(winner_id=ALICE, price_fen=100)


def test_second_price_lone_bidder_pays_the_reserve_when_there_is_one() -> None:
    assert close_sealed([sealed(1, ALICE, 400)], second_price(250)) == Sold(winner_id=ALICE, price_fen=250)


def test_second_price_pays_the_reserve_when_the_runner_up_is_below_it() -> None:
    bids = [sealed(1, ALICE, 400), sealed(2, BOB, 150)]
    assert close_sealed(bids, second_price(250)) == Sold(winner_id=ALICE, price_fen=250)


def test_second_price_snaps_an_off_grid_reserve_up_to_the_grid() -> None:
    bids = [sealed(1, ALICE, 400), sealed(2, BOB, 150)]
    assert close_sealed(bids, second_price(245)) == Sold(winner_id=ALICE, price_fen=250)


def test_second_price_with_the_winner_exactly_at_an_off_grid_reserve_snap_pays_their_bid() -> None:
    assert close_sealed([sealed(1, ALICE, 250)], second_price(245)) == Sold(winner_id=ALICE, price_fen=250)


@pytest.mark.parametrize("kind", list(SealedKind))
def test_winning_bid_below_the_reserve_leaves_the_lot_unsold(kind: SealedKind) -> None:
    rules = SealedRules(kind, 100, 10, reserve_price_fen=500)
    bids = [sealed(1, ALICE, 400), sealed(2, BOB, 300)]
    assert close_sealed(bids, rules) == Unsold(UnsoldReason.RESERVE_NOT_MET)


@pytest.mark.parametrize("kind", list(SealedKind))
def test_winning_bid_exactly_at_the_reserve_sells(kind: SealedKind) -> None:
    rules = SealedRules(kind, 100, 10, reserve_price_fen=400)
    assert close_sealed([sealed(1, ALICE, 400)], rules) == Sold(winner_id=ALICE, price_fen=400)


@pytest.mark.parametrize("kind", list(SealedKind))
def test_a_reserve_of_zero_is_refused_rather_than_read_as_no_reserve(kind: SealedKind) -> None:
    # "No reserve" is None; a zero would be a reserve every bid meets, which nobody means to set.
    with pytest.raises(ValueError, match=exactly("reserve_price_fen must be positive, got 0")):
        SealedRules(kind, 100, 10, reserve_price_fen=0)
    assert SealedRules(kind, 100, 10, reserve_price_fen=1).reserve_price_fen == 1


@pytest.mark.parametrize(("start_price_fen", "increment_fen"), [(0, 10), (100, 0)])
def test_sealed_rules_refuse_a_grid_without_a_positive_start_and_increment(
    start_price_fen: int, increment_fen: int
) -> None:
    with pytest.raises(ValueError):
        SealedRules(SealedKind.FIRST_PRICE, start_price_fen, increment_fen)


sealed_streams = st.lists(
    st.tuples(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=50)),
    max_size=30,
)


@given(
    stream=sealed_streams,
    reserve_price_fen=st.none() | st.integers(min_value=1, max_value=700),
)
def test_second_price_never_exceeds_first_price_and_both_pick_the_same_winner(
    stream: list[tuple[int, int]], reserve_price_fen: int | None
) -> None:
    bids = [
        sealed(sequence, bidder_id, 100 + 10 * steps) for sequence, (bidder_id, steps) in enumerate(stream)
    ]
    first = close_sealed(bids, SealedRules(SealedKind.FIRST_PRICE, 100, 10, reserve_price_fen))
    second = close_sealed(bids, SealedRules(SealedKind.SECOND_PRICE, 100, 10, reserve_price_fen))

    latest: dict[int, tuple[int, int]] = {}
    for sequence, (bidder_id, steps) in enumerate(stream):
        latest[bidder_id] = (100 + 10 * steps, sequence)
    if not latest:
        assert first == second == Unsold(UnsoldReason.NO_BIDS)
        return
    ranked = sorted(latest.items(), key=lambda item: (-item[1][0], item[1][1]))
    winner_id, (winner_fen, _) = ranked[0]
    if reserve_price_fen is not None and winner_fen < reserve_price_fen:
        assert first == second == Unsold(UnsoldReason.RESERVE_NOT_MET)
        return
    assert first == Sold(winner_id, winner_fen)
    assert isinstance(second, Sold)
    assert second.winner_id == winner_id
    runner_up_fen = ranked[1][1][0] if len(ranked) > 1 else 100
    owed_fen = max(runner_up_fen, reserve_price_fen or 0)
    assert owed_fen <= second.price_fen <= winner_fen
    # The least grid price covering what is owed: less than one increment above it.
    assert second.price_fen - owed_fen < 10
    assert (second.price_fen - 100) % 10 == 0
