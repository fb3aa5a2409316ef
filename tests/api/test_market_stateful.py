"""A stateful test of the whole market: random sequences of steps through the HTTP API, with every
invariant of DESIGN.md section 4 that the database can show checked after every step.

The rules (tests/api/market_machine.py): funds recorded (and a bad amount refused), withdrawals,
funds sent twice under one Idempotency-Key, loans registered (IP-pledge or not), listings (an
income-right share or the whole loan), offers, accepts, settlements, repayments, English lots put
up (with and without a reserve), registrations, bids (on and off the grid, with and without a
maximum), cancels, payments, the clock moved with the scheduler's tick (closes, payment
deadlines and defaults, disposal deadlines), defaults of loans, disposal rounds, take-in-payment
decisions, buyout offers, their accepts and withdrawals.

The invariants, each an `@invariant` of the machine, checked from the tables after every step:

1. Money is exact: each repayment's shares add up to it (principal, interest, 1,000,000 ppm),
   each case's waterfall lines to its proceeds. (Integers of fen are the schema's BIGINT columns.)
2. The ledger balances: the accounts sum to zero (and each balance equals its transfers' net, by
   the day's reconciliation); no non-negative account and no participant account is below zero;
   every hold is resolved at most once, its status matches its one resolution, never for more;
   each participant's held account holds exactly its pending holds; and every pending hold is
   for something live (a held deposit, a live buyout offer, a live commitment's budget), for
   exactly its amount.
3. Ownership is whole: each loan's register sums to 1,000,000 ppm and equals a replay of its
   settled trades in settlement order from the registering bank, creditor included; a trade's
   price moved in the ledger if and only if it settled.
4. An auction has one truth: every bid is its registration's, after the registration, inside
   [start, end), on the grid, before the close; the bid sequence has no gaps and each bid has its
   audit event; a running English lot's stored state equals a replay of its bids; a closed one
   closed once (one `auction.closed` event), not before its end, with the winner and price (or
   the unsold reason) the replay gives; after close its outcome never changes and its state moves
   only from awaiting payment to sold or defaulted.
5. Deposits resolve: each deposit's state is its hold's (held–pending, applied or forfeited–posted,
   refunded–voided) for its amount; after close or cancel none is held, the winner's is applied
   (forfeited on default) and every other one refunded.
6. Fees are explainable: every trade has its fee lines, each waived if and only if the waiver
   rule holds on the trade date, charged ones summing to the trade's totals and posted (only) on
   settlement; the day's reconciliation (with the house's breaks) is clean after every step.
7. Nothing is lost: the audit chain, sealed, verifies and covers every event; a request sent twice
   with one Idempotency-Key answers the same (`Idempotent-Replayed`) with one effect.
8. Bad input is refused, never half-applied: no answer is a 5xx; every refusal is a problem
   document with a code; and after every refusal every table is as it was, row by row (only a
   key's last-use stamp, written by authentication, is left out).

What it does not check, and why:

* "No float ever touches money" is a property of the code, not of stored data (the unit tests
  of the pure rules and the money parser hold it).
* Whether every state change appends an audit event in the same transaction can be seen from the
  database only for the changes that have a row to count (bids, closes); the others' events are
  covered by the chain check, not matched change by change.
* Concurrency (two closers at once, a closer crashing midway) needs processes, not a sequence
  of steps: the crash test and the multi-worker tests hold it.
* Sealed, descending and fixed-price lots, sessions, pools' revenue and compensation funds are
  not among the rules (their own API tests cover them); their tables are still in every check.

Its size: a hypothesis profile per run (IPX_STATEFUL_EXAMPLES examples of up to
IPX_STATEFUL_STEPS steps; the defaults keep CI short), derandomized so CI sees the same
sequences every time; a failure prints the shrunk sequence of steps.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.api.market_machine import MarketMachine, outcome_key
from tests.api.stateful_world import LoopThread

pytestmark = pytest.mark.db

EXAMPLES = int(os.environ.get("IPX_STATEFUL_EXAMPLES", "3"))
STEPS = int(os.environ.get("IPX_STATEFUL_STEPS", "30"))
SHRINK = os.environ.get("IPX_STATEFUL_SHRINK", "1") != "0"

PROFILE = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    derandomize=True,
    deadline=None,
    database=None,
    # Shrinking reruns the sequence many times: worth it when a failure needs reading, but on a
    # long run it can take far longer than finding the failure (IPX_STATEFUL_SHRINK=0 skips it).
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, *([Phase.shrink] if SHRINK else [])],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    print_blob=True,
)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def test_the_market_keeps_every_invariant_through_random_steps(
    backend: str, database_urls: dict[str, str], loop: LoopThread
) -> None:
    outcomes: Counter[str] = Counter()
    machine = MarketMachine.on(loop, database_urls[backend], outcomes)
    run_state_machine_as_test(machine, settings=PROFILE)
    # A run in which no bid got through checked nothing of invariant 4 (the lot's one truth).
    assert outcomes[outcome_key("POST", "/api/v1/auctions/1/bids", 201)] > 0, outcomes
    # Shown with -s: how far the random steps got (a rule that only ever meets refusals tests little).
    print(f"\n{sum(outcomes.values())} requests on {backend}:")
    for outcome, count in sorted(outcomes.items()):
        print(f"{count:6} {outcome}")
