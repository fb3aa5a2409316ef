"""Random bid streams against the engine and against a tiny reference model written from the rule text.

The reference knows nothing of the engine's running summary: it recomputes everything from the list
of accepted bids — each bidder's maximum (the highest they ever gave, dated by the bid that first
reached it), the leader and runner-up by sorting on (-maximum, sequence), and which bids set the price
(those from someone not leading at the time, found by recomputing the leader of every prefix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from auction.rules import (
    BidOutcome,
    EnglishBid,
    EnglishRules,
    EnglishState,
    Sold,
    Unsold,
    UnsoldReason,
    apply_bid,
    close_english,
    is_on_grid,
    minimum_bid_fen,
    replay,
)

T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
MAX_BIDS_PER_STREAM = 30


@dataclass(frozen=True)
class Reference:
    rules: EnglishRules
    accepted: tuple[EnglishBid, ...]

    def maxima(self) -> dict[int, tuple[int, int]]:
        """bidder -> (their maximum, sequence of the bid that first reached it)."""
        best: dict[int, tuple[int, int]] = {}
        for bid in self.accepted:
            bid_max_fen = max(bid.amount_fen, bid.max_amount_fen or 0)
            if bid.bidder_id not in best or bid_max_fen > best[bid.bidder_id][0]:
                best[bid.bidder_id] = (bid_max_fen, bid.sequence)
        return best

    def ranking(self) -> list[tuple[int, int]]:
        """(bidder, maximum), best first: higher maximum, then earlier maximum."""
        ranked = sorted(self.maxima().items(), key=lambda item: (-item[1][0], item[1][1]))
        return [(bidder_id, bidder_max_fen) for bidder_id, (bidder_max_fen, _) in ranked]

    def leader_id(self) -> int | None:
        ranking = self.ranking()
        return ranking[0][0] if ranking else None

    def price_fen(self) -> int | None:
        """Set by the last bid from someone not leading at the time; the leader's own bids since then
        only raise their maximum, so they can lift the price to the reserve and no further."""
        ranking = self.ranking()
        if not ranking:
            return None
        setters = [
            index
            for index, bid in enumerate(self.accepted)
            if bid.bidder_id != Reference(self.rules, self.accepted[:index]).leader_id()
        ]
        at_last_setter = Reference(self.rules, self.accepted[: setters[-1] + 1])
        set_ranking = at_last_setter.ranking()
        set_leader_max_fen = set_ranking[0][1]
        terms_fen = [
            self.rules.start_price_fen,
            max(self.accepted[index].amount_fen for index in setters),
            self.reserve_term_fen(set_leader_max_fen),
            self.reserve_term_fen(ranking[0][1]),
        ]
        if len(set_ranking) > 1:
            terms_fen.append(min(set_ranking[1][1] + self.rules.increment_fen, set_leader_max_fen))
        return max(terms_fen)

    def reserve_term_fen(self, leader_max_fen: int) -> int:
        rules = self.rules
        if rules.reserve_price_fen is None or leader_max_fen < rules.reserve_price_fen:
            return rules.start_price_fen
        steps = max(0, -((rules.start_price_fen - rules.reserve_price_fen) // rules.increment_fen))
        return rules.start_price_fen + steps * rules.increment_fen

    def on_grid(self, amount_fen: int) -> bool:
        offset_fen = amount_fen - self.rules.start_price_fen
        return offset_fen >= 0 and offset_fen % self.rules.increment_fen == 0

    def admits(self, bid: EnglishBid) -> bool:
        price_fen = self.price_fen()
        minimum_fen = (
            self.rules.start_price_fen if price_fen is None else price_fen + self.rules.increment_fen
        )
        if bid.amount_fen < minimum_fen or not self.on_grid(bid.amount_fen):
            return False
        if bid.max_amount_fen is not None and (
            bid.max_amount_fen < bid.amount_fen or not self.on_grid(bid.max_amount_fen)
        ):
            return False
        ranking = self.ranking()
        if ranking and ranking[0][0] == bid.bidder_id:
            return max(bid.amount_fen, bid.max_amount_fen or 0) > ranking[0][1]
        return True

    def with_bid(self, bid: EnglishBid) -> Reference:
        return Reference(self.rules, (*self.accepted, bid))


rules_strategy = st.builds(
    EnglishRules,
    start_price_fen=st.integers(min_value=1, max_value=10_000),
    increment_fen=st.integers(min_value=1, max_value=1_000),
    reserve_price_fen=st.none() | st.integers(min_value=1, max_value=60_000),
)


def draw_bid(data: st.DataObject, state: EnglishState, rules: EnglishRules, sequence: int) -> EnglishBid:
    """A bid near the current minimum: mostly admissible, sometimes low, off the grid or badly capped."""
    increment_fen = rules.increment_fen
    noise = st.sampled_from([0, 0, 0, 0, 0, 0, 1, increment_fen // 2])
    amount_fen = (
        minimum_bid_fen(state, rules)
        + data.draw(st.integers(min_value=-2, max_value=8)) * increment_fen
        + data.draw(noise)
    )
    max_amount_fen = data.draw(
        st.none()
        | st.integers(min_value=-2, max_value=40).map(lambda steps: amount_fen + steps * increment_fen)
    )
    if max_amount_fen is not None:
        max_amount_fen += data.draw(noise)
    return EnglishBid(
        bidder_id=data.draw(st.integers(min_value=1, max_value=4)),
        amount_fen=amount_fen,
        max_amount_fen=max_amount_fen,
        received_at=T0 + timedelta(seconds=sequence),
        sequence=sequence,
    )


def run_stream(data: st.DataObject, rules: EnglishRules) -> list[tuple[EnglishBid, BidOutcome]]:
    state = EnglishState()
    results: list[tuple[EnglishBid, BidOutcome]] = []
    for sequence in range(1, data.draw(st.integers(min_value=0, max_value=MAX_BIDS_PER_STREAM)) + 1):
        bid = draw_bid(data, state, rules, sequence)
        outcome = apply_bid(state, bid, rules)
        results.append((bid, outcome))
        state = outcome.state
    return results


@given(rules=rules_strategy, data=st.data())
def test_price_is_on_the_grid_between_start_and_leader_maximum_after_every_bid(
    rules: EnglishRules, data: st.DataObject
) -> None:
    for _, outcome in run_stream(data, rules):
        state = outcome.state
        if state.price_fen is None:
            continue
        assert state.leader_max_fen is not None
        assert is_on_grid(rules.grid, state.price_fen)
        assert rules.start_price_fen <= state.price_fen <= state.leader_max_fen


@given(rules=rules_strategy, data=st.data())
def test_price_never_falls_and_a_met_reserve_is_never_undercut(
    rules: EnglishRules, data: st.DataObject
) -> None:
    previous_fen = 0
    for _, outcome in run_stream(data, rules):
        price_fen = outcome.state.price_fen or 0
        assert price_fen >= previous_fen
        previous_fen = price_fen
        if outcome.state.reserve_met and rules.reserve_price_fen is not None:
            assert price_fen >= rules.reserve_price_fen


@given(rules=rules_strategy, data=st.data())
def test_leader_holds_the_highest_maximum_and_the_earliest_among_equals(
    rules: EnglishRules, data: st.DataObject
) -> None:
    accepted: list[EnglishBid] = []
    for bid, outcome in run_stream(data, rules):
        if not outcome.accepted:
            continue
        accepted.append(bid)
        maxima = Reference(rules, tuple(accepted)).maxima()
        top_fen = max(bidder_max_fen for bidder_max_fen, _ in maxima.values())
        earliest_at_top = min(
            sequence for bidder_max_fen, sequence in maxima.values() if bidder_max_fen == top_fen
        )
        assert outcome.state.leader_max_fen == top_fen
        assert maxima[outcome.state.leader_id or 0] == (top_fen, earliest_at_top)


@given(rules=rules_strategy, data=st.data())
def test_replay_of_the_accepted_bids_equals_applying_them_one_by_one(
    rules: EnglishRules, data: st.DataObject
) -> None:
    results = run_stream(data, rules)
    final = results[-1][1].state if results else EnglishState()
    assert replay([bid for bid, outcome in results if outcome.accepted], rules) == final


@given(rules=rules_strategy, data=st.data())
def test_engine_agrees_with_the_reference_model_on_every_bid_of_a_random_stream(
    rules: EnglishRules, data: st.DataObject
) -> None:
    reference = Reference(rules, ())
    for bid, outcome in run_stream(data, rules):
        assert outcome.accepted == reference.admits(bid)
        if outcome.accepted:
            reference = reference.with_bid(bid)
        assert outcome.state.leader_id == reference.leader_id()
        assert outcome.state.price_fen == reference.price_fen()
        assert outcome.bidder_leads == (reference.leader_id() == bid.bidder_id)


@given(rules=rules_strategy, data=st.data())
def test_close_sells_to_the_reference_leader_at_the_reference_price_when_the_reserve_is_covered(
    rules: EnglishRules, data: st.DataObject
) -> None:
    results = run_stream(data, rules)
    reference = Reference(rules, tuple(bid for bid, outcome in results if outcome.accepted))
    final = results[-1][1].state if results else EnglishState()
    ranking = reference.ranking()
    expected: Sold | Unsold
    if not ranking:
        expected = Unsold(UnsoldReason.NO_BIDS)
    elif rules.reserve_price_fen is not None and ranking[0][1] < rules.reserve_price_fen:
        expected = Unsold(UnsoldReason.RESERVE_NOT_MET)
    else:
        price_fen = reference.price_fen()
        assert price_fen is not None
        expected = Sold(winner_id=ranking[0][0], price_fen=price_fen)
    assert close_english(final, rules) == expected


class EnglishAuctionMachine(RuleBasedStateMachine):
    """Bids arrive one at a time; after each, the engine must match the reference model."""

    RULES = EnglishRules(start_price_fen=1_000, increment_fen=100, reserve_price_fen=2_450)

    def __init__(self) -> None:
        super().__init__()
        self.state = EnglishState()
        self.reference = Reference(self.RULES, ())
        self.sequence = 0

    @rule(
        bidder_id=st.integers(min_value=1, max_value=3),
        steps_over_minimum=st.integers(min_value=-1, max_value=5),
        max_steps_over_amount=st.none() | st.integers(min_value=0, max_value=20),
    )
    def bid(self, bidder_id: int, steps_over_minimum: int, max_steps_over_amount: int | None) -> None:
        self.sequence += 1
        increment_fen = self.RULES.increment_fen
        amount_fen = minimum_bid_fen(self.state, self.RULES) + steps_over_minimum * increment_fen
        bid = EnglishBid(
            bidder_id=bidder_id,
            amount_fen=amount_fen,
            max_amount_fen=None
            if max_steps_over_amount is None
            else amount_fen + max_steps_over_amount * increment_fen,
            received_at=T0 + timedelta(seconds=self.sequence),
            sequence=self.sequence,
        )
        outcome = apply_bid(self.state, bid, self.RULES)
        assert outcome.accepted == self.reference.admits(bid)
        if outcome.accepted:
            self.reference = self.reference.with_bid(bid)
        self.state = outcome.state

    @invariant()
    def engine_matches_reference(self) -> None:
        assert self.state.leader_id == self.reference.leader_id()
        assert self.state.price_fen == self.reference.price_fen()
        assert replay(self.reference.accepted, self.RULES) == self.state


EnglishAuctionMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30)
test_english_auction_matches_reference_model_bid_by_bid = EnglishAuctionMachine.TestCase
