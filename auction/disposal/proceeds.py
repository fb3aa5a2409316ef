"""Where a case's proceeds go: the waterfall over the claim, the delivery, the shortfall, the surplus.

The proceeds (the price and the deposits forfeited by defaulting winners) wait in escrow; one
transaction splits them over the claim's parts in the recovery order (民法典第561条) among the loan's
holders by share, pays each line from escrow, delivers the collateral to the buyer (or releases it),
and writes the waterfall table, whose lines add up to the proceeds exactly (the surplus is paid out
by auction.disposal.surplus). A winner's payment
leaves its case `settling`, and the scheduler splits paid cases a batch at a time (settle_paid);
a take-in-payment, a cure and a release end their case at once, through the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, or_, select

from auction.disposal.cases import CaseState, Outcome
from auction.disposal.models import DisposalCase, WaterfallLine
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds_facts import read_facts
from auction.disposal.rules.waterfall import Claim, Part, Waterfall, waterfall
from transfer import ledger
from transfer.annuities.escrow_close import close_escrows
from transfer.compensation import clearing as compensation
from transfer.kernel.bulk import insert_rows
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import Loan
from transfer.registry.collateral import (
    DELIVERED,
    RELEASED,
    Delivery,
    deliver_collateral_of,
    release_pledges_of,
)

# Paid cases split in one transaction by the scheduler.
SETTLE_BATCH_SIZE = 500


def claim_of(case: DisposalCase, loan: Loan, *, cured: bool = False) -> Claim:
    """The claim as it stands now: interest lowered by interest collected since the default, the
    principal by principal collected (the outstanding principal). A cured loan owes only costs."""
    if cured:
        return Claim(costs_fen=case.costs_fen, interest_fen=0, principal_fen=0)
    interest_fen = max(0, case.interest_fen + case.penalty_interest_fen - case.interest_repaid_fen)
    return Claim(
        costs_fen=case.costs_fen,
        interest_fen=interest_fen,
        principal_fen=min(case.principal_fen, loan.outstanding_principal_fen),
    )


@dataclass(frozen=True, slots=True)
class Ending:
    """How a case with this outcome ends: the state it ends in, its audit event, and what becomes
    of the collateral (delivered to the buyer, released to the pledgor, or left: a cure released it)."""

    state: CaseState
    event: str
    collateral: str | None
    price_counts: bool


ENDINGS = {
    Outcome.SOLD: Ending(CaseState.SETTLED, "disposal.settled", DELIVERED, True),
    Outcome.TAKEN_IN_PAYMENT: Ending(CaseState.SETTLED, "disposal.settled", DELIVERED, True),
    Outcome.BOUGHT_OUT: Ending(CaseState.SETTLED, "disposal.settled", DELIVERED, True),
    Outcome.UNSOLD: Ending(CaseState.RELEASED, "disposal.released", RELEASED, False),
    Outcome.CURED: Ending(CaseState.CURED, "disposal.cured", None, False),
}


def _ending(case: DisposalCase) -> Ending:
    assert case.outcome is not None, f"disposal case {case.id} ends without an outcome"
    return ENDINGS[Outcome(case.outcome)]


def mark_sold(
    unit: UnitOfWork, case: DisposalCase, buyer_id: int, price_fen: int, outcome: Outcome = Outcome.SOLD
) -> None:
    """The buyer paid: the price is in escrow and the case waits, `settling`, for its split."""
    case.price_fen = price_fen
    case.buyer_id = buyer_id
    case.outcome = outcome.value
    case.state = CaseState.SETTLING.value
    case.deadline_at = None
    unit.record(
        "disposal.paid",
        f"disposal:{case.id}",
        {"buyer_id": buyer_id, "price_fen": price_fen, "outcome": outcome.value},
    )


async def settle_sale(
    unit: UnitOfWork,
    case: DisposalCase,
    buyer_id: int,
    price_fen: int,
    policy: DisposalPolicy,
    *,
    outcome: Outcome = Outcome.SOLD,
) -> Waterfall:
    """The price is in escrow (the creditor taking the collateral in payment paid it just now, say):
    split it with the forfeited deposits and deliver the collateral, now."""
    mark_sold(unit, case, buyer_id, price_fen, outcome)
    return (await end_cases(unit, [case], policy))[case.id]


async def release_unsold(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> Waterfall:
    """Nobody bought: the pledges are released, the claim stays against the debtor, and any
    forfeited deposits are split as proceeds."""
    case.outcome = Outcome.UNSOLD.value
    return (await end_cases(unit, [case], policy))[case.id]


async def settle_cured(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> Waterfall:
    """The loan was repaid in full: forfeited deposits pay the creditor's costs, the rest is the
    pledgor's. The repayment itself released the pledges."""
    case.outcome = Outcome.CURED.value
    return (await end_cases(unit, [case], policy))[case.id]


