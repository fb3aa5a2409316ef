"""Earn-outs back into their source cases: a pool's revenue (auction.operation.revenue) sends each
earning asset's share to its case, where it pays the remaining claim first, shared among the loan's
holders by share_ppm, then the pledgor's surplus (auction.operation.rules.revenue.claim_then_surplus).

Set-based for a pool of thousands: the cases and loans are locked in one statement each (id order,
after the pool), the holders read in one, and the ledger moves once per payee account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from auction.disposal.models import DisposalCase
from auction.disposal.rules.waterfall import DEFAULT_RECOVERY_ORDER, Part
from auction.operation import revenue
from auction.operation.models import PoolRevenue
from auction.operation.rules.revenue import claim_then_surplus
from transfer import ledger
from transfer.compensation import clearing as compensation
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account
from transfer.models.loans import IncomeRight, Loan

CLAIM = "earn_out_claim"
SURPLUS = "earn_out_surplus"


async def _locked_cases(
    unit: UnitOfWork, case_ids: list[int]
) -> tuple[dict[int, DisposalCase], dict[int, Loan]]:
    cases = {
        case.id: case
        for case in (
            await unit.session.execute(
                select(DisposalCase)
                .where(DisposalCase.id.in_(case_ids))
                .order_by(DisposalCase.id)
                .with_for_update()
            )
        ).scalars()
    }
    loan_ids = sorted({case.loan_id for case in cases.values()})
    loans = {
        loan.id: loan
        for loan in (
            await unit.session.execute(
                select(Loan).where(Loan.id.in_(loan_ids)).order_by(Loan.id).with_for_update()
            )
        ).scalars()
    }
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
    lines: list[dict[str, Any]] = []
    credits_fen: dict[int, int] = defaultdict(int)
    per_case_fen: dict[int, int] = defaultdict(int)
    if booked.due:
        cases, loans = await _locked_cases(unit, sorted({due.case_id for due in booked.due}))
        holders = await _holders(unit, sorted(loans))
        pledgor_account = await ledger.account_id(
            unit.session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        )
        for due in booked.due:
            case = cases[due.case_id]
            loan = loans[case.loan_id]
            owed = holders[loan.id]
            remaining_fen = loan.remaining_claim_fen or 0
            split = claim_then_surplus(due.amount_fen, remaining_fen, [share_ppm for _, share_ppm, _ in owed])
            why = f"earn-out {due.share_bps} bps of asset {due.asset_id}'s revenue to disposal case {case.id}"
            for (holder_id, share_ppm, account_id), amount_fen in zip(owed, split.holder_fen, strict=True):
                if amount_fen:
                    credits_fen[account_id] += amount_fen
                    lines.append(
                        _line(
                            CLAIM,
                            due,
                            case.id,
                            holder_id,
                            amount_fen,
                            f"{why}: its remaining claim by {share_ppm} ppm",
                        )
                    )
            if split.surplus_fen:
                credits_fen[pledgor_account] += split.surplus_fen
                lines.append(
                    _line(
                        SURPLUS,
                        due,
                        case.id,
                        None,
                        split.surplus_fen,
                        f"{why}: the claim is paid, the pledgor's surplus",
                    )
                )
                case.surplus_fen = (case.surplus_fen or 0) + split.surplus_fen
            loan.outstanding_principal_fen -= principal_part_fen(
                split.claim_fen, remaining_fen, loan.outstanding_principal_fen, recovery_order
            )
            loan.remaining_claim_fen = remaining_fen - split.claim_fen
            if case.shortfall_fen is not None:
                case.shortfall_fen -= split.claim_fen
            per_case_fen[case.id] += due.amount_fen
    for account_id in sorted(credits_fen):
        await ledger.post_transfer(
            unit,
            f"pool_revenue:{booked.revenue.id}:to:{account_id}",
            debit_account_id=booked.pool_account_id,
            credit_account_id=account_id,
            amount_fen=credits_fen[account_id],
            code="pool_earn_out",
            reference=booked.revenue.reference,
        )
    await revenue.write_lines(unit, booked, lines)
    if booked.due:
        await compensation.clear_on_end(unit, [loans[loan_id] for loan_id in sorted(loans)])
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
            "earn_outs_by_case": sorted(per_case_fen.items()),
        },
    )
    return booked.revenue


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
