"""English auction with proxy bidding (DESIGN §3 "Proxy bidding", §6 bids).

A bid has an `amount` (the bid placed now, public) and an optional `max_amount` (the hidden ceiling up
to which the system bids for the bidder). A bidder's maximum is max(amount, max_amount).

Who leads: the highest maximum; at equal maxima the earlier one (a challenger must strictly exceed
the leader's maximum to take the lead).

The price is set by every bid from someone not leading at the time (the first bid included), as the
greatest of:

* the start price;
* the runner-up's maximum + one increment, capped at the leader's maximum: the least grid price that
  keeps the leader ahead (after a tie, that is the tied maximum itself);
* the bid's own amount (the "floor"). A bidder who takes the lead by bidding 250 has publicly bid 250,
  and the price must not show less; a lone bidder who opens at 150 leads at 150, not at the start;
* the reserve snapped up to the grid, once the leader's maximum covers the reserve. The leader's
  maximum is a grid price >= the reserve, so the snapped reserve never exceeds it.

A bid from the leader only raises their maximum; the price moves only to reach the reserve
(DESIGN §6: a leader never outbids themselves). Every term is on the grid and at most the leader's
maximum, so the price is too, and the price never falls.

Admission: every bid's amount is at least the minimum bid (the start price before the first bid, then
the current price + one increment) and on the grid; a maximum is on the grid and >= the amount. The
leader's bid must also raise their maximum, because a bid that does not is an accident, not an intent.
A non-leader's bid at or under the leader's maximum is accepted into the history and immediately
answered by the leader's proxy; the outcome says the bidder is not leading.

The state is a summary (price, leader, leader's maximum, runner-up maximum, floor) rather than the bid
list: a non-leader's new bid always exceeds everything they bid before (its amount is above the
current price, which is at least every non-leader maximum), so nothing else about past bids can matter
again. That keeps a bid O(1) under the lot's row lock; `replay` rebuilds the same summary from the
history. Bids and timing are separate questions: `soft_close` decides whether a bid is in time and
where the end moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from auction.rules.grid import PriceGrid, is_on_grid, nearest_valid, snap_up
from auction.rules.outcome import CloseOutcome, Sold, Unsold, UnsoldReason
from auction.rules.refusal import Refusal, RefusalReason


@dataclass(frozen=True, slots=True)
class EnglishRules:
    start_price_fen: int
    increment_fen: int
    reserve_price_fen: int | None = None

    def __post_init__(self) -> None:
        PriceGrid(self.start_price_fen, self.increment_fen)  # validates both
        if self.reserve_price_fen is not None and self.reserve_price_fen <= 0:
            raise ValueError(f"reserve_price_fen must be positive, got {self.reserve_price_fen}")

    @property
    def grid(self) -> PriceGrid:
        return PriceGrid(self.start_price_fen, self.increment_fen)


@dataclass(frozen=True, slots=True)
class EnglishBid:
    bidder_id: int
    amount_fen: int
    max_amount_fen: int | None
    # The server's receipt time: it decides soft close, not the order of bids (that is `sequence`).
    received_at: datetime
    # Server receipt order, strictly increasing per auction. An integer rather than a timestamp, so two
    # bids in the same microsecond still have a strict order and equal maxima a clear winner.
    sequence: int

    @property
    def effective_max_fen(self) -> int:
        if self.max_amount_fen is None:
            return self.amount_fen
        return max(self.amount_fen, self.max_amount_fen)


@dataclass(frozen=True, slots=True)
class EnglishState:
    """The auction after the bids accepted so far. `leader_max_fen` and `runner_up_max_fen` are secret."""

    price_fen: int | None = None
    leader_id: int | None = None
    leader_max_fen: int | None = None
    # The highest maximum among everyone but the leader: what the leader's proxy has to beat.
    runner_up_max_fen: int | None = None
    # The highest amount bid by a bidder who was not leading when they bid (see the module docstring).
    floor_fen: int | None = None
    reserve_met: bool = False
    bid_count: int = 0
    last_sequence: int | None = None


@dataclass(frozen=True, slots=True)
class BidOutcome:
    # The state after the bid; the unchanged state when the bid was refused.
    state: EnglishState
    refusal: Refusal | None
    # Whether the bidder leads after this bid (a refused bid never changes who leads).
    bidder_leads: bool

    @property
    def accepted(self) -> bool:
        return self.refusal is None


class ReplayError(ValueError):
    """A bid in a stored history would be refused today: the history or the rules are not the ones used."""

    def __init__(self, index: int, bid: EnglishBid, refusal: Refusal) -> None:
        super().__init__(f"bid #{index} (sequence {bid.sequence}) is refused on replay: {refusal.reason}")
        self.index = index
        self.bid = bid
        self.refusal = refusal


def minimum_bid_fen(state: EnglishState, rules: EnglishRules) -> int:
    """The least amount any bid may have now: the start price before the first bid, then price + increment."""
    if state.price_fen is None:
        return rules.start_price_fen
    return state.price_fen + rules.increment_fen


def apply_bid(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> BidOutcome:
    """Admit or refuse `bid` against `state`; an accepted bid yields the re-resolved state."""
    assert state.last_sequence is None or bid.sequence > state.last_sequence, "bids must arrive in order"
    refusal = bid_refusal(state, bid, rules)
    if refusal is not None:
        return BidOutcome(state=state, refusal=refusal, bidder_leads=state.leader_id == bid.bidder_id)
    resolved = _resolve(state, bid, rules)
    _assert_invariants(resolved, rules)
    # An accepted bid either leaves its bidder behind or makes its maximum the leading one.
    assert resolved.leader_id != bid.bidder_id or resolved.leader_max_fen == bid.effective_max_fen
    return BidOutcome(state=resolved, refusal=None, bidder_leads=resolved.leader_id == bid.bidder_id)


def replay(bids: Iterable[EnglishBid], rules: EnglishRules) -> EnglishState:
    """Rebuild the state from an accepted bid history, in sequence order.

    Raises ReplayError when a bid in the history would be refused: the stored truth and the rules
    disagree, which no caller should paper over.
    """
    state = EnglishState()
    for index, bid in enumerate(bids):
        outcome = apply_bid(state, bid, rules)
        if outcome.refusal is not None:
            raise ReplayError(index, bid, outcome.refusal)
        state = outcome.state
    return state


def close_english(state: EnglishState, rules: EnglishRules) -> CloseOutcome:
    """The result when the auction ends: the leader wins at the current price if the reserve is met."""
    if state.leader_id is None:
        return Unsold(UnsoldReason.NO_BIDS)
    if not state.reserve_met:
        return Unsold(UnsoldReason.RESERVE_NOT_MET)
    assert state.price_fen is not None
    return Sold(winner_id=state.leader_id, price_fen=state.price_fen)


def bid_refusal(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> Refusal | None:
    """Why `bid` cannot be accepted in `state`, or None when it can. Checks run amount first, then maximum."""
    grid = rules.grid
    minimum_fen = minimum_bid_fen(state, rules)
    if bid.amount_fen < minimum_fen:
        return Refusal(RefusalReason.BELOW_MINIMUM, minimum_fen=minimum_fen)
    if not is_on_grid(grid, bid.amount_fen):
        return _off_grid(RefusalReason.OFF_GRID, grid, bid.amount_fen, minimum_fen)
    if bid.max_amount_fen is not None:
        if bid.max_amount_fen < bid.amount_fen:
            return Refusal(RefusalReason.MAX_BELOW_AMOUNT, minimum_fen=bid.amount_fen)
        if not is_on_grid(grid, bid.max_amount_fen):
            return _off_grid(RefusalReason.MAX_OFF_GRID, grid, bid.max_amount_fen, bid.amount_fen)
    if bid.bidder_id == state.leader_id:
        assert state.leader_max_fen is not None
        if bid.effective_max_fen <= state.leader_max_fen:
            return Refusal(
                RefusalReason.MAX_NOT_RAISED, minimum_fen=state.leader_max_fen + rules.increment_fen
            )
    return None


def _off_grid(reason: RefusalReason, grid: PriceGrid, amount_fen: int, minimum_fen: int) -> Refusal:
    below_fen, above_fen = nearest_valid(grid, amount_fen)
    # The minimum is itself a grid price and was checked first, so the grid price below an off-grid
    # amount is still one the bidder may bid.
    assert below_fen is not None
    assert below_fen >= minimum_fen
    return Refusal(reason, minimum_fen=minimum_fen, nearest_below_fen=below_fen, nearest_above_fen=above_fen)


def _resolve(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> EnglishState:
    if state.leader_id is None:
        resolved = _open(state, bid, rules)
    elif bid.bidder_id == state.leader_id:
        resolved = _raise_own_maximum(state, bid, rules)
    else:
        resolved = _challenge(state, bid, rules)
    return replace(resolved, bid_count=state.bid_count + 1, last_sequence=bid.sequence)


def _open(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> EnglishState:
    leader_max_fen = bid.effective_max_fen
    return replace(
        state,
        price_fen=_price_fen(rules, leader_max_fen, None, bid.amount_fen),
        leader_id=bid.bidder_id,
        leader_max_fen=leader_max_fen,
        floor_fen=bid.amount_fen,
        reserve_met=_reserve_met(rules, leader_max_fen),
    )


def _raise_own_maximum(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> EnglishState:
    # Only the maximum moves, and the price only to reach the reserve. Re-running the price rule would
    # not do: after a tie the price sits at the old maximum, and lifting that cap would add an
    # increment, making the leader outbid themselves.
    assert state.price_fen is not None
    leader_max_fen = bid.effective_max_fen
    return replace(
        state,
        price_fen=max(state.price_fen, _reserve_term_fen(rules, leader_max_fen)),
        leader_max_fen=leader_max_fen,
        reserve_met=_reserve_met(rules, leader_max_fen),
    )


def _challenge(state: EnglishState, bid: EnglishBid, rules: EnglishRules) -> EnglishState:
    assert state.leader_id is not None
    assert state.leader_max_fen is not None
    assert state.price_fen is not None
    assert bid.amount_fen > state.price_fen
    bid_max_fen = bid.effective_max_fen
    # Strictly greater: at equal maxima the earlier one, the sitting leader's, keeps the lead.
    if bid_max_fen > state.leader_max_fen:
        leader_id, leader_max_fen, runner_up_max_fen = bid.bidder_id, bid_max_fen, state.leader_max_fen
    else:
        assert state.runner_up_max_fen is None or state.runner_up_max_fen < bid_max_fen
        leader_id, leader_max_fen, runner_up_max_fen = state.leader_id, state.leader_max_fen, bid_max_fen
    return replace(
        state,
        price_fen=_price_fen(rules, leader_max_fen, runner_up_max_fen, bid.amount_fen),
        leader_id=leader_id,
        leader_max_fen=leader_max_fen,
        runner_up_max_fen=runner_up_max_fen,
        floor_fen=bid.amount_fen,
        reserve_met=_reserve_met(rules, leader_max_fen),
    )


def _price_fen(
    rules: EnglishRules, leader_max_fen: int, runner_up_max_fen: int | None, floor_fen: int
) -> int:
    terms_fen = [rules.start_price_fen, floor_fen, _reserve_term_fen(rules, leader_max_fen)]
    if runner_up_max_fen is not None:
        terms_fen.append(min(runner_up_max_fen + rules.increment_fen, leader_max_fen))
    return max(terms_fen)


def _reserve_met(rules: EnglishRules, leader_max_fen: int) -> bool:
    return rules.reserve_price_fen is None or leader_max_fen >= rules.reserve_price_fen


def _reserve_term_fen(rules: EnglishRules, leader_max_fen: int) -> int:
    """The least price the reserve imposes: the snapped reserve once covered, else nothing (the start)."""
    if rules.reserve_price_fen is None or leader_max_fen < rules.reserve_price_fen:
        return rules.start_price_fen
    return snap_up(rules.grid, rules.reserve_price_fen)


def _assert_invariants(state: EnglishState, rules: EnglishRules) -> None:
    assert state.price_fen is not None
    assert state.leader_max_fen is not None
    assert state.floor_fen is not None
    assert is_on_grid(rules.grid, state.price_fen)
    assert rules.start_price_fen <= state.price_fen <= state.leader_max_fen
    assert state.floor_fen <= state.price_fen
    assert state.runner_up_max_fen is None or state.runner_up_max_fen <= state.price_fen
    if rules.reserve_price_fen is not None and state.reserve_met:
        assert state.price_fen >= rules.reserve_price_fen