def settling(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Paid cases waiting for their split (one set aside after a failed split waits for its retry)."""
    return and_(
        DisposalCase.state == CaseState.SETTLING.value,
        or_(DisposalCase.deadline_at.is_(None), DisposalCase.deadline_at <= now),
    )


async def settle_paid(
    unit: UnitOfWork, policy: DisposalPolicy, limit: int = SETTLE_BATCH_SIZE, case_id: int | None = None
) -> int:
    """Split the proceeds of up to `limit` paid cases (or of the one case `case_id`) in this one
    transaction; returns how many.

    Payments leave their cases `settling`: a session's payments come in a burst, and one batch of
    waterfalls writes its ledger lines, table rows and deliveries in a few statements, where a
    split in each payment would write them one by one. On PostgreSQL a case another process is
    splitting is skipped, not waited for."""
    query = select(DisposalCase).where(settling(unit.now))
    if case_id is not None:
        query = query.where(DisposalCase.id == case_id)
    query = (
        query.order_by(DisposalCase.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    cases = list((await unit.session.execute(query)).scalars())
    await end_cases(unit, cases, policy)
    return len(cases)


async def settling_case_ids(unit: UnitOfWork, limit: int = SETTLE_BATCH_SIZE) -> list[int]:
    rows = await unit.session.execute(
        select(DisposalCase.id).where(settling(unit.now)).order_by(DisposalCase.id).limit(limit)
    )
    return list(rows.scalars())


async def end_cases(
    unit: UnitOfWork, cases: Sequence[DisposalCase], policy: DisposalPolicy
) -> dict[int, Waterfall]:
    """End each case (locked by the caller) as its outcome says: its proceeds split over the claim
    in the recovery order among the loan's holders, each line paid from escrow, the waterfall table
    written, the collateral delivered or released, the loan's claim brought up to date."""
    if not cases:
        return {}
    facts = await read_facts(unit, cases)
    splits: dict[int, Waterfall] = {}
    movements: list[ledger.Movement] = []
    lines: list[dict[str, object]] = []
    for case in sorted(cases, key=lambda c: c.id):
        ending = _ending(case)
        loan = facts.loans[case.loan_id]
        proceeds_fen = case.forfeited_deposits_fen + ((case.price_fen or 0) if ending.price_counts else 0)
        split = waterfall(
            proceeds_fen,
            claim_of(case, loan, cured=ending.state == CaseState.CURED),
            facts.holders.get(loan.id, []),
            policy.recovery_order,
            case.creditor_id,
            facts.names[case.creditor_id],
            pledgor_name=case.pledgor_name,
        )
        splits[case.id] = split
        movements.extend(facts.movements(case, split))
        lines.extend(_table_rows(case, split))
        case.shortfall_fen = split.shortfall_fen
        case.surplus_fen = split.surplus_fen
        loan.outstanding_principal_fen -= split.paid_by_part.get(Part.PRINCIPAL, 0)
        loan.remaining_claim_fen = None if ending.state == CaseState.CURED else split.shortfall_fen
        _end(unit, case, ending.state)
        _record(unit, case, split, ending.event)
    await ledger.post_movements(unit, movements)
    await insert_rows(unit.session, cast(Table, WaterfallLine.__table__), lines)
    await _collateral(unit, cases)
    # The pledges have ended: what each loan's annuity escrow holds goes back (its creditors'
    # unspent money now, the enterprise's once clearing pays it out).
    await close_escrows(unit, sorted({case.loan_id for case in cases}))
    # The funds' final clearing, on the principal the waterfall (or a cure) recovered.
    await compensation.clear_on_end(unit, [facts.loans[case.loan_id] for case in cases])
    return splits


def _table_rows(case: DisposalCase, split: Waterfall) -> list[dict[str, object]]:
    return [
        {
            "case_id": case.id,
            "line": line.line,
            "part": str(line.part),
            "payee_id": line.payee_id,
            "payee_name": line.payee_name,
            "amount_fen": line.amount_fen,
            "rule": line.rule,
        }
        for line in split.lines
    ]


async def _collateral(unit: UnitOfWork, cases: Sequence[DisposalCase]) -> None:
    deliveries = {}
    released = []
    for case in cases:
        ending = _ending(case)
        if ending.collateral == DELIVERED:
            assert case.buyer_id is not None
            deliveries[case.loan_id] = Delivery(case.buyer_id, f"disposal:{case.id}")
        elif ending.collateral == RELEASED:
            released.append(case.loan_id)
    await deliver_collateral_of(unit, deliveries)
    await release_pledges_of(unit, sorted(released), RELEASED)


def _record(unit: UnitOfWork, case: DisposalCase, split: Waterfall, event: str) -> None:
    unit.record(
        event,
        f"disposal:{case.id}",
        {
            "loan_id": case.loan_id,
            "outcome": case.outcome,
            "buyer_id": case.buyer_id,
            "price_fen": case.price_fen,
            "forfeited_deposits_fen": case.forfeited_deposits_fen,
            "lines": [[line.line, str(line.part), line.payee_id, line.amount_fen] for line in split.lines],
            "shortfall_fen": split.shortfall_fen,
            "surplus_fen": split.surplus_fen,
        },
    )


def _end(unit: UnitOfWork, case: DisposalCase, state: CaseState) -> None:
    case.state = state.value
    case.deadline_at = None
    case.ended_at = unit.now
