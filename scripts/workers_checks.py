"""The verdicts of scripts/workers: what the database holds against what the clients saw.

Each check is a name, passed or not, and a line of detail; the run fails if any does not pass.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from app.db import Database
from auction.models import Auction, Bid
from scripts.workers_load import FINAL_EVENTS, Workload
from transfer import ledger
from transfer.kernel.audit_tables import AuditEvent
from transfer.models import LedgerTransfer


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Stored:
    states: dict[int, str]
    last_sequences: dict[int, int]
    bid_sequences: dict[int, list[int]]
    # (audit event type, auction id) -> how many
    audit_counts: Counter[tuple[str, int]]
    bid_audit_sequences: dict[int, list[int]]
    ledger_sum_fen: int
    pending_holds: int


async def read_stored(database: Database, auction_ids: list[int]) -> Stored:
    async with database.read() as session:
        lots = (await session.execute(select(Auction).where(Auction.id.in_(auction_ids)))).scalars().all()
        bids = (
            await session.execute(
                select(Bid.auction_id, Bid.sequence)
                .where(Bid.auction_id.in_(auction_ids))
                .order_by(Bid.sequence)
            )
        ).all()
        subjects = [f"auction:{i}" for i in auction_ids]
        events = (
            await session.execute(
                select(AuditEvent.type, AuditEvent.subject, AuditEvent.payload)
                .where(AuditEvent.subject.in_(subjects))
                .order_by(AuditEvent.id)
            )
        ).all()
        ledger_sum_fen = await ledger.ledger_sum_fen(session)
        pending_holds = (
            await session.execute(
                select(func.count())
                .select_from(LedgerTransfer)
                .where(LedgerTransfer.pending_status == "pending")
            )
        ).scalar_one()
    bid_sequences: dict[int, list[int]] = defaultdict(list)
    for auction_id, sequence in bids:
        bid_sequences[auction_id].append(sequence)
    audit_counts: Counter[tuple[str, int]] = Counter()
    bid_audit_sequences: dict[int, list[int]] = defaultdict(list)
    for kind, subject, payload in events:
        auction_id = int(subject.split(":", 1)[1])
        audit_counts[(kind, auction_id)] += 1
        if kind == "auction.bid":
            bid_audit_sequences[auction_id].append(json.loads(payload)["sequence"])
    return Stored(
        {lot.id: lot.state for lot in lots},
        {lot.id: lot.last_sequence for lot in lots},
        dict(bid_sequences),
        audit_counts,
        dict(bid_audit_sequences),
        ledger_sum_fen,
        int(pending_holds),
    )


def judge(workload: Workload, stored: Stored) -> list[Check]:
    return [
        _closed_once(workload, stored),
        _paid_once(workload, stored),
        _defaulted_once(workload, stored),
        _bids_stored_once(workload, stored),
        _watchers_saw_every_bid_once_in_order(workload, stored),
        _no_server_errors(workload),
        Check("ledger sums to zero", stored.ledger_sum_fen == 0, f"sum {stored.ledger_sum_fen} fen"),
        Check("every deposit resolved", stored.pending_holds == 0, f"{stored.pending_holds} holds pending"),
    ]


def _closed_once(workload: Workload, stored: Stored) -> Check:
    counts = {i: stored.audit_counts[("auction.closed", i)] for i in workload.auction_ids}
    wrong = {i: n for i, n in counts.items() if n != 1}
    return Check("each auction closed once", not wrong, f"{len(counts)} lots; not once: {wrong or 'none'}")


def _paid_once(workload: Workload, stored: Stored) -> Check:
    paying = [i for i in workload.auction_ids if i != workload.defaulting_auction_id]
    problems: list[str] = []
    for auction_id in paying:
        statuses = sorted(status for _, status in workload.payments.get(auction_id, []))
        paid = stored.audit_counts[("auction.paid", auction_id)]
        if statuses != [201, 409] or paid != 1 or stored.states.get(auction_id) != "sold":
            problems.append(
                f"lot {auction_id}: answers {statuses}, paid {paid}×, {stored.states.get(auction_id)}"
            )
    services = sorted({s for pair in workload.payments.values() for s, status in pair if status == 201})
    detail = (
        f"{len(paying)} lots paid, each sent twice at once (201 + 409); accepted through services {services}"
    )
    return Check("each payment once", not problems, "; ".join(problems) or detail)


def _defaulted_once(workload: Workload, stored: Stored) -> Check:
    counts = {i: stored.audit_counts[("auction.defaulted", i)] for i in workload.auction_ids}
    expected = {i: int(i == workload.defaulting_auction_id) for i in workload.auction_ids}
    state = stored.states.get(workload.defaulting_auction_id)
    passed = counts == expected and state == "defaulted"
    return Check(
        "the default once",
        passed,
        f"lot {workload.defaulting_auction_id} {state}; defaults per lot {counts}",
    )


def _bids_stored_once(workload: Workload, stored: Stored) -> Check:
    problems: list[str] = []
    answered: dict[int, list[int]] = defaultdict(list)
    for _, auction_id, sequence in workload.accepted:
        answered[auction_id].append(sequence)
    for auction_id in workload.auction_ids:
        expected = list(range(1, stored.last_sequences[auction_id] + 1))
        if stored.bid_sequences.get(auction_id, []) != expected:
            problems.append(f"lot {auction_id}: bid rows not 1..{len(expected)}")
        if stored.bid_audit_sequences.get(auction_id, []) != expected:
            problems.append(f"lot {auction_id}: audit bid events not 1..{len(expected)}")
        if sorted(answered[auction_id]) != expected:
            problems.append(
                f"lot {auction_id}: {len(answered[auction_id])} answered 201, {len(expected)} stored"
            )
    by_service = Counter(service for service, _, _ in workload.accepted)
    detail = f"{len(workload.accepted)} accepted; by service {dict(sorted(by_service.items()))}"
    return Check("every accepted bid stored once", not problems, "; ".join(problems) or detail)


def _watchers_saw_every_bid_once_in_order(workload: Workload, stored: Stored) -> Check:
    problems: list[str] = []
    for watcher in workload.watchers:
        where = f"watcher of lot {watcher.auction_id} on service {watcher.service}"
        if watcher.error is not None:
            problems.append(f"{where}: {watcher.error}")
            continue
        names = [name for name, _ in watcher.events]
        sequences = [payload["sequence"] for name, payload in watcher.events if name == "bid"]
        expected = list(range(1, stored.last_sequences[watcher.auction_id] + 1))
        final = "defaulted" if watcher.auction_id == workload.defaulting_auction_id else "sold"
        if sequences != expected:
            problems.append(f"{where}: {_first_difference(sequences, expected)}")
        if names.count("closed") != 1 or (
            "bid" in names and names.index("closed") < len(names) - 1 - names[::-1].index("bid")
        ):
            problems.append(f"{where}: 'closed' not once after the last bid")
        if not names or names[-1] != final or sum(n in FINAL_EVENTS for n in names) != 1:
            problems.append(f"{where}: ends {names[-1:]} instead of one {final!r}")
    events = sum(len(w.events) for w in workload.watchers)
    detail = f"{len(workload.watchers)} watchers, {events} events"
    return Check("each watcher saw every bid once, in order", not problems, "; ".join(problems[:5]) or detail)


def _first_difference(seen: list[int], expected: list[int]) -> str:
    for index, (got, want) in enumerate(zip(seen, expected, strict=False)):
        if got != want:
            return f"bid #{index + 1} was sequence {got}, expected {want} ({len(seen)} seen, {len(expected)} stored)"
    return f"{len(seen)} bid events seen, {len(expected)} stored"


def _no_server_errors(workload: Workload) -> Check:
    errors = sum(n for (_, status), n in workload.answers.items() if status >= 500)
    statuses = Counter[int]()
    for (_, status), n in workload.answers.items():
        statuses[status] += n
    return Check("no server errors", errors == 0, f"bid answers {dict(sorted(statuses.items()))}")
