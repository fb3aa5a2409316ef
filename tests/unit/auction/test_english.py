"""Worked examples of English auction proxy bidding. Start 100, increment 10 unless a test says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auction.rules import (
    BidOutcome,
    EnglishBid,
    EnglishRules,
    EnglishState,
    RefusalReason,
    ReplayError,
    Sold,
    Unsold,
    UnsoldReason,
    apply_bid,
    close_english,
    minimum_bid_fen,
    replay,
)
from tests.unit.exact import exactly

ALICE, BOB, CAROL = 1, 2, 3
T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
RULES = EnglishRules(start_price_fen=100, increment_fen=10)


class Auction:
    """Test driver: numbers bids in arrival order and keeps the state and the accepted history."""

    def __init__(self, rules: EnglishRules = RULES) -> None:
        self.rules = rules
        self.state = EnglishState()
        self.accepted: list[EnglishBid] = []
        self.sequence = 0

    def bid(self, bidder_id: int, amount_fen: int, max_amount_fen: int | None = None) -> BidOutcome:
        self.sequence += 1
        bid = EnglishBid(
            bidder_id=bidder_id,
            amount_fen=amount_fen,
            max_amount_fen=max_amount_fen,
            received_at=T0 + timedelta(seconds=self.sequence),
            sequence=self.sequence,
        )
        outcome = apply_bid(self.state, bid, self.rules)
        self.state = outcome.state
        if outcome.accepted:
            self.accepted.append(bid)
        return outcome


def test_no_bids_yet_means_no_price_no_leader_and_a_minimum_of_the_start_price() -> None:
    auction = Auction()
    assert auction.state.price_fen is None
    assert auction.state.leader_id is None
    assert minimum_bid_fen(auction.state, RULES) == 100


def test_first_bid_at_start_with_a_maximum_leads_at_the_start_price() -> None:
    auction = Auction()
    outcome = auction.bid(ALICE, 100, 200)
    assert outcome.accepted
    assert outcome.bidder_leads
    assert auction.state.price_fen == 100
    assert auction.state.leader_max_fen == 200
    assert minimum_bid_fen(auction.state, RULES) == 110


def test_lone_bidder_opening_above_start_leads_at_their_own_amount() -> None:
    auction = Auction()
    auction.bid(ALICE, 150)
    assert auction.state.price_fen == 150


def test_lone_bidder_opening_above_start_with_a_maximum_leads_at_their_amount_not_their_maximum() -> None:
    auction = Auction()
    auction.bid(ALICE, 150, 400)
    assert auction.state.price_fen == 150
    assert auction.state.leader_max_fen == 400


def test_bid_under_the_leaders_maximum_is_accepted_but_the_proxy_keeps_the_lead_one_increment_above() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    outcome = auction.bid(BOB, 150)
    assert outcome.accepted
    assert not outcome.bidder_leads
    assert auction.state.leader_id == ALICE
    assert auction.state.price_fen == 160
    # Bob's public 150 is the new floor, though he does not lead.
    assert auction.state.floor_fen == 150


def test_higher_maximum_takes_the_lead_one_increment_above_the_old_leaders_maximum() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 150)
    outcome = auction.bid(BOB, 170, 300)
    assert outcome.bidder_leads
    assert auction.state.leader_id == BOB
    assert auction.state.price_fen == 210
    assert auction.state.runner_up_max_fen == 200


def test_new_leader_who_bid_an_explicit_amount_above_the_proxy_price_leads_at_that_amount() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 250)
    assert auction.state.leader_id == BOB
    assert auction.state.price_fen == 250


def test_leader_raising_their_own_maximum_leaves_the_price_unchanged() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 150)
    outcome = auction.bid(ALICE, 170, 400)
    assert outcome.accepted
    assert outcome.bidder_leads
    assert auction.state.price_fen == 160
    assert auction.state.leader_max_fen == 400


def test_leader_bidding_a_plain_amount_above_the_price_only_raises_their_maximum() -> None:
    auction = Auction()
    auction.bid(ALICE, 100)
    auction.bid(ALICE, 300)
    assert auction.state.price_fen == 100
    assert auction.state.leader_max_fen == 300


def test_equal_maxima_the_earlier_maximum_leads_at_that_maximum() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    outcome = auction.bid(BOB, 110, 200)
    assert outcome.accepted
    assert not outcome.bidder_leads
    assert auction.state.leader_id == ALICE
    assert auction.state.price_fen == 200
    assert minimum_bid_fen(auction.state, RULES) == 210


def test_leader_raising_their_maximum_after_a_tie_keeps_the_price_at_the_tie() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 200)
    auction.bid(ALICE, 210, 300)
    assert auction.state.leader_id == ALICE
    assert auction.state.price_fen == 200
    assert auction.state.leader_max_fen == 300
    auction.bid(BOB, 210)
    assert auction.state.price_fen == 220


def test_plain_bid_equal_to_the_leaders_maximum_does_not_take_the_lead() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 200)
    assert auction.state.leader_id == ALICE
    assert auction.state.price_fen == 200


def test_one_increment_over_the_leaders_maximum_takes_the_lead() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 210)
    assert auction.state.leader_id == BOB
    assert auction.state.price_fen == 210


def test_outbid_leader_can_come_back_with_a_higher_maximum() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 110, 300)
    assert auction.state.price_fen == 210
    outcome = auction.bid(ALICE, 220, 500)
    assert outcome.bidder_leads
    assert auction.state.price_fen == 310
    assert auction.state.runner_up_max_fen == 300


def test_third_bidder_raises_the_runner_up_maximum_and_the_price() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 500)
    auction.bid(BOB, 150)
    auction.bid(CAROL, 170, 300)
    assert auction.state.leader_id == ALICE
    assert auction.state.runner_up_max_fen == 300
    assert auction.state.price_fen == 310


def test_first_bid_below_the_start_price_is_refused_with_the_start_price_as_minimum() -> None:
    outcome = Auction().bid(ALICE, 90)
    assert not outcome.accepted
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.BELOW_MINIMUM
    assert outcome.refusal.minimum_fen == 100


def test_bid_at_the_current_price_is_refused_because_the_minimum_is_one_increment_above() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    outcome = auction.bid(BOB, 100)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.BELOW_MINIMUM
    assert outcome.refusal.minimum_fen == 110


def test_off_grid_amount_is_refused_with_the_nearest_valid_amounts() -> None:
    auction = Auction()
    auction.bid(ALICE, 100)
    outcome = auction.bid(BOB, 125)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.OFF_GRID
    assert (outcome.refusal.nearest_below_fen, outcome.refusal.nearest_above_fen) == (120, 130)
    assert outcome.refusal.minimum_fen == 110


def test_off_grid_amount_under_the_minimum_is_refused_as_below_minimum() -> None:
    auction = Auction()
    auction.bid(ALICE, 100)
    outcome = auction.bid(BOB, 105)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.BELOW_MINIMUM


def test_maximum_below_the_amount_is_refused() -> None:
    outcome = Auction().bid(ALICE, 150, 120)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.MAX_BELOW_AMOUNT
    assert outcome.refusal.minimum_fen == 150


def test_maximum_equal_to_the_amount_is_accepted() -> None:
    assert Auction().bid(ALICE, 150, 150).accepted


def test_off_grid_maximum_is_refused_with_the_nearest_valid_maxima() -> None:
    outcome = Auction().bid(ALICE, 100, 205)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.MAX_OFF_GRID
    assert (outcome.refusal.nearest_below_fen, outcome.refusal.nearest_above_fen) == (200, 210)


def test_leader_bid_that_does_not_raise_their_maximum_is_refused() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    outcome = auction.bid(ALICE, 110, 200)
    assert outcome.refusal is not None
    assert outcome.refusal.reason is RefusalReason.MAX_NOT_RAISED
    assert outcome.refusal.minimum_fen == 210
    assert outcome.bidder_leads


def test_refused_bid_leaves_the_state_unchanged() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    before = auction.state
    outcome = auction.bid(BOB, 105)
    assert outcome.state is before


def test_bids_out_of_sequence_order_are_a_caller_bug() -> None:
    state = apply_bid(EnglishState(), EnglishBid(ALICE, 100, None, T0, 5), RULES).state
    with pytest.raises(AssertionError):
        apply_bid(state, EnglishBid(BOB, 110, None, T0, 5), RULES)


# --- reserve ---------------------------------------------------------------------------------------

RESERVE_RULES = EnglishRules(start_price_fen=100, increment_fen=10, reserve_price_fen=250)


def test_leader_maximum_below_the_reserve_leaves_the_reserve_unmet_and_the_price_alone() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 200)
    assert auction.state.price_fen == 100
    assert not auction.state.reserve_met


def test_leader_maximum_covering_the_reserve_lifts_the_price_to_the_reserve() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 300)
    assert auction.state.price_fen == 250
    assert auction.state.reserve_met


def test_leader_raising_their_maximum_past_the_reserve_lifts_the_price_to_the_reserve() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 200)
    auction.bid(ALICE, 110, 260)
    assert auction.state.price_fen == 250
    assert auction.state.reserve_met


def test_a_challenger_whose_maximum_covers_the_reserve_meets_it_by_taking_the_lead() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 200)
    assert not auction.state.reserve_met
    auction.bid(BOB, 150, 300)
    assert auction.state.leader_id == BOB
    assert auction.state.reserve_met
    assert auction.state.price_fen == 250


def test_leader_maximum_exactly_at_the_reserve_meets_it() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 250)
    assert auction.state.reserve_met
    assert auction.state.price_fen == 250


def test_off_grid_reserve_lifts_the_price_to_the_next_grid_price() -> None:
    auction = Auction(EnglishRules(start_price_fen=100, increment_fen=10, reserve_price_fen=245))
    auction.bid(ALICE, 100, 300)
    assert auction.state.price_fen == 250


def test_off_grid_reserve_met_by_the_leaders_maximum_never_prices_above_that_maximum() -> None:
    auction = Auction(EnglishRules(start_price_fen=100, increment_fen=10, reserve_price_fen=245))
    auction.bid(ALICE, 100, 250)
    assert auction.state.price_fen == 250
    assert auction.state.leader_max_fen == 250


def test_competition_above_the_reserve_prices_by_the_runner_up_as_usual() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 400)
    auction.bid(BOB, 260, 300)
    assert auction.state.price_fen == 310


def test_reserve_below_the_start_price_is_met_by_any_bid() -> None:
    auction = Auction(EnglishRules(start_price_fen=100, increment_fen=10, reserve_price_fen=50))
    auction.bid(ALICE, 100)
    assert auction.state.reserve_met
    assert auction.state.price_fen == 100


# --- close and replay ------------------------------------------------------------------------------


def test_close_without_bids_is_unsold_for_no_bids() -> None:
    assert close_english(EnglishState(), RULES) == Unsold(UnsoldReason.NO_BIDS)


def test_close_with_the_reserve_unmet_is_unsold_for_the_reserve() -> None:
    auction = Auction(RESERVE_RULES)
    auction.bid(ALICE, 100, 200)
    assert close_english(auction.state, RESERVE_RULES) == Unsold(UnsoldReason.RESERVE_NOT_MET)


def test_close_sells_to_the_leader_at_the_current_price() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 150)
    assert close_english(auction.state, RULES) == Sold(winner_id=ALICE, price_fen=160)


def test_close_with_a_single_bidder_sells_at_their_bid() -> None:
    auction = Auction()
    auction.bid(ALICE, 120)
    assert close_english(auction.state, RULES) == Sold(winner_id=ALICE, price_fen=120)


def test_replay_of_the_accepted_history_rebuilds_the_state() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 150)
    auction.bid(BOB, 105)  # refused, not in the history
    auction.bid(BOB, 170, 300)
    auction.bid(ALICE, 310)
    assert replay(auction.accepted, RULES) == auction.state


def test_replay_of_a_history_holding_a_refusable_bid_raises() -> None:
    bids = [EnglishBid(ALICE, 100, 200, T0, 1), EnglishBid(BOB, 100, None, T0, 2)]
    with pytest.raises(ReplayError) as raised:
        replay(bids, RULES)
    assert raised.value.index == 1
    assert raised.value.bid == bids[1]
    assert raised.value.refusal.reason is RefusalReason.BELOW_MINIMUM
    assert str(raised.value) == "bid #1 (sequence 2) is refused on replay: below_minimum"


@pytest.mark.parametrize(
    ("start_price_fen", "increment_fen", "reserve_price_fen"), [(0, 10, None), (100, 0, None), (100, 10, 0)]
)
def test_rules_refuse_non_positive_prices(
    start_price_fen: int, increment_fen: int, reserve_price_fen: int | None
) -> None:
    with pytest.raises(ValueError):
        EnglishRules(start_price_fen, increment_fen, reserve_price_fen)


def test_a_reserve_of_zero_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=exactly("reserve_price_fen must be positive, got 0")):
        EnglishRules(100, 10, 0)


# --- bid count -------------------------------------------------------------------------------------


def test_bid_count_starts_at_zero_and_counts_each_accepted_bid_of_any_bidder() -> None:
    auction = Auction()
    assert auction.state.bid_count == 0
    assert auction.state.last_sequence is None
    auction.bid(ALICE, 100, 200)
    assert auction.state.bid_count == 1
    auction.bid(BOB, 150)  # answered by Alice's proxy, but accepted: it counts
    auction.bid(ALICE, 170, 400)  # the leader raising their own maximum counts too
    auction.bid(BOB, 260, 500)
    assert auction.state.bid_count == 4
    assert auction.state.last_sequence == 4


def test_refused_bid_leaves_the_bid_count_and_last_sequence_as_they_were() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    outcome = auction.bid(BOB, 105)
    assert outcome.refusal is not None
    assert outcome.state.bid_count == 1
    assert outcome.state.last_sequence == 1
    auction.bid(BOB, 150)
    assert (auction.state.bid_count, auction.state.last_sequence) == (2, 3)


def test_replay_counts_the_accepted_history_and_ends_at_its_last_sequence() -> None:
    auction = Auction()
    auction.bid(ALICE, 100, 200)
    auction.bid(BOB, 90)  # refused
    auction.bid(BOB, 150)
    auction.bid(CAROL, 300)
    replayed = replay(auction.accepted, RULES)
    assert replayed.bid_count == 3
    assert replayed.last_sequence == 4
    assert replay([], RULES) == EnglishState()
