"""Earn-outs back into their source cases: a pool's revenue (auction.operation.revenue) sends each
earning asset's share to its case, where it pays the remaining claim first, shared among the loan's
holders by share_ppm, then the pledgor's surplus (auction.operation.rules.revenue.claim_then_surplus).

Set-based for a pool of thousands: the cases and loans are read as columns and locked in one
statement each (id order, after the pool), the holders read in one, the splits computed in Python
on those rows, and the writes are one statement each: the cases' and loans' new figures, every
ledger movement (one per payee account) in one bulk write, every line in one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select

from auction.disposal.models import DisposalCase
from auction.disposal.rules.waterfall import DEFAULT_RECOVERY_ORDER, Part
from auction.operation import revenue
from auction.operation.models import PoolRevenue
from auction.operation.rules.revenue import claim_then_surplus
from transfer import ledger
from transfer.compensation import clearing as compensation
from transfer.kernel.bulk import update_rows
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.loans import IncomeRight, Loan

CLAIM = "earn_out_claim"
SURPLUS = "earn_out_surplus"


@dataclass(slots=True)
class _Case:
    id: int
    loan_id: int
    shortfall_fen: int | None
    surplus_fen: int | None
    changed: bool = False


@dataclass(slots=True)
class _Loan:
    id: int
    outstanding_principal_fen: int
    remaining_claim_fen: int | None
    changed: bool = False


async def _locked(unit: UnitOfWork, case_ids: list[int]) -> tuple[dict[int, _Case], dict[int, _Loan]]:
    """The earning cases and their loans, locked in id order (cases first, as everywhere)."""
    dialect = (await unit.session.connection()).dialect.name
    cases_query = (
        select(DisposalCase.id, DisposalCase.loan_id, DisposalCase.shortfall_fen, DisposalCase.surplus_fen)
        .where(DisposalCase.id.in_(case_ids))
        .order_by(DisposalCase.id)
    )
    if dialect == "postgresql":
        cases_query = cases_query.with_for_update()
    cases = {row[0]: _Case(*row) for row in (await unit.session.execute(cases_query)).all()}
    loan_ids = sorted({case.loan_id for case in cases.values()})
    loans_query = (
        select(Loan.id, Loan.outstanding_principal_fen, Loan.remaining_claim_fen)
        .where(Loan.id.in_(loan_ids))
        .order_by(Loan.id)
    )
    if dialect == "postgresql":
        loans_query = loans_query.with_for_update()
    loans = {row[0]: _Loan(*row) for row in (await unit.session.execute(loans_query)).all()}
    return cases, loans


async def _holders(unit: UnitOfWork, loan_ids: list[int]) -> dict[int, list[tuple[int, int, int]]]:
    """Per loan: (holder id, share_ppm, available account id), in holder order."""
    rows = await unit.session.execute(
        select(IncomeRight.loan_id, IncomeRight.holder_id, IncomeRight.share_ppm, Account.id)
        .join(Account, Account.participant_id == IncomeRight.holder_id)
        .where(IncomeRight.loan_id.in_(loan_ids), Account.code == ledger.AVAILABLE)
        .order_by(IncomeRight.loan_id, IncomeRight.holder_id)
    )
    by_loan: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for loan_id, holder_id, share_ppm, account_id in rows.all():
        by_loan[loan_id].append((holder_id, share_ppm, account_id))
    return by_loan


def principal_part_fen(
    paid_fen: int, remaining_claim_fen: int, outstanding_principal_fen: int, recovery_order: Sequence[Part]
) -> int:
    """How much of an earn-out's payment of the remaining claim is principal: the claim is paid in
    the recovery order, the loan's outstanding principal is the principal's remainder and the rest
    of the remaining claim stands for the other parts, paid first unless principal leads the order."""
    principal_fen = min(outstanding_principal_fen, remaining_claim_fen)
    if recovery_order[0] == Part.PRINCIPAL:
        return min(paid_fen, principal_fen)
    return min(principal_fen, max(0, paid_fen - (remaining_claim_fen - principal_fen)))


@dataclass
class _Split:
    """What one revenue's earn-outs do inside their cases, gathered before any write."""

    lines: list[dict[str, Any]]
    credits_fen: dict[int, int]
    per_case_fen: dict[int, int]


