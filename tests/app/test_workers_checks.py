"""scripts/workers' verdicts on made-up runs: a clean one passes every check, and each way a run
can go wrong fails the check that names it, and only that one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from scripts.workers_checks import Stored, judge
from scripts.workers_load import Watcher, Workload

LOTS = [11, 12]
BIDS = {11: 3, 12: 2}
DEFAULTING = 11


def _events(auction_id: int, sequences: list[int], *, closed: int = 1) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = [("bid", {"sequence": s}) for s in sequences]
    events += [("closed", {})] * closed
    events.append(("defaulted" if auction_id == DEFAULTING else "sold", {}))
    return events


def _clean() -> tuple[Workload, Stored]:
    workload = Workload(
        auction_ids=list(LOTS),
        defaulting_auction_id=DEFAULTING,
        watchers=[
            Watcher(service, lot, _events(lot, list(range(1, BIDS[lot] + 1))))
            for lot in LOTS
            for service in (0, 1)
        ],
        accepted=[(s % 2, lot, s) for lot in LOTS for s in range(1, BIDS[lot] + 1)],
        answers=Counter({(0, 201): 3, (1, 201): 2, (1, 409): 4}),
        payments={12: [(0, 201), (1, 409)]},
    )
    audit: Counter[tuple[str, int]] = Counter({("auction.closed", 11): 1, ("auction.closed", 12): 1})
    audit[("auction.defaulted", 11)] = 1
    audit[("auction.paid", 12)] = 1
    stored = Stored(
        states={11: "defaulted", 12: "sold"},
        last_sequences=dict(BIDS),
        bid_sequences={lot: list(range(1, n + 1)) for lot, n in BIDS.items()},
        audit_counts=audit,
        bid_audit_sequences={lot: list(range(1, n + 1)) for lot, n in BIDS.items()},
        ledger_sum_fen=0,
        pending_holds=0,
    )
    return workload, stored


def _failed(workload: Workload, stored: Stored) -> list[str]:
    return [check.name for check in judge(workload, stored) if not check.passed]


def test_a_clean_run_passes_every_check() -> None:
    assert _failed(*_clean()) == []


def _watcher_saw(sequences: list[int], closed: int = 1) -> Callable[[Workload, Stored], None]:
    def spoil(workload: Workload, _stored: Stored) -> None:
        workload.watchers[0] = Watcher(1, 11, _events(11, sequences, closed=closed))

    return spoil


def _counted(kind: str, auction_id: int, times: int) -> Callable[[Workload, Stored], None]:
    def spoil(_workload: Workload, stored: Stored) -> None:
        stored.audit_counts[(kind, auction_id)] = times

    return spoil


def _paid_answers(statuses: list[int]) -> Callable[[Workload, Stored], None]:
    def spoil(workload: Workload, _stored: Stored) -> None:
        workload.payments[12] = list(enumerate(statuses))

    return spoil


def _lost_stream(workload: Workload, _stored: Stored) -> None:
    workload.watchers[1].error = "RemoteProtocolError: peer closed connection"


def _stored_bid_twice(_workload: Workload, stored: Stored) -> None:
    stored.bid_audit_sequences[12] = [1, 2, 2]


def _answered_twice(workload: Workload, _stored: Stored) -> None:
    workload.accepted.append((1, 12, 2))


def _server_error(workload: Workload, _stored: Stored) -> None:
    workload.answers[(0, 500)] = 1


@pytest.mark.parametrize(
    ("spoil", "failed"),
    [
        (_watcher_saw([1, 3, 2]), "each watcher saw every bid once, in order"),
        (_watcher_saw([1, 2]), "each watcher saw every bid once, in order"),
        (_watcher_saw([1, 2, 2, 3]), "each watcher saw every bid once, in order"),
        (_watcher_saw([1, 2, 3], closed=2), "each watcher saw every bid once, in order"),
        (_lost_stream, "each watcher saw every bid once, in order"),
        (_counted("auction.closed", 12, 2), "each auction closed once"),
        (_counted("auction.closed", 11, 0), "each auction closed once"),
        (_counted("auction.paid", 12, 2), "each payment once"),
        (_paid_answers([201, 201]), "each payment once"),
        (_counted("auction.defaulted", 11, 2), "the default once"),
        (_counted("auction.defaulted", 12, 1), "the default once"),
        (_stored_bid_twice, "every accepted bid stored once"),
        (_answered_twice, "every accepted bid stored once"),
        (_server_error, "no server errors"),
    ],
)
def test_each_fault_fails_its_own_check(spoil: Callable[[Workload, Stored], None], failed: str) -> None:
    workload, stored = _clean()
    spoil(workload, stored)

    assert _failed(workload, stored) == [failed]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"ledger_sum_fen": 1}, "ledger sums to zero"),
        ({"pending_holds": 2}, "every deposit resolved"),
        ({"states": {11: "awaiting_payment", 12: "sold"}}, "the default once"),
    ],
)
def test_the_books_fail_their_checks(change: dict[str, Any], failed: str) -> None:
    workload, stored = _clean()

    assert _failed(workload, replace(stored, **change)) == [failed]
