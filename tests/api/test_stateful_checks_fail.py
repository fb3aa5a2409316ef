"""The stateful test's checks can fail: each is run on a market it has just passed, then on the same
market with one row damaged the way a defect would leave it, and must name the damage; with the
row put back it passes again. (A check that crashes or passes vacuously hid for sessions: an
invariant's call no longer matched the grid rule's signature, unseen while no run had a bid.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.market_machine import MarketMachine
from tests.api.stateful_world import LoopThread

pytestmark = pytest.mark.db

# (what is damaged, the damage, its undoing, the machine's invariant that must fail, words its message must have)
DAMAGES: list[tuple[str, str, str, str, str]] = [
    (
        "a bid moved off the grid",
        "UPDATE auction_bids SET amount_fen = amount_fen + 1 WHERE sequence = 1",
        "UPDATE auction_bids SET amount_fen = amount_fen - 1 WHERE sequence = 1",
        "an_auction_has_one_truth",
        "off the grid",
    ),
    (
        "a bid's sequence with a gap",
        "UPDATE auction_bids SET sequence = sequence + 10 WHERE sequence = 2",
        "UPDATE auction_bids SET sequence = sequence - 10 WHERE sequence = 12",
        "an_auction_has_one_truth",
        "gaps",
    ),
    (
        "a fen appearing in one account",
        "UPDATE accounts SET balance_fen = balance_fen + 1 WHERE id = (SELECT min(id) FROM accounts)",
        "UPDATE accounts SET balance_fen = balance_fen - 1 WHERE id = (SELECT min(id) FROM accounts)",
        "the_ledger_balances",
        "sum to 1 fen",
    ),
    (
        "a register short of the whole",
        "UPDATE income_rights SET share_ppm = share_ppm - 1 WHERE loan_id = (SELECT min(loan_id) FROM income_rights)",
        "UPDATE income_rights SET share_ppm = share_ppm + 1 WHERE loan_id = (SELECT min(loan_id) FROM income_rights)",
        "ownership_is_whole",
        "loan",
    ),
    (
        "a deposit marked refunded while its hold is pending",
        "UPDATE auction_registrations SET deposit_state = 'refunded' WHERE id = (SELECT min(id) FROM auction_registrations)",
        "UPDATE auction_registrations SET deposit_state = 'held' WHERE id = (SELECT min(id) FROM auction_registrations)",
        "deposits_resolve",
        "deposit refunded",
    ),
]


@pytest.fixture
def market(backend: str, database_urls: dict[str, str]) -> Iterator[Any]:
    loop = LoopThread()
    machine = MarketMachine.on(loop, database_urls[backend], Counter())()
    try:
        machine.open_the_market()  # a lot with two bids, one a proxy's
        machine.register_loan(bank=0, ip=True, appraisal_fen=40_000_000)
        yield machine
    finally:
        machine.teardown()
        loop.close()


def _execute(machine: Any, statement: str) -> None:
    async def write() -> None:
        async with machine.world.database.write_engine.begin() as connection:
            result = await connection.execute(text(statement))
            assert result.rowcount == 1, statement

    machine.run(write())


def test_each_check_names_a_damaged_row_and_passes_once_it_is_put_back(market: Any) -> None:
    # One market serves every damage, each undone before the next: a world costs seconds to open.
    for damage, breaks, repairs, invariant, words in DAMAGES:
        check = getattr(market, invariant)
        check()  # the undamaged market passes
        _execute(market, breaks)
        with pytest.raises(AssertionError) as failure:
            check()
        assert words in str(failure.value), f"{damage}: {failure.value}"
        _execute(market, repairs)
        check()