def _split_into_cases(
    due: Sequence[revenue.EarnOutDue],
    cases: dict[int, _Case],
    loans: dict[int, _Loan],
    holders: dict[int, list[tuple[int, int, int]]],
    pledgor_account: int,
    recovery_order: Sequence[Part],
) -> _Split:
    """Each earn-out, in asset order, against its case's claim as the earlier ones left it."""
    split = _Split([], defaultdict(int), defaultdict(int))
    for one in due:
        case = cases[one.case_id]
        loan = loans[case.loan_id]
        owed = holders[loan.id]
        remaining_fen = loan.remaining_claim_fen or 0
        parts = claim_then_surplus(one.amount_fen, remaining_fen, [share_ppm for _, share_ppm, _ in owed])
        why = f"earn-out {one.share_bps} bps of asset {one.asset_id}'s revenue to disposal case {case.id}"
        for (holder_id, share_ppm, account_id), amount_fen in zip(owed, parts.holder_fen, strict=True):
            if amount_fen:
                split.credits_fen[account_id] += amount_fen
                split.lines.append(
                    _line(
                        CLAIM,
                        one,
                        case.id,
                        holder_id,
                        amount_fen,
                        f"{why}: its remaining claim by {share_ppm} ppm",
                    )
                )
        if parts.surplus_fen:
            split.credits_fen[pledgor_account] += parts.surplus_fen
            split.lines.append(
                _line(
                    SURPLUS,
                    one,
                    case.id,
                    None,
                    parts.surplus_fen,
                    f"{why}: the claim is paid, the pledgor's surplus",
                )
            )
            case.surplus_fen = (case.surplus_fen or 0) + parts.surplus_fen
            case.changed = True
        if parts.claim_fen:
            loan.outstanding_principal_fen -= principal_part_fen(
                parts.claim_fen, remaining_fen, loan.outstanding_principal_fen, recovery_order
            )
            loan.remaining_claim_fen = remaining_fen - parts.claim_fen
            loan.changed = True
            if case.shortfall_fen is not None:
                case.shortfall_fen -= parts.claim_fen
                case.changed = True
        split.per_case_fen[case.id] += one.amount_fen
    return split


async def book_revenue(
    unit: UnitOfWork,
    pool_id: int,
    agency_id: int,
    spec: revenue.RevenueSpec,
    recovery_order: Sequence[Part] = DEFAULT_RECOVERY_ORDER,
) -> PoolRevenue:
    """Book the revenue and pay every earn-out into its case, in this one transaction. Principal an
    earn-out recovers lowers the loan's outstanding principal, and the compensation funds that
    cleared on the case take their share of it back (a clawback)."""
    booked = await revenue.book(unit, pool_id, agency_id, spec)
    movements = list(booked.movements)
    split = _Split([], {}, {})
    loan_ids: list[int] = []
    if booked.due:
        cases, loans = await _locked(unit, sorted({one.case_id for one in booked.due}))
        loan_ids = sorted(loans)
        pledgor_account = await ledger.account_id(
            unit.session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        )
        split = _split_into_cases(
            booked.due, cases, loans, await _holders(unit, loan_ids), pledgor_account, recovery_order
        )
        await update_rows(
            unit.session,
            cast(Table, DisposalCase.__table__),
            "id",
            [
                {"id": case.id, "shortfall_fen": case.shortfall_fen, "surplus_fen": case.surplus_fen}
                for case in cases.values()
                if case.changed
            ],
        )
        await update_rows(
            unit.session,
            cast(Table, Loan.__table__),
            "id",
            [
                {
                    "id": loan.id,
                    "outstanding_principal_fen": loan.outstanding_principal_fen,
                    "remaining_claim_fen": loan.remaining_claim_fen,
                }
                for loan in loans.values()
                if loan.changed
            ],
        )
        movements.extend(
            ledger.Movement(
                f"pool_revenue:{booked.revenue.id}:to:{account_id}",
                booked.pool_account_id,
                account_id,
                split.credits_fen[account_id],
                "pool_earn_out",
                booked.revenue.reference,
            )
            for account_id in sorted(split.credits_fen)
        )
    await ledger.post_movements(unit, movements)
    await revenue.write_lines(unit, booked, split.lines)
    if loan_ids:
        await _claw_back(unit, loan_ids)
    unit.record(
        "pool.revenue_booked",
        f"pool:{pool_id}",
        {
            "revenue_id": booked.revenue.id,
            "amount_fen": booked.revenue.amount_fen,
            "reference": booked.revenue.reference,
            "license_id": booked.revenue.license_id,
            "agency_fen": booked.revenue.agency_fen,
            "earn_out_fen": booked.revenue.earn_out_fen,
            "earn_outs_by_case": sorted(split.per_case_fen.items()),
        },
    )
    return booked.revenue


async def _claw_back(unit: UnitOfWork, loan_ids: list[int]) -> None:
    """The funds that cleared on these loans take their share of what was recovered back. Only the
    loans with a fund's enrolment are loaded as entities (fresh: their figures were just written
    by a statement)."""
    enrolled = await compensation.cleared_loan_ids(unit, loan_ids)
    if not enrolled:
        return
    loans = (
        await unit.session.execute(
            select(Loan)
            .where(Loan.id.in_(enrolled))
            .order_by(Loan.id)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    await compensation.clear_on_end(unit, list(loans))


def _line(
    part: str, due: revenue.EarnOutDue, case_id: int, payee_id: int | None, amount_fen: int, rule: str
) -> dict[str, Any]:
    return {
        "part": part,
        "asset_id": due.asset_id,
        "case_id": case_id,
        "payee_id": payee_id,
        "amount_fen": amount_fen,
        "rule": rule[:200],
    }
